// sd-scripts' own LoRA scripts, run for real on small generated files in a CPU venv. CI cannot have
// sd-scripts, so this runs where a checkout and a venv exist and skips with a message elsewhere.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LoraJob } from '../../core/api/domains/lora'
import { createServices, type Services } from '../../electron/services'
import { trainingMetadata, writeLora } from '../helpers/lora'
import { caller } from './lora-helpers'
import { repoRoot } from './training-helpers'

/** sd-scripts v0.10.1: SD_SCRIPTS_DIR, or the repository's git-ignored .sdscripts checkout. */
const sdScripts = process.env.SD_SCRIPTS_DIR ?? path.join(repoRoot, '.sdscripts')
const hasSdScripts = existsSync(path.join(sdScripts, 'networks', 'resize_lora.py'))

/** A Python with what the scripts import (torch, safetensors, transformers, diffusers, accelerate, cv2…). */
function toolsPython(): string | null {
  const candidates = [
    process.env.LORA_TOOLS_PYTHON,
    path.join(repoRoot, '.harness', 'lora-venv', 'bin', 'python'),
    path.join(
      process.env.HARNESS_VENV ?? path.join(process.env.HOME ?? '', '.cache/sdxl-studio/harness-venv'),
      'bin',
      'python',
    ),
  ].filter((p): p is string => !!p && existsSync(p))
  const imports =
    'import torch, safetensors, numpy, tqdm, transformers, diffusers, accelerate, cv2, toml, voluptuous, rich'
  return candidates.find((p) => spawnSync(p, ['-c', imports]).status === 0) ?? null
}
const python = hasSdScripts ? toolsPython() : null

if (!hasSdScripts)
  console.warn(
    `SKIP real LoRA scripts: no sd-scripts at ${sdScripts} (set SD_SCRIPTS_DIR to a kohya-ss/sd-scripts v0.10.1 checkout).`,
  )
else if (!python)
  console.warn(
    "SKIP real LoRA scripts: no Python with torch and sd-scripts' requirements. Make one (docs/lora-tools.md): python3 -m venv .harness/lora-venv && .harness/lora-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 transformers==4.54.1 diffusers==0.32.1 accelerate==1.6.0 safetensors==0.4.5 toml voluptuous==0.15.2 einops==0.7.0 opencv-python-headless imagesize==1.4.1 huggingface-hub==0.34.3 rich ftfy numpy tqdm pillow — or set LORA_TOOLS_PYTHON.",
  )

describe.skipIf(!python)('sd-scripts LoRA scripts, for real (CPU)', () => {
  let services: Services
  const call = caller(() => services)
  let dir: string
  let root: string

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'lora-real-'))
    dir = path.join(root, 'loras')
    mkdirSync(dir)
    services = createServices({
      dataDir: path.join(root, 'data'),
      mode: 'headless',
      env: process.env,
      version: 'test',
    })
    const venv = path.dirname(path.dirname(python as string))
    await call('env.useExisting', { name: 'real', folder: sdScripts, venv })
  }, 120_000)

  afterAll(async () => {
    await services?.dispose()
    rmSync(root, { recursive: true, force: true })
  })

  async function run(input: Record<string, unknown>): Promise<LoraJob> {
    const job = await call('lora.run', input)
    const done = await services.lora.jobs.waitFor(job.id)
    if (done.state !== 'finished') {
      const log = await call('lora.log', { id: job.id })
      throw new Error(`${done.state}: ${done.reason}\n${log.text.slice(-3000)}`)
    }
    expect(readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([])
    return done
  }

  it('resize_lora.py lowers the rank: 16 → 4, alpha keeps the scale, metadata says 4', async () => {
    const model = writeLora(path.join(dir, 'r16.safetensors'), {
      rank: 16,
      alpha: 8,
      metadata: trainingMetadata({ ss_network_dim: '16', ss_network_alpha: '8' }),
    })
    expect((await call('lora.inspect', { file: model })).rank).toBe(16)
    const save_to = path.join(dir, 'r4.safetensors')
    const job = await run({ tool: 'resize', model, save_to, new_rank: 4 })
    expect(job.progress?.total).toBeGreaterThan(0)
    const after = await call('lora.inspect', { file: save_to })
    expect(after).toMatchObject({ network: 'lora', rank: 4, alpha: 2, modules: 8, base: 'sdxl' })
    expect(after.weights).toMatchObject({ rank_min: 4, rank_max: 4, uniform_alpha: true, alphas: [2] })
    expect(after.metadata).toMatchObject({ ss_network_dim: '4', ss_network_alpha: '2.0' })
    expect(after.metadata.ss_training_comment).toContain('dimension is resized from 16 to 4')
    // The training settings survive the resize.
    expect(after.metadata.ss_optimizer).toContain('AdamW8bit')
  }, 300_000)

  it('resize_lora.py --dynamic_method sv_fro: each module keeps what it needs, at most the limit', async () => {
    const model = writeLora(path.join(dir, 'dyn16.safetensors'), { rank: 16, alpha: 16, dtype: 'F32' })
    const save_to = path.join(dir, 'dyn.safetensors')
    await run({ tool: 'resize', model, save_to, new_rank: 12, dynamic_method: 'sv_fro', dynamic_param: 0.5 })
    const after = await call('lora.inspect', { file: save_to })
    expect(after.metadata).toMatchObject({ ss_network_dim: 'Dynamic', ss_network_alpha: 'Dynamic' })
    expect(after.weights.rank_max).toBeLessThanOrEqual(12)
    expect(after.weights.rank_min).toBeGreaterThanOrEqual(1)
    expect(after.weights.rank_max).toBeLessThan(16)
  }, 300_000)

  it('resize_lora.py on a LoCon: linear and 3×3 conv ranks apart', async () => {
    const model = writeLora(path.join(dir, 'locon.safetensors'), {
      kind: 'locon',
      rank: 8,
      alpha: 8,
      convRank: 8,
      convAlpha: 4,
    })
    const save_to = path.join(dir, 'locon-small.safetensors')
    await run({ tool: 'resize', model, save_to, new_rank: 4, new_conv_rank: 2 })
    const after = await call('lora.inspect', { file: save_to })
    expect(after).toMatchObject({ network: 'locon', rank: 4, weights: { rank_max: 4, conv_rank_max: 2 } })
    expect(after.conv_alpha).toBe(1)
  }, 300_000)

  it('sdxl_merge_lora.py: equal ranks add (metadata matches); --concat adds the ranks (metadata keeps the first dim)', async () => {
    const a = writeLora(path.join(dir, 'a.safetensors'), { rank: 8, alpha: 4, seed: 11 })
    const b = writeLora(path.join(dir, 'b.safetensors'), { rank: 8, alpha: 4, seed: 12 })
    const sum = path.join(dir, 'sum.safetensors')
    await run({
      tool: 'merge',
      mode: 'sum',
      models: [
        { file: a, ratio: 1 },
        { file: b, ratio: 0.5 },
      ],
      save_to: sum,
    })
    const s = await call('lora.inspect', { file: sum })
    expect(s).toMatchObject({ rank: 8, alpha: 4, modules: 8, problems: [] })
    expect(s.metadata).toMatchObject({
      ss_network_dim: '8',
      ss_network_alpha: '4.0',
      ss_network_module: 'networks.lora',
    })
    const concat = path.join(dir, 'concat.safetensors')
    await run({ tool: 'merge', mode: 'concat', models: [{ file: a }, { file: b }], save_to: concat })
    const c = await call('lora.inspect', { file: concat })
    expect(c.weights).toMatchObject({ rank_min: 16, rank_max: 16 })
    // sdxl_merge_lora.py keeps the first file's dim (8) in the metadata of a concatenation; the
    // inspection reports the file's real rank and the disagreement.
    expect(c.metadata.ss_network_dim).toBe('8')
    expect(c.rank).toBe(16)
    expect(c.problems.map((p) => p.code)).toEqual(['metadata_rank_mismatch'])
  }, 300_000)

  it('svd_merge_lora.py: different ranks in, the chosen rank out (alpha = rank)', async () => {
    const a = writeLora(path.join(dir, 'sa.safetensors'), { rank: 8, alpha: 8, seed: 21 })
    const b = writeLora(path.join(dir, 'sb.safetensors'), { rank: 4, alpha: 2, seed: 22 })
    const save_to = path.join(dir, 'svd.safetensors')
    await run({
      tool: 'merge',
      mode: 'svd',
      models: [{ file: a }, { file: b, ratio: 0.7 }],
      save_to,
      new_rank: 6,
    })
    const r = await call('lora.inspect', { file: save_to })
    expect(r).toMatchObject({ rank: 6, alpha: 6, modules: 8, weights: { rank_min: 6, rank_max: 6 } })
    expect(r.metadata).toMatchObject({ ss_network_dim: '6', ss_network_alpha: '6' })
  }, 300_000)

  it.skip('extract_lora_from_models.py --sdxl needs two full-size SDXL checkpoints (about 7 GB each, 20+ GB of RAM): not run here', () => {})
})
