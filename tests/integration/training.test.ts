import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestName } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import { createServices, type Services } from '../../electron/services'
import { callOrThrow } from '../helpers/services'
import { NO_ENVIRONMENT } from '../../electron/services/training/environment'
import { makeWorld, withFiles, type TrainingWorld } from './training-helpers'

/*
 * train.start with real processes: an existing-install environment (real venv) whose sd-scripts
 * scripts wrap the stand-in trainer, a real dataset folder and an SDXL-shaped model file.
 */

let w: TrainingWorld
let services: Services

const call = (method: RequestName, input: unknown) => callOrThrow(services, method, input)

async function preset(id: string): Promise<Record<string, unknown>> {
  const p = (await call('presets.get', { id })) as { config: Record<string, unknown> }
  return p.config
}

interface Launch {
  script: string
  argv: string[]
  executable: string
  cwd: string
  env: Record<string, string | null>
  config: Record<string, unknown>
  dataset: { datasets: Array<{ subsets: Array<Record<string, unknown>> }> }
}

beforeAll(async () => {
  w = makeWorld()
  services = createServices({ dataDir: w.dataDir, mode: 'headless', env: process.env, version: 'test' })
  const used = (await call('env.useExisting', { name: 'standin', folder: w.installDir })) as {
    record: { srcDir: string; venvPython: string }
  }
  expect(used.record.srcDir).toBe(w.sdScripts)
  const list = (await call('env.list', {})) as { active: string | null }
  expect(list.active).toBe('standin')
}, 120_000)

afterAll(async () => {
  await services?.dispose()
})

describe('train.start (config → run)', () => {
  it('starts a LoRA preset: files rendered, command, record, prediction; the run finishes', async () => {
    const config = withFiles(await preset('lora-12gb'), w, 'cat-lora')
    const started = (await call('train.start', { config, gpus: [0] })) as {
      id: string
      command: string[]
      cwd: string
      env: Record<string, string>
      predicted_peak_mib: number | null
    }
    const rec = await services.runs.service.waitFor(started.id)
    expect(rec.state, rec.reason ?? '').toBe('finished')

    // The command: the venv's Python runs sdxl_train_network.py with the two files (one GPU: no launcher).
    expect(rec.command[0]).toBe(w.venvPython)
    expect(rec.command[1]).toBe(path.join(w.sdScripts, 'sdxl_train_network.py'))
    const configFile = rec.command[rec.command.indexOf('--config_file') + 1]!
    const datasetFile = rec.command[rec.command.indexOf('--dataset_config') + 1]!
    expect(path.dirname(configFile)).toBe(path.dirname(datasetFile))
    expect(path.dirname(path.dirname(configFile))).toBe(path.join(w.dataDir, 'training'))
    expect(rec.cwd).toBe(w.sdScripts)
    expect(rec.env.CUDA_VISIBLE_DEVICES).toBe('0')
    expect(rec.gpus).toEqual([0])

    // The record keeps the config and the dataset TOML; the files exist with that content.
    expect(rec.input.config).toMatchObject({ type: 'lora', base_model: w.model })
    expect(readFileSync(datasetFile, 'utf8')).toBe(rec.input.dataset_toml)
    expect(rec.input.dataset_toml).toContain(w.imageDir)
    expect(readFileSync(configFile, 'utf8')).toContain('network_module = "networks.lora"')
    expect(rec.predicted_peak_mib).toBeGreaterThan(4000)
    expect(rec.save_configured).toBe(true) // the preset saves every epoch
    expect(rec.output_dir).toBe(w.outputDir)

    // What the trainer saw: the same files, the sd-scripts folder as cwd, the venv's interpreter.
    const seen = JSON.parse(readFileSync(path.join(w.outputDir, 'launch.json'), 'utf8')) as Launch
    expect(seen.script).toBe('sdxl_train_network.py')
    expect(seen.cwd).toBe(w.sdScripts)
    expect(seen.executable).toBe(w.venvPython)
    expect(seen.env.CUDA_VISIBLE_DEVICES).toBe('0')
    expect(seen.env.OMP_NUM_THREADS).toBe('2')
    expect(seen.env.HF_HUB_OFFLINE).toBeNull() // no tokenizer cache in this install
    expect(seen.config).toMatchObject({ output_name: 'cat-lora', network_dim: 32, cache_latents: true })
    expect(seen.dataset.datasets[0]!.subsets[0]).toMatchObject({ image_dir: w.imageDir, num_repeats: 10 })
    expect(existsSync(path.join(w.outputDir, 'cat-lora.safetensors'))).toBe(true)
    expect(rec.summary.last_step).toBe(3)
  }, 60_000)

  it('refuses an invalid config with every error message and creates no run', async () => {
    const before = ((await call('run.list', {})) as { runs: unknown[] }).runs.length
    const inputsBefore = existsSync(path.join(w.dataDir, 'training'))
      ? readdirSync(path.join(w.dataDir, 'training')).length
      : 0
    const config = withFiles(await preset('lora-12gb'), w)
    const bad = {
      ...config,
      base_model: path.join(w.root, 'models', 'missing.safetensors'),
      dataset: {
        ...(config.dataset as object),
        subsets: [{ image_dir: path.join(w.root, 'dataset', 'nope'), num_repeats: 1 }],
        bucket_reso_steps: 50,
      },
    }
    const error = await call('train.start', { config: bad }).then(
      () => null,
      (e: unknown) => e as ApiError,
    )
    expect(error).toBeInstanceOf(ApiError)
    const details = error!.details as { kind: string; errors: string[] }
    expect(details.kind).toBe('config_invalid')
    expect(details.errors.length).toBeGreaterThanOrEqual(3)
    expect(details.errors.join('\n')).toMatch(/missing\.safetensors/)
    expect(details.errors.join('\n')).toMatch(/nope/)
    expect(details.errors.join('\n')).toMatch(/32/)
    for (const m of details.errors) expect(error!.message).toContain(m)
    expect(((await call('run.list', {})) as { runs: unknown[] }).runs.length).toBe(before)
    const inputsAfter = existsSync(path.join(w.dataDir, 'training'))
      ? readdirSync(path.join(w.dataDir, 'training')).length
      : 0
    expect(inputsAfter).toBe(inputsBefore)

    // Not a config at all: the schema errors, still no run.
    const notConfig = await call('train.start', {
      config: { type: 'lora', training: { batch_size: 0 } },
    }).then(
      () => null,
      (e: unknown) => e as ApiError,
    )
    expect((notConfig!.details as { errors: string[] }).errors.join(' ')).toMatch(/batch_size/)
    expect(((await call('run.list', {})) as { runs: unknown[] }).runs.length).toBe(before)
  }, 30_000)

  it('a Dreambooth config runs sdxl_train.py', async () => {
    const config = withFiles(await preset('dreambooth-24gb'), w, 'cat-db')
    const preview = (await call('train.preview', { config })) as { script: string; ready: boolean }
    expect(preview).toMatchObject({ script: 'sdxl_train.py', ready: true })
    const started = (await call('train.start', { config })) as { id: string }
    const rec = await services.runs.service.waitFor(started.id)
    expect(rec.state, rec.reason ?? '').toBe('finished')
    expect(rec.command[1]).toBe(path.join(w.sdScripts, 'sdxl_train.py'))
    expect(rec.gpus).toBeNull()
    const seen = JSON.parse(readFileSync(path.join(w.outputDir, 'launch.json'), 'utf8')) as Launch
    expect(seen.script).toBe('sdxl_train.py')
    expect(seen.config).not.toHaveProperty('network_module')
    expect(rec.predicted_peak_mib).toBeGreaterThan(10_000) // full fine-tune: far above a LoRA
  }, 60_000)

  it('prunes inputs folders of deleted runs (old ones only) when a run starts', async () => {
    const root = path.join(w.dataDir, 'training')
    const first = (await call('train.start', { config: withFiles(await preset('lora-8gb'), w) })) as {
      id: string
      command: string[]
    }
    await services.runs.service.waitFor(first.id)
    const firstDir = path.dirname(first.command[first.command.indexOf('--config_file') + 1]!)
    const orphan = path.join(root, '20250101-000000-abcdef')
    const young = path.join(root, 'young-orphan')
    mkdirSync(orphan)
    mkdirSync(young)
    writeFileSync(path.join(orphan, 'config.toml'), '')
    const old = new Date(Date.now() - 2 * 3600_000)
    utimesSync(orphan, old, old)
    utimesSync(firstDir, old, old)
    await call('run.delete', { id: first.id })
    const live = ((await call('run.list', {})) as { runs: Array<{ command: string[] }> }).runs
      .map((r) => r.command.find((a) => a.endsWith('config.toml')))
      .filter((f): f is string => !!f && f.startsWith(root))
    expect(live.length).toBeGreaterThanOrEqual(1)
    for (const f of live) utimesSync(path.dirname(f), old, old)

    const second = (await call('train.start', { config: withFiles(await preset('lora-8gb'), w) })) as {
      id: string
    }
    await services.runs.service.waitFor(second.id)
    expect(existsSync(orphan)).toBe(false)
    expect(existsSync(firstDir)).toBe(false) // its run was deleted
    expect(existsSync(young)).toBe(true) // another process may be about to record its run
    // Folders of runs that still exist are kept, however old.
    const kept = ((await call('run.list', {})) as { runs: Array<{ command: string[] }> }).runs
      .map((r) => r.command.find((a) => a.endsWith('config.toml')))
      .filter((f): f is string => !!f && f.startsWith(root))
    expect(kept.length).toBe(live.length + 1)
    for (const f of kept) expect(existsSync(f)).toBe(true)
  }, 60_000)

  it('preview: several GPUs → accelerate launch from the venv; a filled tokenizer cache → offline', async () => {
    const config = withFiles(await preset('lora-12gb'), w)
    const multi = (await call('train.preview', { config, gpus: [1, 0] })) as {
      argv: string[]
      env: Record<string, string>
      files: Record<string, string>
    }
    // No accelerate executable in the venv: the module form, with the mapping's launch arguments.
    expect(multi.argv.slice(0, 3)).toEqual([w.venvPython, '-m', 'accelerate.commands.launch'])
    expect(multi.argv).toContain('--multi_gpu')
    expect(multi.argv[multi.argv.indexOf('--num_processes') + 1]).toBe('2')
    expect(multi.argv).not.toContain('--gpu_ids')
    expect(multi.env.CUDA_VISIBLE_DEVICES).toBe('1,0')
    expect(multi.env.OMP_NUM_THREADS).toBeUndefined()

    const accelerate = path.join(path.dirname(w.venvPython), 'accelerate')
    writeFileSync(accelerate, '#!/bin/sh\n', { mode: 0o755 })
    const cache = path.join(w.installDir, 'tokenizers')
    for (const d of ['openai_clip-vit-large-patch14', 'laion_CLIP-ViT-bigG-14-laion2B-39B-b160k']) {
      mkdirSync(path.join(cache, d), { recursive: true })
      writeFileSync(path.join(cache, d, 'tokenizer_config.json'), '{}')
    }
    const again = (await call('train.preview', { config, gpus: [0, 1] })) as typeof multi & {
      environment: { offline: boolean; tokenizer_cache_dir: string }
    }
    expect(again.argv.slice(0, 2)).toEqual([accelerate, 'launch'])
    expect(again.environment).toMatchObject({ offline: true, tokenizer_cache_dir: cache })
    // The preview shows the same variables the runner sets (run-env.ts trainingVariables).
    expect(again.env).toMatchObject({
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
      HF_DATASETS_OFFLINE: '1',
    })
    expect(again.files['config.toml']).toContain(`tokenizer_cache_dir = "${cache}"`)
  }, 30_000)
})

describe('train.start without an environment', () => {
  it('says how to set one up, and the preview lists it as blocking', async () => {
    const other = makeWorld('training-noenv-')
    const s = createServices({ dataDir: other.dataDir, mode: 'headless', env: process.env, version: 'test' })
    try {
      const config = withFiles(
        (
          (await s.router.call('presets.get', { id: 'lora-8gb' }, { transport: 'test' })) as {
            ok: true
            result: { config: Record<string, unknown> }
          }
        ).result.config,
        other,
      )
      const r = await s.router.call('train.start', { config }, { transport: 'test' })
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.error.message).toBe(NO_ENVIRONMENT)
      expect(r.error.message).toBe(
        'No sd-scripts environment is set up. Open Environment and click Install, or use an existing install.',
      )
      const p = await s.router.call('train.preview', { config }, { transport: 'test' })
      if (!p.ok) throw new Error(p.error.message)
      expect(p.result).toMatchObject({
        ready: false,
        blocking: [NO_ENVIRONMENT],
        environment: null,
        argv: null,
      })
      // An invalid config without an environment: every reason in one refusal, the environment last.
      const both = await s.router.call(
        'train.start',
        { config: { ...config, base_model: '' } },
        { transport: 'test' },
      )
      if (both.ok) throw new Error('started')
      const errors = (both.error.details as { errors: string[] }).errors
      expect(errors.length).toBeGreaterThanOrEqual(2)
      expect(errors.at(-1)).toBe(NO_ENVIRONMENT)
      expect(both.error.message).toContain(NO_ENVIRONMENT)
      expect(existsSync(path.join(other.dataDir, 'runs'))).toBe(false)
    } finally {
      await s.dispose()
    }
  }, 60_000)
})
