// The gauge's prediction per harness job (bundle time) and the import of GPU results as
// measured points of the VRAM model.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MeasurementsFile } from '../../core/vram/measurements'
import { predict } from '../../core/vram/model'
import { VramScenario } from '../../core/vram/scenario'
import { materializeJobs, readPlan } from '../../scripts/harness/bundle-lib'
import { mergePoints, pointsFromResults } from '../../scripts/harness/import-results'
import { addPredictions, predictJob, scenarioFromSdScripts } from '../../scripts/harness/predict'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const temps: string[] = []
function temp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'harness-predict-'))
  temps.push(d)
  return d
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('scenario from sd-scripts settings', () => {
  const dataset = { general: { batch_size: 2 }, datasets: [{ resolution: [832, 1216], batch_size: 4 }] }

  it('reads a LoRA config the way sd-scripts does (dataset over config, defaults otherwise)', () => {
    const s = scenarioFromSdScripts(
      {
        network_module: 'networks.lora',
        network_dim: 32,
        network_alpha: 16,
        optimizer_type: 'adamw8bit',
        mixed_precision: 'bf16',
        gradient_checkpointing: true,
        cache_latents_to_disk: true,
        sdpa: true,
        network_train_unet_only: true,
        train_batch_size: 8,
      },
      dataset,
      'sdxl_train_network.py',
    )
    expect(s).toMatchObject({
      training_type: 'lora',
      network_dim: 32,
      optimizer: 'AdamW8bit',
      cache_latents: true,
      cache_text_encoder_outputs: false,
      train_text_encoder: false,
      attention: 'sdpa',
      batch_size: 4,
      resolution: { width: 832, height: 1216 },
      fp8_base: false,
    })
  })

  it('maps LyCORIS algorithms, Dreambooth flags, sd-scripts defaults and the dim cap', () => {
    const lokr = scenarioFromSdScripts(
      {
        network_module: 'lycoris.kohya',
        network_dim: 100000,
        network_args: ['algo=lokr', 'conv_dim=100000', 'factor=8'],
      },
      { datasets: [{}] },
      'sdxl_train_network.py',
    )
    expect(lokr).toMatchObject({
      training_type: 'lokr',
      network_dim: 10240,
      conv_dim: 10240,
      lokr_factor: 8,
      optimizer: 'AdamW',
      mixed_precision: 'no',
      attention: 'none',
      train_text_encoder: true,
    })
    const db = scenarioFromSdScripts(
      { train_text_encoder: true, fp8_base: true, optimizer_type: 'Adafactor' },
      { datasets: [{}] },
      'sdxl_train.py',
    )
    expect(db).toMatchObject({
      training_type: 'dreambooth',
      train_text_encoder: true,
      fp8_base: false,
      optimizer: 'Adafactor',
    })
    expect(() =>
      scenarioFromSdScripts({ optimizer_type: 'bitsandbytes.optim.AdEMAMix8bit' }, {}, 'sdxl_train.py'),
    ).toThrow(/no model for optimizer/)
  })
})

describe('predictions for the plan jobs', () => {
  it('every hand-made plan job gets the gauge prediction of its effective settings', () => {
    const plan = readPlan(path.join(repoRoot, 'resources/harness/plan.json'))
    const out = temp()
    const { ids } = materializeJobs(plan, path.join(repoRoot, 'resources/harness/configs'), null, {}, out)
    expect(addPredictions(out, ids)).toEqual([])
    const job = (id: string) => JSON.parse(readFileSync(path.join(out, id, 'job.json'), 'utf8')).prediction
    const b4 = job('lora32-gc-b4-cached')
    expect(b4.scenario.batch_size).toBe(4)
    expect(b4.peak_gib).toBeCloseTo(predict(VramScenario.parse(b4.scenario)).peak_gib, 6)
    expect(job('lora32-fp8-nogc-b1').scenario).toMatchObject({
      fp8_base: true,
      gradient_checkpointing: false,
    })
    expect(job('db-gc-te').scenario).toMatchObject({
      training_type: 'dreambooth',
      train_text_encoder: true,
      full_bf16: true,
    })
    // More batch, more memory; the same job predicted twice gives the same number.
    expect(b4.peak_gib).toBeGreaterThan(job('lora32-gc-b1-cached').peak_gib)
    expect(predictJob(path.join(out, 'lora32-gc-b4-cached')).peak_gib).toBe(b4.peak_gib)
  })
})

describe('importing GPU results as measured points', () => {
  const scenario = VramScenario.parse({ training_type: 'lora', batch_size: 2, gradient_checkpointing: true })
  const rec = (id: string, status: string, mib: number | null, withPrediction = true) =>
    JSON.stringify({
      id,
      status,
      gpu: { name: 'NVIDIA H100 80GB HBM3', driver: '580.159.04' },
      torch: '2.11.0+cu130',
      sd_scripts: 'v0.10.1 (files sha256 abc)',
      question: 'q',
      peak_nvidia_smi_process_mib: mib,
      torch_max_reserved_mib: mib === null ? null : mib - 500,
      torch_max_allocated_mib: mib === null ? null : mib - 900,
      it_per_s_steady: 2.5,
      prediction: withPrediction ? { peak_gib: 12.5, allocated_gib: 10, scenario } : null,
      ended_at: 1795823666,
    })

  it('keeps ok records with a scenario and a reading, and says why it left the others out', () => {
    const text = [
      rec('a', 'ok', 11264),
      rec('b', 'oom', 80000),
      rec('c', 'ok', 9000, false),
      rec('d', 'ok', null),
      '{"id": "e", "sta',
    ].join('\n')
    const { points, skipped } = pointsFromResults(text, 'process')
    expect(points).toHaveLength(1)
    expect(points[0]).toMatchObject({
      id: 'harness:NVIDIA-H100-80GB-HBM3:a',
      reading: 'process',
      measured_gib: 11,
      predicted_gib: 12.5,
      gpu: 'NVIDIA H100 80GB HBM3',
    })
    expect(points[0]?.source.note).toContain('2.50 it/s')
    expect(skipped).toEqual([
      'b: status oom',
      'c: no scenario (the bundle had no prediction for it)',
      'd: no peak_nvidia_smi_process_mib reading',
      'line 5: not a harness record (cut off?)',
    ])
    expect(pointsFromResults(rec('a', 'ok', 11264), 'max_allocated').points[0]?.measured_gib).toBeCloseTo(
      (11264 - 900) / 1024,
      3,
    )
  })

  it('merges into a measurements file, replacing the same ids, and the file stays valid', () => {
    const file = path.join(temp(), 'measured.json')
    writeFileSync(file, JSON.stringify({ $comment: 'ours', points: [] }))
    const first = pointsFromResults(rec('a', 'ok', 11264), 'process').points
    expect(mergePoints(file, first)).toBe(1)
    const again = pointsFromResults(
      [rec('a', 'ok', 12288), rec('b', 'ok', 8192)].join('\n'),
      'process',
    ).points
    expect(mergePoints(file, again)).toBe(2)
    const saved = MeasurementsFile.parse(JSON.parse(readFileSync(file, 'utf8')))
    expect(saved.$comment).toBe('ours')
    expect(saved.points.map((p) => [p.id, p.measured_gib])).toEqual([
      ['harness:NVIDIA-H100-80GB-HBM3:a', 12],
      ['harness:NVIDIA-H100-80GB-HBM3:b', 8],
    ])
  })
})
