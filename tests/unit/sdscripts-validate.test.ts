import { describe, expect, it } from 'vitest'
import { TrainingConfig, type TrainingConfigInput } from '../../core/config/schema'
import { FIX_LABELS, interpolate, ISSUE_MESSAGES } from '../../core/sdscripts/messages'
import { applyFix, RULE_IDS, validateConfig, type ValidationContext } from '../../core/sdscripts/validate'

/** A clean, valid LoRA config; each case below changes what it needs. */
const good: TrainingConfigInput = {
  type: 'lora',
  base_model: '/m/sdxl.safetensors',
  dataset: { subsets: [{ image_dir: '/d/10_cat', num_repeats: 10 }] },
  training: { max_train_epochs: 5 },
  saving: { output_dir: '/out', output_name: 'cat' },
}
const ALL = { packages: ['bitsandbytes', 'prodigyopt', 'dadaptation', 'lycoris-lora', 'xformers'] }

function cfg(patch: (c: TrainingConfigInput) => void): TrainingConfig {
  const c = structuredClone(good)
  patch(c)
  return TrainingConfig.parse(c)
}

interface Case {
  rule: string
  fires: (c: TrainingConfigInput) => void
  silent: (c: TrainingConfigInput) => void
  ctx?: ValidationContext
  /** The fix must make the rule go quiet. */
  fixable?: boolean
}

const sub = (c: TrainingConfigInput) => c.dataset!.subsets![0]!

const cases: Case[] = [
  {
    rule: 'te_cache.needs_unet_only',
    fires: (c) => (c.memory = { cache_text_encoder_outputs: true }),
    silent: (c) => (
      (c.memory = { cache_text_encoder_outputs: true }),
      (c.network = { train_unet_only: true })
    ),
    fixable: true,
  },
  {
    rule: 'te_cache.caption_variation',
    fires: (c) => (
      (c.memory = { cache_text_encoder_outputs: true }),
      (c.network = { train_unet_only: true }),
      (sub(c).shuffle_caption = true),
      (sub(c).caption_dropout_rate = 0.1)
    ),
    silent: (c) => (sub(c).shuffle_caption = true),
    fixable: true,
  },
  {
    rule: 'fp8.needs_mixed_precision',
    fires: (c) => (c.memory = { fp8_base: true, mixed_precision: 'no' }),
    silent: (c) => (c.memory = { fp8_base: true, mixed_precision: 'bf16' }),
    fixable: true,
  },
  {
    rule: 'fp8.lora_only',
    fires: (c) => ((c.type = 'dreambooth'), (c.memory = { fp8_base: true })),
    silent: (c) => (c.memory = { fp8_base: true }),
    fixable: true,
  },
  {
    rule: 'fused_backward.dreambooth_only',
    fires: (c) => ((c.memory = { fused_backward_pass: true }), (c.optimizer = { type: 'Adafactor' })),
    silent: (c) => (
      (c.type = 'dreambooth'),
      (c.memory = { fused_backward_pass: true }),
      (c.optimizer = { type: 'Adafactor' })
    ),
    fixable: true,
  },
  {
    rule: 'fused_backward.needs_adafactor',
    fires: (c) => ((c.type = 'dreambooth'), (c.memory = { fused_backward_pass: true })),
    silent: (c) => ((c.type = 'dreambooth'), (c.optimizer = { type: 'AdamW' })),
    fixable: true,
  },
  {
    rule: 'fused_backward.no_grad_accumulation',
    fires: (c) => (
      (c.type = 'dreambooth'),
      (c.memory = { fused_backward_pass: true }),
      (c.optimizer = { type: 'Adafactor' }),
      (c.training = { gradient_accumulation_steps: 4 })
    ),
    silent: (c) => (c.training = { gradient_accumulation_steps: 4 }),
    fixable: true,
  },
  {
    rule: 'extra_args.unknown',
    fires: (c) => (c.extra_args = { blocks_to_swap: 4 }),
    silent: (c) => (c.extra_args = { vae_batch_size: 4 }),
    fixable: true,
  },
  {
    rule: 'extra_args.unknown',
    fires: (c) => (c.extra_args = { fused_optimizer_groups: 4 }),
    silent: (c) => ((c.type = 'dreambooth'), (c.extra_args = { fused_optimizer_groups: 4 })),
    fixable: true,
  },
  {
    rule: 'extra_args.unknown',
    fires: (c) => (c.extra_args = { text_encoder_lr1: 1e-5 }),
    silent: (c) => (c.extra_args = { text_encoder_lr: 1e-5 }),
    fixable: true,
  },
  {
    rule: 'extra_args.unknown',
    fires: (c) => (c.extra_args = { cache_text: true }),
    silent: (c) => (c.extra_args = { debug_dataset: true }),
    fixable: true,
  },
  {
    rule: 'extra_args.dashes',
    fires: (c) => (c.extra_args = { '--vae_batch_size': 2 }),
    silent: (c) => (c.extra_args = { vae_batch_size: 2 }),
    fixable: true,
  },
  {
    rule: 'extra_args.bad_value',
    fires: (c) => (c.extra_args = { vae_batch_size: 'many' }),
    silent: (c) => (c.extra_args = { vae_batch_size: '2' }),
  },
  {
    rule: 'extra_args.bad_value',
    fires: (c) => (c.extra_args = { log_with: 'mlflow' }),
    silent: (c) => (c.extra_args = { log_with: 'wandb' }),
  },
  {
    rule: 'bucket.steps_multiple_of_32',
    fires: (c) => (c.dataset!.bucket_reso_steps = 48),
    silent: (c) => (c.dataset!.bucket_reso_steps = 32),
    fixable: true,
  },
  {
    rule: 'bucket.range',
    fires: (c) => (c.dataset!.max_bucket_reso = 768),
    silent: (c) => (c.dataset!.max_bucket_reso = 1024),
    fixable: true,
  },
  {
    rule: 'resolution.multiple_of_64',
    fires: (c) => (c.dataset!.resolution = { width: 1000, height: 1000 }),
    silent: (c) => (c.dataset!.resolution = { width: 896, height: 1152 }),
    fixable: true,
  },
  {
    rule: 'attention.none',
    fires: (c) => (c.memory = { attention: 'none' }),
    silent: (c) => (c.memory = { attention: 'xformers' }),
    fixable: true,
  },
  {
    rule: 'sampling.size_default',
    fires: (c) => (c.sampling = { enabled: true, every_n_epochs: 1, prompts: [{ prompt: 'x' }] }),
    silent: (c) =>
      (c.sampling = {
        enabled: true,
        every_n_epochs: 1,
        prompts: [{ prompt: 'x', width: 1024, height: 1024 }],
      }),
    fixable: true,
  },
  {
    rule: 'sampling.no_prompts',
    fires: (c) => (c.sampling = { enabled: true, every_n_epochs: 1 }),
    silent: (c) => (c.sampling = { enabled: false }),
    fixable: true,
  },
  {
    rule: 'sampling.no_schedule',
    fires: (c) => (c.sampling = { enabled: true, prompts: [{ prompt: 'x', width: 1024, height: 1024 }] }),
    silent: (c) =>
      (c.sampling = {
        enabled: true,
        every_n_steps: 100,
        prompts: [{ prompt: 'x', width: 1024, height: 1024 }],
      }),
    fixable: true,
  },
  {
    rule: 'package.required',
    ctx: { packages: [] },
    fires: (c) => (c.optimizer = { type: 'AdamW8bit' }),
    silent: (c) => (c.optimizer = { type: 'AdamW' }),
  },
  {
    rule: 'package.required',
    ctx: { packages: ['bitsandbytes'] },
    fires: (c) => (c.optimizer = { type: 'DAdaptAdam', learning_rate: 1 }),
    silent: (c) => (c.optimizer = { type: 'PagedAdamW8bit' }),
  },
  {
    rule: 'package.required',
    ctx: { packages: ['bitsandbytes'] },
    fires: (c) => (c.type = 'loha'),
    silent: (c) => (c.type = 'locon'),
  },
  {
    rule: 'optimizer.adaptive_lr',
    fires: (c) => (c.optimizer = { type: 'Prodigy', learning_rate: 1e-4 }),
    silent: (c) => (c.optimizer = { type: 'Prodigy', learning_rate: 1 }),
    fixable: true,
  },
  {
    rule: 'optimizer.adaptive_lr',
    fires: (c) => (c.optimizer = { type: 'DAdaptAdam', learning_rate: 1, unet_lr: 1e-4 }),
    silent: (c) => (c.optimizer = { type: 'AdamW', learning_rate: 1e-4 }),
    fixable: true,
  },
  {
    rule: 'precision.full_bf16',
    fires: (c) => (c.memory = { full_bf16: true, mixed_precision: 'fp16', no_half_vae: true }),
    silent: (c) => (c.memory = { full_bf16: true, mixed_precision: 'bf16' }),
    fixable: true,
  },
  {
    rule: 'precision.full_fp16',
    fires: (c) => (c.memory = { full_fp16: true, mixed_precision: 'bf16' }),
    silent: (c) => (c.memory = { full_fp16: true, mixed_precision: 'fp16', no_half_vae: true }),
    fixable: true,
  },
  {
    rule: 'precision.both_full',
    fires: (c) => (c.memory = { full_fp16: true, full_bf16: true }),
    silent: (c) => (c.memory = { full_bf16: true }),
    fixable: true,
  },
  {
    rule: 'precision.fp16_vae',
    fires: (c) => (c.memory = { mixed_precision: 'fp16' }),
    silent: (c) => (c.memory = { mixed_precision: 'fp16', no_half_vae: true }),
    fixable: true,
  },
  {
    rule: 'save.format',
    fires: (c) => (c.saving = { ...c.saving, save_model_as: 'diffusers' }),
    silent: (c) => ((c.type = 'dreambooth'), (c.saving = { ...c.saving, save_model_as: 'diffusers' })),
    fixable: true,
  },
  {
    rule: 'save.format',
    fires: (c) => ((c.type = 'dreambooth'), (c.saving = { ...c.saving, save_model_as: 'pt' })),
    silent: (c) => (c.saving = { ...c.saving, save_model_as: 'pt' }),
    fixable: true,
  },
  {
    rule: 'extra_args.overrides',
    fires: (c) => (c.extra_args = { learning_rate: 1e-5 }),
    silent: (c) => (c.extra_args = { vae_batch_size: 2 }),
    fixable: true,
  },
  {
    rule: 'save.output',
    fires: (c) => (c.saving = { output_dir: '', output_name: 'x' }),
    silent: (c) => (c.saving = { output_dir: '/o', output_name: 'x' }),
  },
  {
    rule: 'save.output',
    fires: (c) => (c.saving = { output_dir: '/o', output_name: 'a/b' }),
    silent: (c) => (c.saving = { output_dir: '/o', output_name: 'a-b' }),
  },
  {
    rule: 'model.missing',
    fires: (c) => (c.base_model = '<<SET: model>>'),
    silent: (c) => (c.base_model = 'stabilityai/stable-diffusion-xl-base-1.0'),
  },
  { rule: 'dataset.subsets', fires: (c) => (sub(c).is_reg = true), silent: (c) => (sub(c).is_reg = false) },
  { rule: 'dataset.subsets', fires: (c) => (c.dataset!.subsets = []), silent: () => undefined },
  {
    rule: 'dataset.reg_dreambooth_loss',
    fires: (c) => ((c.type = 'dreambooth'), (c.loss = { prior_loss_weight: 0.5 })),
    silent: (c) => (c.loss = { prior_loss_weight: 0.5 }),
    fixable: true,
  },
  {
    rule: 'length.unset',
    fires: (c) => (c.training = {}),
    silent: (c) => (c.training = { max_train_steps: 1000 }),
    fixable: true,
  },
  {
    rule: 'network.conv_ignored',
    fires: (c) => (c.network = { conv_dim: 8 }),
    silent: (c) => ((c.type = 'locon'), (c.network = { conv_dim: 8 })),
    fixable: true,
  },
  {
    rule: 'network.alpha_above_dim',
    fires: (c) => (c.network = { dim: 8, alpha: 16 }),
    silent: (c) => (c.network = { dim: 16, alpha: 16 }),
    fixable: true,
  },
  {
    rule: 'network.dreambooth_unet_only',
    fires: (c) => ((c.type = 'dreambooth'), (c.optimizer = { train_text_encoder: true, text_encoder_lr: 0 })),
    silent: (c) => (
      (c.type = 'dreambooth'),
      (c.optimizer = { train_text_encoder: true, text_encoder_lr: 1e-6 })
    ),
    fixable: true,
  },
  {
    rule: 'warmup.constant',
    fires: (c) => (c.optimizer = { lr_warmup_steps: 100 }),
    silent: (c) => (c.optimizer = { lr_warmup_steps: 100, lr_scheduler: 'constant_with_warmup' }),
    fixable: true,
  },
  {
    rule: 'warmup.ratio',
    fires: (c) => (c.optimizer = { lr_warmup_steps: 10.5, lr_scheduler: 'cosine' }),
    silent: (c) => (c.optimizer = { lr_warmup_steps: 0.1, lr_scheduler: 'cosine' }),
    fixable: true,
  },
  {
    rule: 'launch.gpu_ids',
    fires: (c) => (c.launch = { gpu_ids: '0,0', num_processes: 2 }),
    silent: (c) => (c.launch = { gpu_ids: '0,1', num_processes: 2 }),
    fixable: true,
  },
  {
    rule: 'launch.gpu_missing',
    fires: (c) => (c.launch = { gpu_ids: '0,3', num_processes: 2 }),
    silent: (c) => (c.launch = { gpu_ids: '1,0', num_processes: 2 }),
    ctx: { ...ALL, gpus: [0, 1] },
    fixable: true,
  },
  {
    rule: 'multi_gpu.fused_backward',
    fires: (c) => (
      (c.type = 'dreambooth'),
      (c.optimizer = { type: 'Adafactor', train_text_encoder: false }),
      (c.memory = { fused_backward_pass: true, cache_latents_to_disk: true, max_data_loader_n_workers: 0 }),
      (c.launch = { gpu_ids: '0,1', num_processes: 2 })
    ),
    silent: (c) => (
      (c.type = 'dreambooth'),
      (c.optimizer = { type: 'Adafactor', train_text_encoder: false }),
      (c.memory = { fused_backward_pass: true })
    ),
    fixable: true,
  },
  {
    rule: 'multi_gpu.fused_groups',
    fires: (c) => (
      (c.type = 'dreambooth'),
      (c.extra_args = { fused_optimizer_groups: 4 }),
      (c.launch = { gpu_ids: '0,1', num_processes: 2 })
    ),
    silent: (c) => ((c.type = 'dreambooth'), (c.extra_args = { fused_optimizer_groups: 4 })),
    fixable: true,
  },
  {
    rule: 'multi_gpu.ddp_single',
    fires: (c) => (c.extra_args = { ddp_timeout: 30 }),
    silent: (c) => ((c.extra_args = { ddp_timeout: 30 }), (c.launch = { gpu_ids: '0,1', num_processes: 2 })),
    fixable: true,
  },
  {
    rule: 'multi_gpu.cache_in_memory',
    fires: (c) => (c.launch = { gpu_ids: '0,1', num_processes: 2 }),
    silent: (c) => (
      (c.memory = { cache_latents_to_disk: true }),
      (c.launch = { gpu_ids: '0,1', num_processes: 2 })
    ),
    fixable: true,
  },
  {
    rule: 'multi_gpu.windows_gloo',
    fires: (c) => (c.launch = { gpu_ids: '0,1', num_processes: 2 }),
    silent: (c) => (c.launch = { gpu_ids: '0', num_processes: 1 }),
    ctx: { ...ALL, platform: 'windows' },
  },
  {
    rule: 'multi_gpu.ddp_buckets',
    fires: (c) => ((c.type = 'dreambooth'), (c.launch = { gpu_ids: '0,1', num_processes: 2 })),
    silent: (c) => (c.type = 'dreambooth'),
    fixable: true,
  },
  {
    rule: 'multi_gpu.workers',
    fires: (c) => (c.launch = { gpu_ids: '0,1', num_processes: 2 }),
    silent: (c) => (
      (c.memory = { max_data_loader_n_workers: 0 }),
      (c.launch = { gpu_ids: '0,1', num_processes: 2 })
    ),
  },
  {
    rule: 'multi_gpu.effective_batch',
    fires: (c) => (c.launch = { gpu_ids: '0,1', num_processes: 2 }),
    silent: (c) => (c.launch = { gpu_ids: '0', num_processes: 1 }),
  },
  {
    rule: 'launch.gpu_count',
    fires: (c) => (c.launch = { gpu_ids: '0,1' }),
    silent: (c) => (c.launch = { gpu_ids: '0,1', num_processes: 2 }),
    fixable: true,
  },
  {
    // A typo: sd-scripts would look for torch.optim.Adam8bit and stop.
    rule: 'optimizer.unknown',
    fires: (c) => (c.optimizer = { type: 'Adam8bit' }),
    silent: (c) => (c.optimizer = { type: 'bitsandbytes.optim.AdEMAMix8bit' }),
  },
  {
    rule: 'optimizer.unknown',
    fires: (c) => (c.optimizer = { type: 'adam w' }),
    silent: (c) => (c.optimizer = { type: 'adamw8BIT' }),
  },
  {
    rule: 'logging.needs_dir',
    fires: (c) => (c.logging = { log_with: 'tensorboard' }),
    silent: (c) => (c.logging = { log_with: 'wandb' }),
  },
]

describe('validation rules', () => {
  it('the clean config has no issues', () => {
    expect(validateConfig(TrainingConfig.parse(good), ALL)).toEqual([])
  })

  it('every rule has at least one table case', () => {
    const covered = new Set(cases.map((c) => c.rule))
    expect(RULE_IDS.filter((id) => !covered.has(id))).toEqual([])
  })

  for (const [i, k] of cases.entries()) {
    const ctx = k.ctx ?? ALL
    it(`${k.rule} #${i}: fires when it should, silent otherwise${k.fixable ? ', and its fix works' : ''}`, () => {
      const bad = cfg(k.fires)
      const hits = validateConfig(bad, ctx).filter((x) => x.rule === k.rule)
      expect(hits.length).toBeGreaterThan(0)
      for (const h of hits) {
        expect(h.message.length).toBeGreaterThan(20)
        // Every message has a translation code whose English template gives exactly this text.
        const template = ISSUE_MESSAGES[h.code as keyof typeof ISSUE_MESSAGES]
        expect(template, `${h.rule} code ${h.code}`).toBeDefined()
        expect(interpolate(template, h.params)).toBe(h.message)
        if (h.fix)
          expect(interpolate(FIX_LABELS[h.fix.code as keyof typeof FIX_LABELS], h.fix.params)).toBe(
            h.fix.label,
          )
      }
      expect(validateConfig(cfg(k.silent), ctx).filter((x) => x.rule === k.rule)).toEqual([])
      if (k.fixable) {
        let fixed = bad
        for (const h of hits) {
          expect(h.fix, `${k.rule} should offer a fix`).toBeDefined()
          fixed = applyFix(fixed, h.fix!)
        }
        expect(validateConfig(fixed, ctx).filter((x) => x.rule === k.rule)).toEqual([])
      }
    })
  }

  it('blocks_to_swap names the reason (not for SDXL)', () => {
    const [issue] = validateConfig(
      cfg((c) => (c.extra_args = { blocks_to_swap: 4 })),
      ALL,
    )
    expect(issue?.message).toMatch(/not for SDXL/)
  })

  it('package rule is only informational when the environment is unknown', () => {
    const issues = validateConfig(
      cfg((c) => (c.optimizer = { type: 'AdamW8bit' })),
      {},
    )
    expect(issues.find((x) => x.rule === 'package.required')?.severity).toBe('info')
  })

  it('numbers out of range are refused by the schema with the field named', () => {
    const r = TrainingConfig.safeParse({
      ...good,
      network: { dim: 0 },
      dataset: { ...good.dataset, min_bucket_reso: 10 },
    })
    expect(r.success).toBe(false)
    const paths = r.error!.issues.map((i) => i.path.join('.'))
    expect(paths).toContain('network.dim')
    expect(paths).toContain('dataset.min_bucket_reso')
  })
})
