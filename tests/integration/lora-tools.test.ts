import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LoraJob } from '../../core/api/domains/lora'
import { ApiError } from '../../core/api/errors'
import { createServices, type Services } from '../../electron/services'
import { runCliCaptured } from '../helpers/cli'
import { writeLora, trainingMetadata, loraTensors } from '../helpers/lora'
import { safetensorsBytes } from '../helpers/safetensors'
import { caller, makeLoraWorld, useWorld } from './lora-helpers'
import { repoRoot, type TrainingWorld } from './training-helpers'

/*
 * The LoRA tools through the services with real processes: an existing-install environment (real venv)
 * whose networks/ holds stand-ins with sd-scripts' command lines and output (tests/fixtures/lora-scripts),
 * small generated LoRA files, and the job runner's pty. The real scripts run in lora-real-scripts.test.ts.
 */

let w: TrainingWorld
let services: Services
const call = caller(() => services)
let dir: string

beforeAll(async () => {
  w = makeLoraWorld()
  services = createServices({ dataDir: w.dataDir, mode: 'headless', env: process.env, version: 'test' })
  await useWorld(services, w)
  dir = path.join(w.root, 'loras')
  mkdirSync(dir)
}, 120_000)

afterAll(async () => {
  await services?.dispose()
})

async function run(input: Record<string, unknown>): Promise<LoraJob> {
  const job = await call('lora.run', input)
  expect(job.state).toMatch(/queued|running/)
  return services.lora.jobs.waitFor(job.id)
}

const leftovers = (d: string) => readdirSync(d).filter((f) => f.includes('.partial-'))

describe('lora.inspect', () => {
  it('reads a generated SDXL LoRA with its metadata and training settings', async () => {
    const file = writeLora(path.join(dir, 'cat.safetensors'), {
      rank: 16,
      alpha: 8,
      metadata: trainingMetadata({ ss_network_dim: '16', ss_network_alpha: '8.0' }),
    })
    const r = await call('lora.inspect', { file })
    expect(r).toMatchObject({ file, network: 'lora', rank: 16, alpha: 8, modules: 8, base: 'sdxl' })
    expect(r.training.config.optimizer.type).toBe('AdamW8bit')
    expect(r.size_bytes).toBeGreaterThan(1000)
  })

  it('refuses what is not a LoRA file with a message naming it', async () => {
    const bad = path.join(dir, 'broken.safetensors')
    writeFileSync(bad, 'not a safetensors file at all')
    await expect(call('lora.inspect', { file: bad })).rejects.toThrow(
      /broken\.safetensors is not a usable \.safetensors file/,
    )
    await expect(call('lora.inspect', { file: path.join(dir, 'nope.safetensors') })).rejects.toThrow(
      /File not found/,
    )
    await expect(call('lora.inspect', { file: dir })).rejects.toThrow(/is a folder/)
    await expect(call('lora.inspect', { file: '' })).rejects.toMatchObject({ code: 'bad_request' })
  })
})

describe('resize (resize_lora.py)', () => {
  it('lowers the rank: inspect before and after; alpha keeps the scale; metadata says the new rank', async () => {
    const model = writeLora(path.join(dir, 'r16.safetensors'), {
      rank: 16,
      alpha: 8,
      metadata: trainingMetadata({ ss_network_dim: '16', ss_network_alpha: '8' }),
    })
    const before = await call('lora.inspect', { file: model })
    expect(before.rank).toBe(16)
    const save_to = path.join(dir, 'r16-to-4.safetensors')
    const job = await run({ tool: 'resize', model, save_to, new_rank: 4 })
    expect(job, job.reason ?? '').toMatchObject({ state: 'finished', exit_code: 0, output: save_to })
    expect(job.progress).toMatchObject({ step: 8, total: 8 })
    const after = await call('lora.inspect', { file: save_to })
    expect(after).toMatchObject({ network: 'lora', rank: 4, alpha: 2, modules: before.modules })
    expect(after.weights).toMatchObject({ rank_min: 4, rank_max: 4 })
    expect(after.metadata.ss_network_dim).toBe('4')
    expect(after.metadata.ss_training_comment).toContain('dimension is resized from 16 to 4')
    expect(job.result).toMatchObject({ rank: 4, alpha: 2 })
    expect(leftovers(dir)).toEqual([])
    const log = await call('lora.log', { id: job.id })
    expect(log.text).toContain('resizing complete')
  })

  it('dynamic (sv_fro): ranks per module at most the limit; metadata "Dynamic"', async () => {
    const model = writeLora(path.join(dir, 'd16.safetensors'), { rank: 16, alpha: 16 })
    const save_to = path.join(dir, 'd16-dyn.safetensors')
    const job = await run({
      tool: 'resize',
      model,
      save_to,
      new_rank: 8,
      dynamic_method: 'sv_fro',
      dynamic_param: 0.9,
    })
    expect(job.state, job.reason ?? '').toBe('finished')
    const after = await call('lora.inspect', { file: save_to })
    expect(after.metadata).toMatchObject({ ss_network_dim: 'Dynamic', ss_network_alpha: 'Dynamic' })
    expect(after.weights.rank_max).toBeLessThanOrEqual(8)
    expect(after.weights.uniform_rank).toBe(false)
    expect(after.rank).toBe(after.weights.rank_max)
  })

  it('is refused before starting: LoHa, a rank not lower, an existing output; no job is made', async () => {
    const loha = writeLora(path.join(dir, 'loha.safetensors'), { kind: 'loha', rank: 8 })
    const jobsBefore = (await call('lora.jobs', {})).length
    const err = await call('lora.run', {
      tool: 'resize',
      model: loha,
      save_to: path.join(dir, 'x.safetensors'),
      new_rank: 4,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).details).toMatchObject({
      kind: 'tool_invalid',
      problems: [{ code: 'unsupported_network' }],
    })
    const r8 = writeLora(path.join(dir, 'r8.safetensors'), { rank: 8 })
    const check = await call('lora.check', { tool: 'resize', model: r8, save_to: r8, new_rank: 8 })
    expect(check.ok).toBe(false)
    expect(check.problems.map((p) => p.code)).toEqual(['rank_not_lower', 'output_is_input', 'output_exists'])
    expect(check.display).toContain('resize_lora.py')
    expect((await call('lora.jobs', {})).length).toBe(jobsBefore)
  })

  it('a script that fails: the job fails with the error, no output, no partial file', async () => {
    // An alpha stored as 8-bit float: our inspection skips it, the script cannot read it.
    const tensors = loraTensors({ rank: 8 })
    tensors['lora_unet_middle_block_1_transformer_blocks_0_attn1_to_out_0.alpha'] = {
      dtype: 'F8_E4M3',
      shape: [],
      data: new Uint8Array([0x38]),
    }
    const model = path.join(dir, 'f8alpha.safetensors')
    writeFileSync(model, safetensorsBytes(tensors))
    const save_to = path.join(dir, 'f8alpha-4.safetensors')
    const job = await run({ tool: 'resize', model, save_to, new_rank: 4 })
    expect(job.state).toBe('failed')
    expect(job.reason).toMatch(/unsupported alpha dtype F8_E4M3/)
    expect(existsSync(save_to)).toBe(false)
    expect(leftovers(dir)).toEqual([])
  })
})

describe('merge (sdxl_merge_lora.py / svd_merge_lora.py)', () => {
  let a: string
  let b: string
  let c4: string
  beforeAll(() => {
    a = writeLora(path.join(dir, 'ma.safetensors'), { rank: 8, alpha: 4, seed: 3 })
    b = writeLora(path.join(dir, 'mb.safetensors'), { rank: 8, alpha: 4, seed: 4 })
    c4 = writeLora(path.join(dir, 'mc.safetensors'), { rank: 4, alpha: 4, seed: 5 })
  })

  it('sum of equal ranks: same rank, metadata and weights agree', async () => {
    const save_to = path.join(dir, 'sum.safetensors')
    const job = await run({
      tool: 'merge',
      mode: 'sum',
      models: [
        { file: a, ratio: 1 },
        { file: b, ratio: 0.5 },
      ],
      save_to,
    })
    expect(job.state, job.reason ?? '').toBe('finished')
    const r = await call('lora.inspect', { file: save_to })
    expect(r).toMatchObject({ rank: 8, alpha: 4, modules: 8, problems: [] })
    expect(r.metadata).toMatchObject({
      ss_network_dim: '8',
      ss_network_alpha: '4.0',
      ss_network_module: 'networks.lora',
    })
  })

  it('concat: ranks add up', async () => {
    const save_to = path.join(dir, 'concat.safetensors')
    const job = await run({ tool: 'merge', mode: 'concat', models: [{ file: a }, { file: c4 }], save_to })
    expect(job.state, job.reason ?? '').toBe('finished')
    expect(await call('lora.inspect', { file: save_to })).toMatchObject({
      rank: 12,
      weights: { rank_max: 12 },
    })
  })

  it('svd: any ranks in, the chosen rank out with alpha = rank', async () => {
    const save_to = path.join(dir, 'svd.safetensors')
    const job = await run({
      tool: 'merge',
      mode: 'svd',
      models: [{ file: a }, { file: c4, ratio: -0.5 }],
      save_to,
      new_rank: 6,
    })
    expect(job.state, job.reason ?? '').toBe('finished')
    expect(job.command.some((x) => x.endsWith('svd_merge_lora.py'))).toBe(true)
    const r = await call('lora.inspect', { file: save_to })
    expect(r).toMatchObject({ rank: 6, alpha: 6, weights: { rank_min: 6, rank_max: 6 } })
    expect(r.metadata.ss_network_dim).toBe('6')
  })

  it('sum of different ranks is refused with the way out (concat or SVD)', async () => {
    const err = await call('lora.run', {
      tool: 'merge',
      mode: 'sum',
      models: [{ file: a }, { file: c4 }],
      save_to: path.join(dir, 'no.safetensors'),
    }).catch((e: unknown) => e)
    expect((err as ApiError).message).toMatch(/different ranks.*Use "concat" or "SVD"/)
  })

  it('into a checkpoint: the output is an SDXL model, not a LoRA', async () => {
    const save_to = path.join(dir, 'baked.safetensors')
    const job = await run({
      tool: 'merge',
      mode: 'checkpoint',
      models: [{ file: a }],
      sd_model: w.model,
      save_to,
    })
    expect(job.state, job.reason ?? '').toBe('finished')
    expect(job.result).toBeNull()
    const model = await call('model.inspect', { path: save_to })
    expect(model).toMatchObject({ kind: 'sdxl_base' })
  })
})

describe('extract (extract_lora_from_models.py --sdxl)', () => {
  it('makes a LoRA of the chosen rank from two SDXL checkpoints', async () => {
    const tuned = path.join(dir, 'tuned.safetensors')
    copyFileSync(w.model, tuned)
    const save_to = path.join(dir, 'extracted.safetensors')
    const job = await run({ tool: 'extract', model_org: w.model, model_tuned: tuned, save_to, dim: 16 })
    expect(job.state, job.reason ?? '').toBe('finished')
    expect(job.command).toContain('--sdxl')
    expect(job.result).toMatchObject({ network: 'lora', rank: 16, alpha: 16, base: 'sdxl' })
  })

  it('refuses a LoRA given as a checkpoint', async () => {
    const a = writeLora(path.join(dir, 'notmodel.safetensors'), { rank: 4 })
    const check = await call('lora.check', {
      tool: 'extract',
      model_org: w.model,
      model_tuned: a,
      save_to: path.join(dir, 'e.safetensors'),
      dim: 4,
    })
    expect(check.problems.map((p) => p.code)).toEqual(['not_sdxl_model'])
  })
})

describe('stop, queue and jobs', () => {
  it('stop: the running script is interrupted, nothing is written; a queued job is removed', async () => {
    const slow = createServices({
      dataDir: path.join(w.root, 'data-slow'),
      mode: 'headless',
      env: { ...process.env, STANDIN_TOOL_DELAY: '0.5' },
      version: 'test',
    })
    try {
      await useWorld(slow, w)
      const c = caller(() => slow)
      const model = writeLora(path.join(dir, 'slow.safetensors'), { rank: 16 })
      const first = await c('lora.run', {
        tool: 'resize',
        model,
        save_to: path.join(dir, 'slow-4.safetensors'),
        new_rank: 4,
      })
      const second = await c('lora.run', {
        tool: 'resize',
        model,
        save_to: path.join(dir, 'slow-2.safetensors'),
        new_rank: 2,
      })
      expect(second.state).toBe('queued')
      // Wait until the first is really running (its bar has moved).
      await new Promise<void>((resolve) => {
        const off = slow.lora.jobs.onUpdate((u) => {
          if (u.job.id === first.id && u.job.progress && u.job.progress.step >= 1) {
            off()
            resolve()
          }
        })
      })
      expect((await c('lora.stop', { id: second.id })).state).toBe('stopped')
      await c('lora.stop', { id: first.id })
      const ended = await slow.lora.jobs.waitFor(first.id)
      expect(ended).toMatchObject({ state: 'stopped' })
      expect(existsSync(path.join(dir, 'slow-4.safetensors'))).toBe(false)
      expect(existsSync(path.join(dir, 'slow-2.safetensors'))).toBe(false)
      expect(leftovers(dir)).toEqual([])
      const list = await c('lora.jobs', {})
      expect(list.map((j) => j.state)).toEqual(['stopped', 'stopped'])
    } finally {
      await slow.dispose()
    }
  }, 60_000)

  it('jobs survive a restart; one left running by a dead app is marked failed', async () => {
    const dataDir = path.join(w.root, 'data-restart')
    const first = createServices({ dataDir, mode: 'headless', env: process.env, version: 'test' })
    await useWorld(first, w)
    const model = writeLora(path.join(dir, 'restart.safetensors'), { rank: 8 })
    const job = await caller(() => first)('lora.run', {
      tool: 'resize',
      model,
      save_to: path.join(dir, 'restart-2.safetensors'),
      new_rank: 2,
    })
    await first.lora.jobs.waitFor(job.id)
    await first.dispose()
    // A job record a crashed app left "running".
    const ghost = path.join(dataDir, 'lora-jobs', '20260101000000-abcdef')
    mkdirSync(ghost, { recursive: true })
    writeFileSync(
      path.join(ghost, 'job.json'),
      JSON.stringify({
        ...job,
        id: '20260101000000-abcdef',
        state: 'running',
        created_at: '2026-01-01T00:00:00.000Z',
      }),
    )
    const second = createServices({ dataDir, mode: 'headless', env: process.env, version: 'test' })
    try {
      const list = await caller(() => second)('lora.jobs', {})
      expect(list.map((j) => [j.id === job.id, j.state])).toEqual([
        [true, 'finished'],
        [false, 'failed'],
      ])
      expect(list[1]?.reason).toMatch(/app exited/)
    } finally {
      await second.dispose()
    }
  }, 60_000)
})

describe('CLI', () => {
  it('lora inspect --json (a real CLI process) prints network, rank, alpha, modules, metadata', () => {
    const file = writeLora(path.join(dir, 'cli.safetensors'), {
      kind: 'locon',
      rank: 8,
      alpha: 4,
      convRank: 4,
      metadata: { ss_network_dim: '8', ss_network_alpha: '4', ss_output_name: 'кот' },
    })
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'electron/cli/main.ts'), 'lora', 'inspect', file, '--json'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, SDXL_STUDIO_DATA_DIR: path.join(w.root, 'data-cli') },
      },
    )
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    expect(out).toMatchObject({
      network: 'locon',
      rank: 8,
      alpha: 4,
      modules: 10,
      conv_rank: 4,
      metadata: { ss_output_name: 'кот' },
    })
  }, 60_000)

  it('lora resize runs the tool and prints the result; bad numbers are usage errors', async () => {
    const file = writeLora(path.join(dir, 'cli16.safetensors'), { rank: 16, alpha: 16 })
    const r = await runCliCaptured(['lora', 'resize', file, '--rank', '4'], w.dataDir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Wrote ${path.join(dir, 'cli16-r4.safetensors')}`)
    expect(r.stdout).toMatch(/rank: 4 {2}alpha: 4/)
    for (const bad of ['0', '-1', '1.5', 'four', '']) {
      const e = await runCliCaptured(
        ['lora', 'resize', file, '--rank', bad, '--to', path.join(dir, 'x.safetensors')],
        w.dataDir,
      )
      expect(e.code, bad).not.toBe(0)
      expect(e.stderr).toMatch(/rank/i)
    }
    const refused = await runCliCaptured(
      ['lora', 'merge', file, '--to', path.join(dir, 'one.safetensors')],
      w.dataDir,
    )
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Add at least two LoRA files')
  }, 60_000)

  it('lora inspect (text) lists blocks and training metadata', async () => {
    const file = writeLora(path.join(dir, 'cli-text.safetensors'), { rank: 8, metadata: trainingMetadata() })
    const r = await runCliCaptured(['lora', 'inspect', file], w.dataDir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('network: lora  base: sdxl')
    expect(r.stdout).toMatch(/MID +1 modules {2}rank 8/)
    expect(r.stdout).toContain('ss_optimizer = bitsandbytes.optim.adamw.AdamW8bit')
  })
})
