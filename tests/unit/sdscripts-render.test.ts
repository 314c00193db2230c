import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { TrainingConfig } from '../../core/config/schema'
import { BUILTIN_PRESETS } from '../../core/config/presets'
import { quotePosix, quoteWindows } from '../../core/sdscripts/quote'
import { render } from '../../core/sdscripts/render'
import { checkRendered } from './sdscripts-toml-check'
import { validateConfig } from '../../core/sdscripts/validate'

const ALL_PACKAGES = ['bitsandbytes', 'prodigyopt', 'lycoris-lora', 'dadaptation', 'xformers']

function withPaths(c: TrainingConfig): TrainingConfig {
  return TrainingConfig.parse({
    ...c,
    base_model: '/models/sd_xl_base_1.0.safetensors',
    dataset: {
      ...c.dataset,
      subsets: [
        { image_dir: '/data/img/10_sks dog', num_repeats: 10, class_tokens: 'sks dog' },
        { image_dir: '/data/reg/1_dog', num_repeats: 1, class_tokens: 'dog', is_reg: true },
      ],
    },
    saving: { ...c.saving, output_dir: '/out', output_name: 'test' },
  })
}

const opts = { filesDir: '/runs/r1', sdScriptsDir: '/opt/sd-scripts', flavor: 'posix' as const }

describe('built-in presets map to files sd-scripts accepts', () => {
  it('has a preset of every type', () => {
    expect(new Set(BUILTIN_PRESETS.map((p) => p.type))).toEqual(
      new Set(['dreambooth', 'lora', 'locon', 'loha', 'lokr']),
    )
  })
  for (const p of BUILTIN_PRESETS) {
    it(`${p.id}: validates without errors and renders known options with the right TOML types`, () => {
      const c = withPaths(p.config)
      const errors = validateConfig(c, { packages: ALL_PACKAGES }).filter((i) => i.severity === 'error')
      expect(errors).toEqual([])
      const r = render(c, opts)
      expect(r.script).toBe(p.type === 'dreambooth' ? 'sdxl_train.py' : 'sdxl_train_network.py')
      expect(r.argv).toContain(`/opt/sd-scripts/${r.script}`)
      checkRendered(r)
    })
  }
})

describe('mapping details', () => {
  const base = withPaths(TrainingConfig.parse({ type: 'lora' }))
  it('LoCon uses networks.lora with conv_dim/conv_alpha', () => {
    const r = render(
      TrainingConfig.parse({
        ...base,
        type: 'locon',
        network: { dim: 32, alpha: 16, conv_dim: 8, conv_alpha: 4 },
      }),
      opts,
    )
    expect(r.configArgs.network_module).toBe('networks.lora')
    expect(r.configArgs.network_args).toEqual(['conv_dim=8', 'conv_alpha=4'])
  })
  it('LoKr uses lycoris.kohya with algo and factor', () => {
    const r = render(
      TrainingConfig.parse({
        ...base,
        type: 'lokr',
        network: { dim: 64, alpha: 64, factor: 8, use_tucker: true },
      }),
      opts,
    )
    expect(r.configArgs.network_module).toBe('lycoris.kohya')
    expect(r.configArgs.network_args).toEqual([
      'algo=lokr',
      'conv_dim=64',
      'conv_alpha=64',
      'factor=8',
      'use_tucker=true',
    ])
  })
  it('plain LoRA writes no conv args even when conv_dim is set', () => {
    const r = render(TrainingConfig.parse({ ...base, network: { dim: 8, alpha: 4, conv_dim: 4 } }), opts)
    expect(r.configArgs.network_args).toBeUndefined()
  })
  it('Dreambooth uses learning_rate_te1/te2 and never text_encoder_lr1/2 or network options', () => {
    const r = render(
      TrainingConfig.parse({
        ...base,
        type: 'dreambooth',
        optimizer: { train_text_encoder: true, text_encoder_lr: 1e-6 },
      }),
      opts,
    )
    expect(r.configArgs.learning_rate_te1).toBe(1e-6)
    expect(r.configArgs.learning_rate_te2).toBe(1e-6)
    expect(
      Object.keys(r.configArgs).filter((k) => k.startsWith('network_') || k.startsWith('text_encoder_lr')),
    ).toEqual([])
  })
  it('writes a prompts file with sizes only when sampling is on', () => {
    expect(render(base, opts).files['prompts.txt']).toBeUndefined()
    const r = render(
      TrainingConfig.parse({
        ...base,
        sampling: {
          enabled: true,
          every_n_epochs: 1,
          prompts: [
            {
              prompt: 'a\nsks dog',
              negative: 'blurry',
              width: 1024,
              height: 768,
              steps: 30,
              seed: 42,
              cfg_scale: 7,
            },
          ],
        },
      }),
      opts,
    )
    expect(r.files['prompts.txt']).toBe('a sks dog --n blurry --w 1024 --h 768 --s 30 --d 42 --l 7\n')
    expect(r.configArgs.sample_prompts).toBe('/runs/r1/prompts.txt')
  })
  it('names the script and the two files in the command line', () => {
    const r = render(base, opts)
    expect(r.argv.slice(0, 2)).toEqual(['accelerate', 'launch'])
    expect(r.argv.slice(-5)).toEqual([
      '/opt/sd-scripts/sdxl_train_network.py',
      '--config_file',
      '/runs/r1/config.toml',
      '--dataset_config',
      '/runs/r1/dataset.toml',
    ])
    expect(r.accelerateArgs).toContain('--mixed_precision')
  })
  it('converts extra args to the option type', () => {
    const r = render(
      TrainingConfig.parse({
        ...base,
        extra_args: { vae_batch_size: '4', huber_c: 0.2, debug_dataset: true, nope: 1 },
      }),
      opts,
    )
    expect(r.configArgs.vae_batch_size).toBe(4)
    expect(r.configArgs.debug_dataset).toBe(true)
    expect(r.skippedExtraArgs).toEqual(['nope'])
  })
  it('is deterministic', () => {
    expect(render(base, opts)).toEqual(render(structuredClone(base), opts))
  })
})

describe('command-line quoting', () => {
  it('POSIX: single quotes, embedded quote escaped', () => {
    expect(quotePosix('/a/b.toml')).toBe('/a/b.toml')
    expect(quotePosix("/my data/it's")).toBe(`'/my data/it'\\''s'`)
    expect(quotePosix('')).toBe("''")
  })
  it('Windows: double quotes, backslashes before quotes doubled', () => {
    expect(quoteWindows('C:\\sd\\x.py')).toBe('C:\\sd\\x.py')
    expect(quoteWindows('C:\\my data\\')).toBe('"C:\\my data\\\\"')
    expect(quoteWindows('say "hi"')).toBe('"say \\"hi\\""')
  })
  it('renders a Windows display line for PowerShell: the call operator, single-quoted paths', () => {
    const r = render(withPaths(TrainingConfig.parse({ type: 'lora' })), {
      filesDir: "C:\\Users\\O'Brien\\run 1 $(x)",
      sdScriptsDir: 'C:\\sd-scripts',
      flavor: 'windows',
    })
    expect(r.display.startsWith('& accelerate launch ')).toBe(true)
    expect(r.display).toContain(
      "C:\\sd-scripts\\sdxl_train_network.py --config_file 'C:\\Users\\O''Brien\\run 1 $(x)\\config.toml'",
    )
  })
})

describe('golden files (reviewed by hand)', () => {
  const dir = path.resolve(import.meta.dirname, '../fixtures/golden')
  for (const id of ['lora-12gb', 'lokr-24gb', 'dreambooth-12gb']) {
    it(`${id} renders exactly the reviewed files`, () => {
      const p = BUILTIN_PRESETS.find((x) => x.id === id)!
      const r = render(withPaths(p.config), opts)
      for (const name of ['config.toml', 'dataset.toml'] as const) {
        const want = readFileSync(path.join(dir, id, name), 'utf8')
        expect(r.files[name]).toBe(want)
      }
      expect(r.display).toBe(readFileSync(path.join(dir, id, 'command.txt'), 'utf8').trim())
    })
  }
})
