import { describe, expect, it } from 'vitest'
import { TrainingConfig, type TrainingConfigInput } from '../../core/config/schema'
import { estimateSteps } from '../../core/config/steps'
import { stepsFromBatches } from '../../core/dataset/plan'
import { launchForGpus, missingGpus, parseGpuIds } from '../../core/gpu/selection'
import { validateConfig } from '../../core/sdscripts/validate'
import { scenarioFromConfig } from '../../core/vram/from-config'
import { predict } from '../../core/vram/model'
import { ddpBucketsGib, perGpuFit } from '../../core/vram/per-gpu'
import type { ResolvedEnvironment } from '../../electron/services/training/environment'
import { buildLaunch } from '../../electron/services/training/launch'
import { memoryPerGpu } from '../../electron/services/runs/run-service'

const base: TrainingConfigInput = {
  type: 'lora',
  base_model: '/m/sdxl.safetensors',
  dataset: { subsets: [{ image_dir: '/d/10_cat', num_repeats: 10 }] },
  training: { max_train_epochs: 5, batch_size: 2 },
  memory: { mixed_precision: 'bf16', cache_latents_to_disk: true },
  saving: { output_dir: '/out', output_name: 'cat' },
}
const config = (patch: Partial<TrainingConfigInput> = {}) => TrainingConfig.parse({ ...base, ...patch })

describe('GPU ids as typed (config, CLI --gpus, the picker)', () => {
  it('reads indexes, forgives spaces around commas, keeps the order', () => {
    expect(parseGpuIds('0')).toEqual({ ok: true, ids: [0] })
    expect(parseGpuIds('1,0')).toEqual({ ok: true, ids: [1, 0] })
    expect(parseGpuIds(' 0 , 1 ')).toEqual({ ok: true, ids: [0, 1] })
    expect(parseGpuIds('')).toEqual({ ok: true, ids: [] })
    expect(parseGpuIds('   ')).toEqual({ ok: true, ids: [] })
  })

  it.each([
    ['-1'],
    ['a'],
    ['0,1,'],
    [',0'],
    ['0;1'],
    ['1.5'],
    ['1e-4'],
    ['0 1'],
    ['ноль'],
    ['０'], // a full-width digit: not an nvidia-smi index
    ['x'.repeat(10_000)],
  ])('refuses %j with the text shown (shortened) and the fix', (text) => {
    const r = parseGpuIds(text)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.problem.code).toBe('gpu_ids_format')
    expect(String((r.problem.params as { text: string }).text).length).toBeLessThanOrEqual(41)
  })

  it('names a GPU given twice', () => {
    expect(parseGpuIds('0,0')).toEqual({
      ok: false,
      problem: { code: 'gpu_ids_duplicate', params: { index: 0 } },
    })
    expect(parseGpuIds('1,0,1')).toMatchObject({ ok: false, problem: { params: { index: 1 } } })
  })

  it('refuses more ids than accelerate takes processes, and absurd numbers', () => {
    const many = Array.from({ length: 65 }, (_, i) => i).join(',')
    expect(parseGpuIds(many)).toMatchObject({ ok: false, problem: { code: 'gpu_ids_too_many' } })
    expect(parseGpuIds('9'.repeat(30))).toMatchObject({ ok: false, problem: { code: 'gpu_ids_format' } })
  })

  it('a choice sets one process per GPU; no choice is one process without ids', () => {
    expect(launchForGpus([0, 1])).toEqual({ gpu_ids: '0,1', num_processes: 2 })
    expect(launchForGpus([3])).toEqual({ gpu_ids: '3', num_processes: 1 })
    expect(launchForGpus([])).toEqual({ gpu_ids: undefined, num_processes: 1 })
    expect(missingGpus([0, 2, 5], [0, 1, 2])).toEqual([5])
  })

  it('the config schema refuses what the parser refuses (the field is named)', () => {
    for (const bad of ['', '-1', 'a', '0,1,', 'ноль', '0 1']) {
      const r = TrainingConfig.safeParse({ ...base, launch: { gpu_ids: bad } })
      expect(r.success, bad).toBe(false)
      expect(r.error!.issues[0]!.path.join('.')).toBe('launch.gpu_ids')
    }
  })
})

describe('validation with several GPUs', () => {
  const rules = (c: TrainingConfig, ctx = {}) => validateConfig(c, ctx).map((i) => `${i.severity} ${i.rule}`)

  it('"0,0" is an error with a fix that lists each GPU once', () => {
    const issues = validateConfig(config({ launch: { gpu_ids: '0,0', num_processes: 2 } }))
    const dup = issues.find((i) => i.rule === 'launch.gpu_ids')!
    expect(dup.severity).toBe('error')
    expect(dup.message).toContain('GPU 0 is listed twice')
    expect(dup.fix?.set).toEqual([
      { path: 'launch.gpu_ids', value: '0' },
      { path: 'launch.num_processes', value: 1 },
    ])
  })

  it('more GPUs than the machine has: the missing ones are named with those present', () => {
    const c = config({ launch: { gpu_ids: '0,1,2,3', num_processes: 4 } })
    const [issue] = validateConfig(c, { gpus: [0, 1] }).filter((i) => i.rule === 'launch.gpu_missing')
    expect(issue?.severity).toBe('error')
    expect(issue?.message).toBe(
      'This machine has no GPU 2, 3 (nvidia-smi lists 0, 1). Choose among those GPUs.',
    )
    expect(issue?.fix?.set).toContainEqual({ path: 'launch.gpu_ids', value: '0,1' })
    // Without a reading (no driver), nothing is claimed about which GPUs exist.
    expect(rules(c)).not.toContain('error launch.gpu_missing')
  })

  it('one GPU: none of the multi-GPU notes', () => {
    const r = rules(config({ launch: { gpu_ids: '0', num_processes: 1 } }), { platform: 'windows' })
    expect(r.filter((x) => x.includes('multi_gpu'))).toEqual([])
  })

  it('two GPUs: effective batch, workers per process; Windows: gloo', () => {
    const c = config({
      launch: { gpu_ids: '0,1', num_processes: 2 },
      training: { batch_size: 2, gradient_accumulation_steps: 3, max_train_epochs: 1 },
    })
    const issues = validateConfig(c, { platform: 'windows' })
    const eff = issues.find((i) => i.rule === 'multi_gpu.effective_batch')!
    expect(eff.params).toEqual({ processes: 2, batch: 2, effective: 12 })
    expect(issues.find((i) => i.rule === 'multi_gpu.workers')?.params).toEqual({
      processes: 2,
      workers: 2,
      total: 4,
    })
    expect(issues.find((i) => i.rule === 'multi_gpu.windows_gloo')?.severity).toBe('warning')
    expect(issues.filter((i) => i.severity === 'error')).toEqual([])
  })

  it('Dreambooth on two GPUs: the fused backward pass is refused; the gradient buckets are sized', () => {
    const c = config({
      type: 'dreambooth',
      optimizer: { type: 'Adafactor', train_text_encoder: false },
      memory: { fused_backward_pass: true, cache_latents_to_disk: true },
      launch: { gpu_ids: '0,1', num_processes: 2 },
    })
    const issues = validateConfig(c)
    expect(issues.find((i) => i.rule === 'multi_gpu.fused_backward')?.severity).toBe('error')
    const buckets = issues.find((i) => i.rule === 'multi_gpu.ddp_buckets')!
    // ~2.6 billion trainable U-Net parameters as fp32 gradients.
    expect(Number(buckets.params!.gib)).toBeGreaterThan(8)
    expect(Number(buckets.params!.gib)).toBeLessThan(12)
    const withView = config({
      ...c,
      extra_args: { ddp_gradient_as_bucket_view: true },
    } as TrainingConfigInput)
    expect(validateConfig(withView).find((i) => i.rule === 'multi_gpu.ddp_buckets')).toBeUndefined()
  })
})

describe('steps with several processes (sd-scripts: ceil(len(dataloader) / processes / accumulation))', () => {
  it.each([
    [1, 1, 100],
    [2, 1, 50],
    [4, 1, 25],
    [3, 1, 34],
    [2, 3, 17],
  ])('%i processes, accumulation %i: %i steps per epoch for 100 batches', (processes, accum, perEpoch) => {
    const sd = (batches: number) => Math.ceil(batches / processes / accum)
    expect(sd(100)).toBe(perEpoch)
    const plan = stepsFromBatches(100, {
      num_processes: processes,
      gradient_accumulation_steps: accum,
      max_train_epochs: 4,
    })
    expect(plan).toEqual({ steps_per_epoch: perEpoch, total_steps: 4 * perEpoch, epochs: 4 })
    const estimate = estimateSteps({
      subsets: [{ images: 100, num_repeats: 1, is_reg: false }],
      batch_size: 1,
      gradient_accumulation_steps: accum,
      num_processes: processes,
      max_train_epochs: 4,
    })
    expect(estimate.steps_per_epoch).toBe(perEpoch)
    expect(estimate.total_steps).toBe(4 * perEpoch)
  })
})

describe('per-GPU memory', () => {
  const lora = config()
  const p = predict(scenarioFromConfig(lora).scenario)
  const input = {
    peak_gib: p.peak_gib,
    trainable_params: p.trainable_params,
    half_gradients: false,
    bucket_view: false,
    batch_size: 2,
    gradient_accumulation_steps: 1,
  }
  const gpus = [
    { index: 0, name: 'NVIDIA GeForce RTX 4090', memory_total_mib: 24564 },
    { index: 1, name: 'NVIDIA GeForce RTX 3060', memory_total_mib: 12288 },
  ]

  it('one process: the single-GPU peak, no buckets', () => {
    const fit = perGpuFit({ ...input, processes: 1 }, [gpus[0]!])
    expect(fit.per_gpu_gib).toBe(p.peak_gib)
    expect(fit.ddp_buckets_gib).toBe(0)
    expect(fit.effective_batch).toBe(2)
    expect(fit.smallest).toEqual({ index: 0, name: 'NVIDIA GeForce RTX 4090', total_gib: 24564 / 1024 })
  })

  it('several: each GPU holds a full replica plus the gradient buckets; compared with the smallest GPU', () => {
    const fit = perGpuFit({ ...input, processes: 2 }, gpus)
    const buckets = (p.trainable_params * 4) / 1024 ** 3
    expect(fit.ddp_buckets_gib).toBeCloseTo(buckets, 3)
    expect(fit.per_gpu_gib).toBeCloseTo(p.peak_gib + buckets, 3)
    expect(fit.effective_batch).toBe(4)
    expect(fit.smallest?.index).toBe(1)
    expect(fit.fits).toBe(fit.per_gpu_gib <= 12)
    // 4 processes: the per-GPU need does not grow with the count (each GPU has its own replica).
    expect(perGpuFit({ ...input, processes: 4 }, gpus).per_gpu_gib).toBe(fit.per_gpu_gib)
  })

  it('bucket view and half gradients shrink the buckets; unknown totals give no verdict', () => {
    expect(
      ddpBucketsGib({ trainable_params: 1024 ** 3, half_gradients: false, bucket_view: true, processes: 2 }),
    ).toBe(0)
    expect(
      ddpBucketsGib({ trainable_params: 1024 ** 3, half_gradients: true, bucket_view: false, processes: 2 }),
    ).toBe(2)
    const fit = perGpuFit({ ...input, processes: 2 }, [{ index: 0, name: null, memory_total_mib: null }])
    expect(fit.smallest).toBeNull()
    expect(fit.fits).toBeNull()
  })

  it('hostile process counts do not break the helper', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      const fit = perGpuFit({ ...input, processes: n })
      expect(fit.processes).toBeGreaterThanOrEqual(1)
      expect(Number.isFinite(fit.per_gpu_gib)).toBe(true)
    }
  })
})

describe('commands for 1, 2 and 4 GPUs', () => {
  const env = (flavor: 'posix' | 'windows', accelerate: boolean): ResolvedEnvironment =>
    flavor === 'posix'
      ? {
          name: 'test',
          kind: 'external',
          sd_scripts_dir: '/opt/sd-scripts',
          python: '/opt/sd-scripts/venv/bin/python',
          accelerate: accelerate ? '/opt/sd-scripts/venv/bin/accelerate' : null,
          tokenizer_cache_dir: null,
          offline: false,
          hf_home: null,
          packages: undefined,
        }
      : {
          name: 'test',
          kind: 'external',
          sd_scripts_dir: 'C:\\sd-scripts',
          python: 'C:\\sd-scripts\\venv\\Scripts\\python.exe',
          accelerate: accelerate ? 'C:\\sd-scripts\\venv\\Scripts\\accelerate.exe' : null,
          tokenizer_cache_dir: null,
          offline: false,
          hf_home: null,
          packages: undefined,
        }
  const inputs = { posix: '/data/training/run1', windows: 'C:\\data\\training\\run1' }

  for (const flavor of ['posix', 'windows'] as const) {
    it(`${flavor}: one GPU runs the script with Python directly, CUDA_VISIBLE_DEVICES picks the GPU`, () => {
      const plan = buildLaunch({
        config: config(),
        gpus: [1],
        environment: env(flavor, true),
        inputsDir: inputs[flavor],
        flavor,
      })
      expect(plan.argv[0]).toBe(env(flavor, true).python)
      expect(plan.argv).not.toContain('launch')
      expect(plan.argv).not.toContain('--multi_gpu')
      expect(plan.env).toMatchObject({
        CUDA_VISIBLE_DEVICES: '1',
        CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
        OMP_NUM_THREADS: '2',
      })
      expect(plan.env.USE_LIBUV).toBeUndefined()
      expect(plan.config.launch.num_processes).toBe(1)
    })

    for (const gpus of [
      [0, 1],
      [3, 2, 1, 0],
    ]) {
      it(`${flavor}: ${gpus.length} GPUs → accelerate launch --multi_gpu --num_processes ${gpus.length}, precision from the config`, () => {
        const plan = buildLaunch({
          config: config({ memory: { mixed_precision: 'fp16', cache_latents_to_disk: true } }),
          gpus,
          environment: env(flavor, true),
          inputsDir: inputs[flavor],
          flavor,
        })
        const a = plan.argv
        expect(a.slice(0, 2)).toEqual([env(flavor, true).accelerate, 'launch'])
        const opt = (name: string) => a[a.indexOf(name) + 1]
        expect(opt('--num_processes')).toBe(String(gpus.length))
        expect(opt('--mixed_precision')).toBe('fp16')
        expect(opt('--num_machines')).toBe('1')
        expect(a).toContain('--multi_gpu')
        // Only CUDA_VISIBLE_DEVICES chooses GPUs: accelerate's --gpu_ids would set it again, over ours.
        expect(a).not.toContain('--gpu_ids')
        // The launcher's options come before the script, the script's after it.
        const script = a.findIndex((x) => x.endsWith('sdxl_train_network.py'))
        expect(a.indexOf('--multi_gpu')).toBeLessThan(script)
        expect(a.indexOf('--config_file')).toBeGreaterThan(script)
        expect(plan.env.CUDA_VISIBLE_DEVICES).toBe(gpus.join(','))
        expect(plan.env.OMP_NUM_THREADS).toBeUndefined()
        expect(plan.env.USE_LIBUV).toBe(flavor === 'windows' ? '0' : undefined)
        expect(plan.display).toContain(`--multi_gpu`)
        expect(plan.gpus).toEqual(gpus)
      })
    }

    it(`${flavor}: without an accelerate executable, python -m accelerate.commands.launch`, () => {
      const plan = buildLaunch({
        config: config(),
        gpus: [0, 1],
        environment: env(flavor, false),
        inputsDir: inputs[flavor],
        flavor,
      })
      expect(plan.argv.slice(0, 3)).toEqual([env(flavor, false).python, '-m', 'accelerate.commands.launch'])
      expect(plan.argv).toContain('--multi_gpu')
    })
  }

  it("the config's gpu_ids are used when the request names none; the prediction is per GPU", () => {
    const one = buildLaunch({
      config: config(),
      environment: env('posix', true),
      inputsDir: inputs.posix,
      flavor: 'posix',
    })
    const two = buildLaunch({
      config: config({ launch: { gpu_ids: '0,1', num_processes: 2 } }),
      environment: env('posix', true),
      inputsDir: inputs.posix,
      flavor: 'posix',
    })
    expect(one.env.CUDA_VISIBLE_DEVICES).toBeUndefined()
    expect(two.env.CUDA_VISIBLE_DEVICES).toBe('0,1')
    // Each GPU holds a replica: the per-GPU peak is the single peak plus DDP's gradient buckets.
    expect(two.predictedPeakMib).toBeGreaterThan(one.predictedPeakMib)
    expect(two.predictedPeakMib - one.predictedPeakMib).toBeLessThan(1024)
  })
})

describe('memory per GPU of a run (runner samples)', () => {
  it('sums each GPU index; unknown GPUs leave the per-GPU view out', () => {
    expect(
      memoryPerGpu([
        { used_memory_mib: 9000, gpu_index: 0 },
        { used_memory_mib: 8900, gpu_index: 1 },
        { used_memory_mib: 100, gpu_index: 0 },
        { used_memory_mib: null, gpu_index: 1 },
      ]),
    ).toEqual({ '0': 9100, '1': 8900 })
    expect(memoryPerGpu([{ used_memory_mib: 500, gpu_index: null }])).toBeUndefined()
    expect(memoryPerGpu([])).toBeUndefined()
  })
})
