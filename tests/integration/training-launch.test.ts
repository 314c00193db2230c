import { describe, expect, it } from 'vitest'
import { ApiError } from '../../core/api/errors'
import { TrainingConfig } from '../../core/config/schema'
import { runRecord } from '../helpers/run-record'
import { buildLaunch, saveConfigured, withGpus } from '../../electron/services/training/launch'
import { measurementFromRecord } from '../../electron/services/training/measurement'
import type { ResolvedEnvironment } from '../../electron/services/training/environment'

/* The decisions inside train.start that the process tests do not reach on a machine without GPUs. */

const env: ResolvedEnvironment = {
  name: 'e',
  kind: 'managed',
  sd_scripts_dir: '/envs/e/sd-scripts',
  python: '/envs/e/venv/bin/python',
  tokenizer_cache_dir: '/envs/e/tokenizers',
  offline: false,
  hf_home: '/envs/e/hf_home',
  accelerate: null,
  packages: undefined,
}

describe('GPU choice', () => {
  it('takes launch.gpu_ids when no GPUs are given, and always drops --gpu_ids', () => {
    const c = TrainingConfig.parse({ type: 'lora', launch: { num_processes: 2, gpu_ids: '2,3' } })
    const picked = withGpus(c, undefined)
    expect(picked.gpus).toEqual([2, 3])
    expect(picked.config.launch).toMatchObject({ num_processes: 2, gpu_ids: undefined })
    const plan = buildLaunch({ config: c, environment: env, inputsDir: '/d/in', flavor: 'posix' })
    expect(plan.argv.slice(0, 4)).toEqual([
      env.python,
      '-m',
      'accelerate.commands.launch',
      '--num_cpu_threads_per_process',
    ])
    expect(plan.argv).not.toContain('--gpu_ids')
    expect(plan.env).toMatchObject({ CUDA_VISIBLE_DEVICES: '2,3', HF_HOME: '/envs/e/hf_home' })
    expect(plan.env.HF_HUB_OFFLINE).toBeUndefined() // the cache is not filled yet
  })

  it('explicit GPUs win over the config; one GPU runs the script with the venv Python', () => {
    const c = TrainingConfig.parse({ type: 'loha', launch: { num_processes: 2, gpu_ids: '0,1' } })
    const plan = buildLaunch({ config: c, gpus: [1], environment: env, inputsDir: '/d/in', flavor: 'posix' })
    expect(plan.argv).toEqual([
      env.python,
      '/envs/e/sd-scripts/sdxl_train_network.py',
      '--config_file',
      '/d/in/config.toml',
      '--dataset_config',
      '/d/in/dataset.toml',
    ])
    expect(plan.gpus).toEqual([1])
    // A managed install's cache folder is passed even before it is filled (sd-scripts fills it).
    expect(plan.files['config.toml']).toContain('tokenizer_cache_dir = "/envs/e/tokenizers"')
    expect(plan.files['config.toml']).toContain('"algo=loha"')
  })

  it('keeps a tokenizer_cache_dir the user set in extra_args', () => {
    const c = TrainingConfig.parse({ type: 'lora', extra_args: { tokenizer_cache_dir: '/mine' } })
    const plan = buildLaunch({ config: c, environment: env, inputsDir: '/d/in', flavor: 'posix' })
    expect(plan.files['config.toml']).toContain('tokenizer_cache_dir = "/mine"')
    expect(plan.files['config.toml']).not.toContain('/envs/e/tokenizers')
  })
})

describe('save_configured', () => {
  it('follows the saving settings and the same options in extra_args', () => {
    expect(saveConfigured(TrainingConfig.parse({ type: 'lora' }))).toBe(false)
    expect(saveConfigured(TrainingConfig.parse({ type: 'lora', saving: { save_every_n_steps: 500 } }))).toBe(
      true,
    )
    expect(
      saveConfigured(TrainingConfig.parse({ type: 'lora', extra_args: { save_every_n_epochs: 2 } })),
    ).toBe(true)
  })
})

describe('vram record --run', () => {
  const base = runRecord({
    id: 'r1',
    name: 'cat (lora)',
    peak_gpu_memory_mib: 10240,
    predicted_peak_mib: 9728,
    input: { command: ['python'], cwd: '/', config: TrainingConfig.parse({ type: 'lora' }) },
  })

  it('turns a finished config run into a measurement input', () => {
    const m = measurementFromRecord(base)
    expect(m.measured_gib).toBe(10)
    expect(m.source).toContain('r1')
    expect(m.source).toContain('predicted at start 9.50 GiB')
    expect(m.config).toMatchObject({ type: 'lora' })
  })

  it('refuses runs that did not finish or were not started from a config', () => {
    expect(() => measurementFromRecord({ ...base, state: 'failed' })).toThrow(/failed, not finished/)
    expect(() => measurementFromRecord({ ...base, input: { command: ['x'], cwd: '/' } })).toThrow(ApiError)
    expect(() => measurementFromRecord({ ...base, input: { command: ['x'], cwd: '/' } })).toThrow(
      /not started from a training config/,
    )
  })
})
