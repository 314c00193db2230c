import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { acceptExtras } from '../../core/config/extras'
import { TrainingConfig, type TrainingConfigInput } from '../../core/config/schema'
import { importSdScriptsToml, TomlImportError } from '../../core/sdscripts/import-toml'
import { render } from '../../core/sdscripts/render'

/*
 * Opening sd-scripts' own files: what render() writes reads back as the same config, options without a
 * field here are offered (not taken), and files we did not write read the way sd-scripts reads them.
 */

const base: TrainingConfigInput = {
  type: 'lora',
  base_model: '/m/sd_xl_base_1.0.safetensors',
  dataset: {
    subsets: [
      {
        image_dir: '/d/10_sks dog',
        num_repeats: 10,
        class_tokens: 'sks dog',
        shuffle_caption: true,
        keep_tokens: 1,
      },
      { image_dir: '/d/reg', num_repeats: 1, is_reg: true, caption_extension: '.caption' },
    ],
    resolution: { width: 1024, height: 896 },
    min_bucket_reso: 256,
    bucket_reso_steps: 32,
  },
  network: { dim: 16, alpha: 8, rank_dropout: 0.1 },
  optimizer: {
    type: 'Prodigy',
    args: ['d_coef=2', 'decouple=True'],
    learning_rate: 1,
    unet_lr: 1,
    text_encoder_lr: 0.5,
    lr_scheduler: 'cosine_with_restarts',
    lr_warmup_steps: 0.05,
    lr_scheduler_num_cycles: 3,
  },
  training: {
    max_train_epochs: 12,
    batch_size: 2,
    gradient_accumulation_steps: 2,
    seed: 7,
    max_token_length: 225,
  },
  memory: {
    mixed_precision: 'fp16',
    no_half_vae: true,
    attention: 'xformers',
    max_data_loader_n_workers: 0,
    persistent_data_loader_workers: false,
  },
  loss: {
    min_snr_gamma: 5,
    multires_noise_iterations: 6,
    multires_noise_discount: 0.3,
    loss_type: 'huber',
    huber_c: 0.2,
    prior_loss_weight: 0.5,
  },
  sampling: {
    enabled: true,
    prompts: [
      {
        prompt: 'sks dog',
        negative: 'blurry',
        width: 1024,
        height: 1024,
        steps: 28,
        cfg_scale: 7.5,
        seed: 3,
      },
    ],
    every_n_epochs: 2,
    sampler: 'euler_a',
    sample_at_first: true,
  },
  saving: {
    output_dir: '/out',
    output_name: 'dog',
    save_every_n_steps: 500,
    save_precision: 'bf16',
    save_state: true,
    save_state_on_train_end: true,
    comment: 'hello',
  },
  logging: { logging_dir: '/logs', log_prefix: 'dog-' },
}

function roundTrip(input: TrainingConfigInput) {
  const config = TrainingConfig.parse(input)
  const r = render(config, { filesDir: '/f', sdScriptsDir: '/s', flavor: 'posix' })
  const back = importSdScriptsToml({
    config: r.files['config.toml'],
    dataset: r.files['dataset.toml'],
    prompts: r.files['prompts.txt'],
  })
  return { config, back }
}

describe('sd-scripts TOML import', () => {
  it('reads back what render writes (LoRA with every section)', () => {
    const { config, back } = roundTrip(base)
    expect(back.config).toEqual(config)
    expect(back.extras).toEqual([])
    expect(back.unmapped).toEqual([])
  })

  for (const type of ['locon', 'loha', 'lokr', 'dreambooth'] as const)
    it(`reads back ${type}`, () => {
      const input: TrainingConfigInput = {
        ...base,
        type,
        network:
          type === 'dreambooth'
            ? {}
            : {
                dim: 32,
                alpha: 16,
                conv_dim: 8,
                conv_alpha: 4,
                ...(type === 'lokr' ? { factor: 8, decompose_both: true } : {}),
                ...(type !== 'locon' ? { preset: 'attn-mlp', use_tucker: true } : {}),
              },
        optimizer:
          type === 'dreambooth'
            ? { type: 'Adafactor', learning_rate: 1e-5, train_text_encoder: true, text_encoder_lr: 1e-6 }
            : base.optimizer,
        loss: type === 'dreambooth' ? { min_snr_gamma: 5 } : base.loss,
      }
      const { config, back } = roundTrip(input)
      expect(back.config).toEqual(config)
      expect(back.extras).toEqual([])
    })

  it('offers extra options and reads them back once accepted', () => {
    const { config, back } = roundTrip({
      ...base,
      extra_args: { debiased_estimation_loss: true, ip_noise_gamma: 0.1, console_log_file: '/tmp/log.txt' },
    })
    expect(back.config.extra_args).toEqual({})
    expect(back.extras.map((x) => [x.name, x.risk])).toEqual([
      ['console_log_file', 'writes_file'],
      ['debiased_estimation_loss', 'option'],
      ['ip_noise_gamma', 'option'],
    ])
    expect(acceptExtras(back.config, back.extras, { allPlain: true }).config.extra_args).toEqual({
      debiased_estimation_loss: true,
      ip_noise_gamma: 0.1,
    })
    const all = acceptExtras(back.config, back.extras, { allPlain: true, names: ['console_log_file'] })
    expect(all.config).toEqual(config)
  })

  it('reads a hand-written pair as sd-scripts does: sections merged, absent flags off, dataset values win', () => {
    const r = importSdScriptsToml({
      config: [
        '[model]',
        'pretrained_model_name_or_path = "/m/x.safetensors"',
        'network_module = "lycoris.kohya"',
        'network_args = ["algo=locon", "conv_dim=4", "block_dims=2,2,2"]',
        'network_dim = 8',
        '[train]',
        'optimizer_type = "torch.optim.AdamW"',
        'train_batch_size = 4',
        'lr_warmup_steps = "10%"',
        'sample_prompts = "/p/prompts.txt"',
        'my_own_key = 3',
      ].join('\n'),
      dataset: [
        '[general]',
        'shuffle_caption = true',
        'caption_extension = ".txt"',
        '[[datasets]]',
        'resolution = 768',
        'batch_size = 2',
        'color_aug = true',
        '  [[datasets.subsets]]',
        '  image_dir = "/d/a"',
        '  num_repeats = 3',
        '  [[datasets.subsets]]',
        '  image_dir = "/d/b"',
        '  shuffle_caption = false',
      ].join('\n'),
    })
    const c = r.config
    expect(c.type).toBe('locon')
    expect(r.warnings.map((w) => w.code)).toEqual([
      'toml_lycoris_locon',
      'kohya_optimizer_class',
      'toml_prompts_missing',
    ])
    expect(c.network).toMatchObject({ dim: 8, alpha: 1, conv_dim: 4 })
    expect(c.training.batch_size).toBe(2)
    expect(c.optimizer).toMatchObject({ type: 'AdamW', learning_rate: 2e-6, lr_warmup_steps: 0.1 })
    expect(r.extras.find((x) => x.name === 'optimizer_type')).toMatchObject({ risk: 'loads_code' })
    expect(c.memory).toMatchObject({
      gradient_checkpointing: false,
      cache_latents: false,
      attention: 'none',
      mixed_precision: 'no',
    })
    expect(c.dataset).toMatchObject({ resolution: { width: 768, height: 768 }, enable_bucket: false })
    expect(c.dataset.subsets).toEqual([
      expect.objectContaining({
        image_dir: '/d/a',
        num_repeats: 3,
        shuffle_caption: true,
        caption_extension: '.txt',
      }),
      expect.objectContaining({ image_dir: '/d/b', num_repeats: 1, shuffle_caption: false }),
    ])
    const status = Object.fromEntries(r.keys.map((k) => [k.key, k.status]))
    expect(status).toMatchObject({
      network_args: 'unmapped',
      my_own_key: 'unmapped',
      'dataset.toml:color_aug': 'unmapped',
      sample_prompts: 'unmapped',
      train_batch_size: 'mapped',
    })
  })

  it('names values out of range instead of failing', () => {
    const r = importSdScriptsToml({
      config: 'network_module = "networks.lora"\nnetwork_dim = -3\nlearning_rate = 0\n',
    })
    expect(r.config.network.dim).toBe(32)
    expect(
      r.keys
        .filter((k) => k.code === 'toml_not_imported')
        .map((k) => k.params?.why)
        .sort(),
    ).toEqual(['network.dim', 'optimizer.learning_rate'])
  })

  it('refuses networks it cannot train and files that are not TOML, with codes', () => {
    expect(() => importSdScriptsToml({ config: 'network_module = "networks.dylora"' })).toThrow(
      expect.objectContaining({ code: 'toml_network_unsupported' }),
    )
    expect(() => importSdScriptsToml({ config: 'this is = = not toml' })).toThrow(TomlImportError)
    expect(() => importSdScriptsToml({ config: 'a = 1', dataset: '[[datasets' })).toThrow(
      expect.objectContaining({
        code: 'toml_bad_file',
        params: expect.objectContaining({ file: 'dataset.toml' }),
      }),
    )
  })

  it('never throws anything but its own error on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string()), (config, dataset) => {
        try {
          const r = importSdScriptsToml({ config, ...(dataset !== null ? { dataset } : {}) })
          expect(TrainingConfig.safeParse(r.config).success).toBe(true)
        } catch (e) {
          expect(e).toBeInstanceOf(TomlImportError)
        }
      }),
      { numRuns: 300 },
    )
  })
})
