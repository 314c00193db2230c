import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { acceptExtras } from '../../core/config/extras'
import { exportKohya, withFolderSubsets } from '../../core/kohya/export'
import { render } from '../../core/sdscripts/render'
import { validateConfig } from '../../core/sdscripts/validate'
import { checkRendered } from './sdscripts-toml-check'
import {
  importKohya,
  KohyaImportError,
  parseAdditionalParameters,
  parsePromptText,
} from '../../core/kohya/import'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const fixtures = path.join(repoRoot, 'tests/fixtures/kohya')
const read = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'))

describe('kohya_ss import (our fixtures)', () => {
  it('LyCORIS/LoCon with numbers stored as strings', () => {
    const r = importKohya(read(path.join(fixtures, 'lycoris-locon-strings.json')))
    const c = r.config
    expect(c.type).toBe('locon')
    expect(c.network).toMatchObject({ dim: 32, alpha: 16, conv_dim: 16, conv_alpha: 8 })
    expect(c.optimizer).toMatchObject({
      type: 'AdamW8bit',
      learning_rate: 0.0002,
      unet_lr: 0.0002,
      text_encoder_lr: 0.0001,
      lr_scheduler: 'cosine',
      lr_warmup_steps: 0.1,
      args: ['weight_decay=0.01', 'betas=0.9,0.99'],
    })
    expect(c.training).toMatchObject({
      max_train_epochs: 12,
      batch_size: 2,
      gradient_accumulation_steps: 2,
      seed: 42,
    })
    expect(c.dataset.resolution).toEqual({ width: 1024, height: 768 })
    expect(c.memory).toMatchObject({ mixed_precision: 'fp16', attention: 'sdpa', no_half_vae: true })
    expect(c.loss.noise_offset).toBe(0.05)
    expect(c.sampling).toMatchObject({ enabled: true, every_n_epochs: 2 })
    expect(c.sampling.prompts).toEqual([
      { prompt: 'a photo of sks dog', width: 1024, height: 1024, steps: 28, cfg_scale: 7.5, seed: 1 },
      { prompt: 'sks dog on a beach', negative: 'lowres', width: 832, height: 1216 },
    ])
    // Additional parameters are offered, never taken without consent.
    expect(c.extra_args).toEqual({})
    expect(r.extras.map((x) => [x.name, x.value, x.risk])).toEqual([
      ['vae_batch_size', '4', 'option'],
      ['debug_dataset', true, 'option'],
    ])
    expect(r.folders).toEqual({ train_data_dir: '/data/img', reg_data_dir: '/data/reg' })
    expect(r.subsetDefaults).toMatchObject({
      keep_tokens: 1,
      shuffle_caption: true,
      caption_extension: '.txt',
    })
    expect(r.warnings.map((w) => w.code)).toEqual(['kohya_lycoris_locon'])
    expect(r.warnings[0]!.message).toMatch(/networks\.lora/)
  })

  it('reports unknown keys and never imports secrets', () => {
    const r = importKohya(read(path.join(fixtures, 'lycoris-locon-strings.json')))
    expect(r.unmapped).toEqual(['my_custom_field'])
    expect(r.keys.find((k) => k.key === 'wandb_api_key')).toMatchObject({ status: 'ignored' })
    expect(JSON.stringify(r.config)).not.toContain('should-never-be-imported')
    // every key of the file is accounted for
    const file = read(path.join(fixtures, 'lycoris-locon-strings.json')) as Record<string, unknown>
    expect(r.keys.map((k) => k.key).sort()).toEqual(Object.keys(file).sort())
  })

  it('text encoder lr 0 means U-Net only; Multires noise; steps when epoch is 0; conv ignored for Standard', () => {
    const r = importKohya(read(path.join(fixtures, 'standard-te0.json')))
    expect(r.config.type).toBe('lora')
    expect(r.config.network.train_unet_only).toBe(true)
    expect(r.config.memory.cache_text_encoder_outputs).toBe(true)
    expect(r.config.memory.attention).toBe('xformers')
    expect(r.config.loss).toMatchObject({ multires_noise_iterations: 6, multires_noise_discount: 0.3 })
    expect(r.config.loss.noise_offset).toBeUndefined()
    expect(r.config.training).toMatchObject({ max_train_steps: 800 })
    expect(r.config.training.max_train_epochs).toBeUndefined()
  })

  it('a finetune config becomes Dreambooth (sdxl_train.py)', () => {
    const r = importKohya(read(path.join(fixtures, 'finetune.json')))
    expect(r.config.type).toBe('dreambooth')
    expect(r.config.memory).toMatchObject({ full_bf16: true, fused_backward_pass: true, attention: 'none' })
    expect(r.unmapped).toEqual([])
  })

  it('refuses LoRA types we cannot train, naming the supported ones', () => {
    expect(() => importKohya(read(path.join(fixtures, 'ia3-unsupported.json')))).toThrow(KohyaImportError)
    expect(() => importKohya(read(path.join(fixtures, 'ia3-unsupported.json')))).toThrow(
      /LyCORIS\/iA3.*Standard/,
    )
    expect(() => importKohya([1, 2])).toThrow(KohyaImportError)
  })

  it('round-trips through export', () => {
    const first = importKohya(read(path.join(fixtures, 'lycoris-locon-strings.json')))
    const withData = withFolderSubsets(first, [
      { dir: '/data/img/10_sks dog', num_repeats: 10, class_tokens: 'sks dog', is_reg: false },
      { dir: '/data/reg/1_dog', num_repeats: 1, class_tokens: 'dog', is_reg: true },
    ])
    const { json, warnings } = exportKohya(withData)
    expect(warnings).toEqual([])
    expect(json).toMatchObject({
      LoRA_type: 'Kohya LoCon',
      train_data_dir: '/data/img',
      reg_data_dir: '/data/reg',
      lr_warmup: 10,
      xformers: 'sdpa',
    })
    const again = importKohya(json)
    expect(again.unmapped).toEqual([])
    expect(again.config).toEqual({ ...first.config, dataset: { ...first.config.dataset } })
    // Accepted extra options go out as additional parameters and are offered again on the way back.
    const withExtras = acceptExtras(withData, first.extras, { allPlain: true }).config
    expect(withExtras.extra_args).toEqual({ vae_batch_size: '4', debug_dataset: true })
    const back = importKohya(exportKohya(withExtras).json)
    expect(acceptExtras(back.config, back.extras, { allPlain: true }).config.extra_args).toEqual(
      withExtras.extra_args,
    )
  })

  it('offers options it has no setting for, and takes none without consent', () => {
    const r = importKohya({
      LoRA_type: 'Standard',
      network_dim: 8,
      additional_parameters:
        '--console_log_file /home/me/.bashrc --network_module evil.payload --debiased_estimation_loss --network_weights /x/old.safetensors',
      // A real sd-scripts option the GUI file carries but we have no field for.
      masked_loss: true,
      my_custom_field: 'x',
    })
    // Nothing of it reaches the config: sd-scripts would truncate .bashrc and import evil.payload.
    expect(r.config.extra_args).toEqual({})
    const byName = Object.fromEntries(r.extras.map((x) => [x.name, x]))
    expect(byName.console_log_file).toMatchObject({ risk: 'writes_file', value: '/home/me/.bashrc' })
    expect(byName.network_module).toMatchObject({ risk: 'loads_code', value: 'evil.payload' })
    expect(byName.network_weights).toMatchObject({ risk: 'loads_code' })
    expect(byName.debiased_estimation_loss).toMatchObject({ risk: 'option', value: true })
    expect(byName.masked_loss).toMatchObject({ risk: 'option', source: 'masked_loss' })
    expect(r.keys.find((k) => k.key === 'masked_loss')?.status).toBe('offered')
    expect(r.keys.find((k) => k.key === 'additional_parameters')?.status).toBe('offered')
    expect(r.unmapped).toEqual(['my_custom_field'])

    // "Accept all" takes the plain options only; risky ones need their name.
    const plain = acceptExtras(r.config, r.extras, { allPlain: true })
    expect(Object.keys(plain.config.extra_args).sort()).toEqual(['debiased_estimation_loss', 'masked_loss'])
    const named = acceptExtras(r.config, r.extras, { names: ['console_log_file'] })
    expect(named.config.extra_args).toEqual({ console_log_file: '/home/me/.bashrc' })
    expect(acceptExtras(r.config, r.extras, { names: ['nope'] }).unknown).toEqual(['nope'])
  })

  it('takes an optimizer class path only with consent (importing it runs its code)', () => {
    const r = importKohya({ LoRA_type: 'Standard', network_dim: 8, optimizer: 'mypkg.optim.Evil' })
    expect(r.config.optimizer.type).toBe('AdamW')
    expect(r.warnings.map((w) => w.code)).toContain('kohya_optimizer_class')
    const c = r.extras.find((x) => x.name === 'optimizer_type')!
    expect(c).toMatchObject({
      risk: 'loads_code',
      target: { path: 'optimizer.type', value: 'mypkg.optim.Evil' },
    })
    expect(acceptExtras(r.config, r.extras, { allPlain: true }).config.optimizer.type).toBe('AdamW')
    expect(acceptExtras(r.config, r.extras, { names: ['optimizer_type'] }).config.optimizer.type).toBe(
      'mypkg.optim.Evil',
    )
    // sd-scripts' own names (any case) are settings, not code.
    expect(importKohya({ LoRA_type: 'Standard', optimizer: 'prodigy' }).extras).toEqual([])
  })

  it('names every key note and warning with a code', () => {
    const r = importKohya(read(path.join(fixtures, 'standard-te0.json')))
    for (const k of r.keys) if (k.note) expect(k.code, k.key).toMatch(/^kohya_/)
    expect(() => importKohya('x')).toThrow(expect.objectContaining({ code: 'kohya_not_object' }))
  })

  it('parses additional parameters and prompt text', () => {
    expect(parseAdditionalParameters('--a 1 --flag --list x y --eq=3 --q "two words"')).toEqual({
      a: '1',
      flag: true,
      list: ['x', 'y'],
      eq: '3',
      q: 'two words',
    })
    expect(parsePromptText('# comment\n\nx --w 512')).toEqual([{ prompt: 'x', width: 512 }])
  })
})

// Real kohya_ss files, read from the reference folder (never committed to the project).
const samples = path.resolve(repoRoot, '../shared/reference/samples/kohya-gui-configs')
const haveSamples = existsSync(samples)

describe.skipIf(!haveSamples)('kohya_ss import interop (../shared samples)', () => {
  const files = haveSamples
    ? readdirSync(samples).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    : []
  it('finds the five samples', () => expect(files).toHaveLength(5))
  for (const f of files) {
    it(`${f} keeps its facts`, () => {
      const want = read(path.join(samples, f.replace(/\.json$/, '.expected.json'))) as Record<string, unknown>
      const r = importKohya(read(path.join(samples, f)))
      const c = r.config
      expect(c.type).toBe(want.type === 'finetune' ? 'dreambooth' : want.type)
      const { json } = exportKohya(c)
      const net = c.type !== 'dreambooth'
      expect(net ? c.network.dim : null).toBe(want.network_dim)
      expect(net ? c.network.alpha : null).toBe(want.network_alpha)
      expect(net ? (c.network.conv_dim ?? null) : null).toBe(want.conv_dim)
      expect(net ? (c.network.conv_alpha ?? null) : null).toBe(want.conv_alpha)
      // No optimizer key: sd-scripts' default, AdamW.
      expect(c.optimizer.type).toBe(want.optimizer ?? 'AdamW')
      expect(c.optimizer.learning_rate).toBe(Number(want.learning_rate))
      expect(c.training.batch_size).toBe(want.train_batch_size)
      expect(c.memory.gradient_checkpointing).toBe(want.gradient_checkpointing)
      expect(c.memory.mixed_precision).toBe(want.mixed_precision)
      expect(json.max_resolution).toBe(want.resolution)
      // Maps to files sd-scripts accepts, or is refused with messages.
      checkRendered(render(c, { filesDir: '/r', sdScriptsDir: '/s', flavor: 'posix' }))
      const errors = validateConfig(c).filter((i) => i.severity === 'error')
      for (const e of errors) expect(e.message.length).toBeGreaterThan(20)
      // Nothing silently dropped: each key has a status.
      const file = read(path.join(samples, f)) as Record<string, unknown>
      expect(r.keys.map((k) => k.key).sort()).toEqual(Object.keys(file).sort())
    })
  }
})
