import type { z } from 'zod'
import { isNetworkType, TrainingConfig, type TrainingConfig as Config } from '../config/schema'
import { expansionsOf, optionInfo } from './args'
import { buildConfigArgs, coerceExtraArg, scriptFor } from './render'
import { label, msg, type MessageCode, type Params } from './messages'
import { optimizerKind } from './optimizers'
import { setPath } from '../config/set-path'
import { multiGpuRules } from './validate-multi-gpu'

export { setPath }

/**
 * Checks a config against what sd-scripts v0.10.1 really does, before anything is launched.
 * Every rule has a stable id, a message that says what to change, and where possible a fix:
 * a list of field assignments the UI applies with one click (applyFix).
 */

export type Severity = 'error' | 'warning' | 'info'

export interface FixOp {
  /** Dotted path into the config, e.g. "memory.fp8_base" or "dataset.subsets.0.shuffle_caption". */
  path: string
  /** The new value; undefined removes the field (back to its default). */
  value?: unknown
}

export interface Fix {
  label: string
  /** Translation code and parameters of the label (core/sdscripts/messages.ts). */
  code?: string
  params?: Params
  set: FixOp[]
}

export interface Issue {
  rule: string
  severity: Severity
  /** English text; `code` and `params` let the UI show it in another language. */
  message: string
  code?: string
  params?: Params
  /** The field the message is about, for inline display. */
  field?: string
  fix?: Fix
}

/** What the service knows about the environment; rules that need it stay quiet or soft without it. */
export interface ValidationContext {
  /** Installed Python distributions (lower case) of the training environment, when known. */
  packages?: string[]
  /** nvidia-smi indexes of this machine's GPUs, when known (the GPU choice is checked against them). */
  gpus?: number[]
  /** Where the run will start (several GPUs work differently on Windows). */
  platform?: 'windows' | 'linux' | 'mac'
}

interface Rule {
  id: string
  check: (c: Config, ctx: ValidationContext) => Issue[]
}

const PLACEHOLDER = /^<<.*>>$/

const ADAPTIVE_LR = /^(dadapt|prodigy)/i
const DADAPT = /^dadapt/i

function usesBitsandbytes(optimizer: string): boolean {
  const o = optimizer.toLowerCase()
  return o.endsWith('8bit') || o.startsWith('paged') || o.startsWith('bitsandbytes.')
}

/** Python package (distribution name) an optimizer or network needs beyond sd-scripts' requirements. */
function needsPackage(c: Config): Array<{ pkg: string; why: string }> {
  const out: Array<{ pkg: string; why: string }> = []
  const o = c.optimizer.type
  if (usesBitsandbytes(o)) out.push({ pkg: 'bitsandbytes', why: o })
  if (DADAPT.test(o)) out.push({ pkg: 'dadaptation', why: o })
  if (/^prodigy$/i.test(o)) out.push({ pkg: 'prodigyopt', why: o })
  if (/schedulefree$/i.test(o)) out.push({ pkg: 'schedulefree', why: o })
  if (/^lion$/i.test(o)) out.push({ pkg: 'lion-pytorch', why: o })
  if (c.type === 'loha' || c.type === 'lokr')
    out.push({ pkg: 'lycoris-lora', why: `${c.type === 'loha' ? 'LoHa' : 'LoKr'} (lycoris.kohya)` })
  if (c.memory.attention === 'xformers') out.push({ pkg: 'xformers', why: 'xformers' })
  return out
}

function subsetsOps(c: Config, key: string, value: unknown): FixOp[] {
  return c.dataset.subsets.map((_, i) => ({ path: `dataset.subsets.${i}.${key}`, value }))
}

const rules: Rule[] = [
  {
    id: 'te_cache.needs_unet_only',
    check: (c) => {
      if (!c.memory.cache_text_encoder_outputs && !c.memory.cache_text_encoder_outputs_to_disk) return []
      if (isNetworkType(c.type) && !c.network.train_unet_only)
        return [
          {
            rule: 'te_cache.needs_unet_only',
            severity: 'error',
            field: 'network.train_unet_only',
            ...msg('te_cache_unet_only'),
            fix: { ...label('unet_only'), set: [{ path: 'network.train_unet_only', value: true }] },
          },
        ]
      if (!isNetworkType(c.type) && c.optimizer.train_text_encoder)
        return [
          {
            rule: 'te_cache.needs_unet_only',
            severity: 'error',
            field: 'optimizer.train_text_encoder',
            ...msg('te_cache_train_te'),
            fix: {
              ...label('no_te_training'),
              set: [{ path: 'optimizer.train_text_encoder', value: false }],
            },
          },
        ]
      return []
    },
  },
  {
    id: 'te_cache.caption_variation',
    check: (c) => {
      if (!c.memory.cache_text_encoder_outputs && !c.memory.cache_text_encoder_outputs_to_disk) return []
      const bad = c.dataset.subsets.some(
        (s) =>
          s.shuffle_caption ||
          s.caption_dropout_rate > 0 ||
          s.caption_tag_dropout_rate > 0 ||
          s.token_warmup_step > 0 ||
          s.caption_dropout_every_n_epochs > 0,
      )
      if (!bad) return []
      return [
        {
          rule: 'te_cache.caption_variation',
          severity: 'error',
          field: 'dataset.subsets',
          ...msg('te_cache_caption_variation'),
          fix: {
            ...label('captions_off'),
            set: [
              ...subsetsOps(c, 'shuffle_caption', false),
              ...subsetsOps(c, 'caption_dropout_rate', 0),
              ...subsetsOps(c, 'caption_tag_dropout_rate', 0),
              ...subsetsOps(c, 'caption_dropout_every_n_epochs', 0),
              ...subsetsOps(c, 'token_warmup_step', 0),
            ],
          },
        },
      ]
    },
  },
  {
    id: 'fp8.needs_mixed_precision',
    check: (c) =>
      c.memory.fp8_base && c.memory.mixed_precision === 'no'
        ? [
            {
              rule: 'fp8.needs_mixed_precision',
              severity: 'error',
              field: 'memory.mixed_precision',
              ...msg('fp8_mixed_precision'),
              fix: {
                ...label('use_bf16'),
                set: [{ path: 'memory.mixed_precision', value: 'bf16' }],
              },
            },
          ]
        : [],
  },
  {
    id: 'fp8.lora_only',
    check: (c) =>
      c.memory.fp8_base && !isNetworkType(c.type)
        ? [
            {
              rule: 'fp8.lora_only',
              severity: 'error',
              field: 'memory.fp8_base',
              ...msg('fp8_lora_only'),
              fix: { ...label('fp8_off'), set: [{ path: 'memory.fp8_base', value: false }] },
            },
          ]
        : [],
  },
  {
    id: 'fused_backward.dreambooth_only',
    check: (c) =>
      c.memory.fused_backward_pass && isNetworkType(c.type)
        ? [
            {
              rule: 'fused_backward.dreambooth_only',
              severity: 'error',
              field: 'memory.fused_backward_pass',
              ...msg('fused_dreambooth_only'),
              fix: {
                ...label('fused_off'),
                set: [{ path: 'memory.fused_backward_pass', value: false }],
              },
            },
          ]
        : [],
  },
  {
    id: 'fused_backward.needs_adafactor',
    check: (c) =>
      c.memory.fused_backward_pass && c.optimizer.type.toLowerCase() !== 'adafactor'
        ? [
            {
              rule: 'fused_backward.needs_adafactor',
              severity: 'error',
              field: 'optimizer.type',
              ...msg('fused_adafactor', { optimizer: c.optimizer.type }),
              fix: {
                ...label('use_adafactor'),
                set: [
                  { path: 'optimizer.type', value: 'Adafactor' },
                  {
                    path: 'optimizer.args',
                    value: ['scale_parameter=False', 'relative_step=False', 'warmup_init=False'],
                  },
                ],
              },
            },
          ]
        : [],
  },
  {
    id: 'fused_backward.no_grad_accumulation',
    check: (c) =>
      c.memory.fused_backward_pass && c.training.gradient_accumulation_steps > 1
        ? [
            {
              rule: 'fused_backward.no_grad_accumulation',
              severity: 'error',
              field: 'training.gradient_accumulation_steps',
              ...msg('fused_grad_accumulation'),
              fix: {
                ...label('grad_accum_1'),
                set: [{ path: 'training.gradient_accumulation_steps', value: 1 }],
              },
            },
          ]
        : [],
  },
  {
    id: 'extra_args.unknown',
    check: (c) => {
      const script = scriptFor(c)
      const out: Issue[] = []
      for (const raw of Object.keys(c.extra_args)) {
        const name = raw.replace(/^-+/, '')
        if (name !== raw || optionInfo(script, name)) continue
        const full = expansionsOf(script, name)
        const text =
          name === 'blocks_to_swap'
            ? msg('extra_blocks_to_swap')
            : name === 'fused_optimizer_groups'
              ? msg('extra_fused_optimizer_groups')
              : name === 'text_encoder_lr1' || name === 'text_encoder_lr2'
                ? msg('extra_text_encoder_lr_n', { name })
                : full.length
                  ? msg('extra_abbreviated', {
                      name,
                      script,
                      full: full
                        .slice(0, 3)
                        .map((f) => `--${f}`)
                        .join(', '),
                    })
                  : msg('extra_unknown', { name, script })
        out.push({
          rule: 'extra_args.unknown',
          severity: 'error',
          field: `extra_args.${raw}`,
          ...text,
          fix: {
            ...label('remove_arg', { name: raw }),
            set: [{ path: `extra_args.${raw}`, value: undefined }],
          },
        })
      }
      return out
    },
  },
  {
    id: 'extra_args.dashes',
    check: (c) =>
      Object.keys(c.extra_args)
        .filter((k) => k.startsWith('-'))
        .map((k) => ({
          rule: 'extra_args.dashes',
          severity: 'error' as const,
          field: `extra_args.${k}`,
          ...msg('extra_dashes', { name: k.replace(/^-+/, ''), raw: k }),
          fix: {
            ...label('remove_dashes'),
            set: [
              { path: `extra_args.${k}`, value: undefined },
              { path: `extra_args.${k.replace(/^-+/, '')}`, value: c.extra_args[k] },
            ],
          },
        })),
  },
  {
    id: 'extra_args.bad_value',
    check: (c) => {
      const script = scriptFor(c)
      const out: Issue[] = []
      for (const [name, value] of Object.entries(c.extra_args)) {
        const info = optionInfo(script, name)
        if (!info) continue
        const v = coerceExtraArg(script, name, value)
        const bad = v === null || (info.choices && v !== false && !info.choices.includes(v))
        if (bad)
          out.push({
            rule: 'extra_args.bad_value',
            severity: 'error',
            field: `extra_args.${name}`,
            ...(info.choices
              ? msg('extra_bad_choice', {
                  name,
                  choices: info.choices.filter((x) => x !== null).join(', '),
                  value: JSON.stringify(value),
                })
              : msg('extra_bad_type', { name, kind: info.kind, value: JSON.stringify(value) })),
          })
      }
      return out
    },
  },
  {
    id: 'bucket.steps_multiple_of_32',
    check: (c) => {
      const s = c.dataset.bucket_reso_steps
      if (!c.dataset.enable_bucket || s % 32 === 0) return []
      const fixed = Math.max(32, Math.round(s / 32) * 32)
      return [
        {
          rule: 'bucket.steps_multiple_of_32',
          severity: 'error',
          field: 'dataset.bucket_reso_steps',
          ...msg('bucket_steps', { steps: s }),
          fix: {
            ...label('use_value', { value: fixed }),
            set: [{ path: 'dataset.bucket_reso_steps', value: fixed }],
          },
        },
      ]
    },
  },
  {
    id: 'bucket.range',
    check: (c) => {
      const d = c.dataset
      if (!d.enable_bucket) return []
      const side = Math.min(d.resolution.width, d.resolution.height)
      const big = Math.max(d.resolution.width, d.resolution.height)
      if (d.min_bucket_reso <= side && d.max_bucket_reso >= big) return []
      return [
        {
          rule: 'bucket.range',
          severity: 'error',
          field: 'dataset.min_bucket_reso',
          ...msg('bucket_range', { min: d.min_bucket_reso, side, max: d.max_bucket_reso, big }),
          fix: {
            ...label('widen_buckets'),
            set: [
              { path: 'dataset.min_bucket_reso', value: Math.min(d.min_bucket_reso, side) },
              { path: 'dataset.max_bucket_reso', value: Math.max(d.max_bucket_reso, big) },
            ],
          },
        },
      ]
    },
  },
  {
    id: 'resolution.multiple_of_64',
    check: (c) => {
      const { width, height } = c.dataset.resolution
      if (width % 64 === 0 && height % 64 === 0) return []
      return [
        {
          rule: 'resolution.multiple_of_64',
          severity: 'warning',
          field: 'dataset.resolution',
          ...msg('resolution_64', { width, height }),
          fix: {
            ...label('round_64'),
            set: [
              {
                path: 'dataset.resolution',
                value: { width: Math.round(width / 64) * 64, height: Math.round(height / 64) * 64 },
              },
            ],
          },
        },
      ]
    },
  },
  {
    id: 'attention.none',
    check: (c) =>
      c.memory.attention === 'none'
        ? [
            {
              rule: 'attention.none',
              severity: 'warning',
              field: 'memory.attention',
              ...msg('attention_none'),
              fix: { ...label('use_sdpa'), set: [{ path: 'memory.attention', value: 'sdpa' }] },
            },
          ]
        : [],
  },
  {
    id: 'sampling.size_default',
    check: (c) => {
      if (!c.sampling.enabled) return []
      const idx = c.sampling.prompts.flatMap((p, i) =>
        p.width === undefined || p.height === undefined ? [i] : [],
      )
      if (!idx.length) return []
      return [
        {
          rule: 'sampling.size_default',
          severity: 'warning',
          field: 'sampling.prompts',
          ...msg('sampling_size', { count: idx.length }),
          fix: {
            ...label('sample_size'),
            set: idx.flatMap((i) => [
              {
                path: `sampling.prompts.${i}.width`,
                value: c.sampling.prompts[i]?.width ?? c.dataset.resolution.width,
              },
              {
                path: `sampling.prompts.${i}.height`,
                value: c.sampling.prompts[i]?.height ?? c.dataset.resolution.height,
              },
            ]),
          },
        },
      ]
    },
  },
  {
    id: 'sampling.no_prompts',
    check: (c) =>
      c.sampling.enabled && c.sampling.prompts.length === 0
        ? [
            {
              rule: 'sampling.no_prompts',
              severity: 'error',
              field: 'sampling.prompts',
              ...msg('sampling_no_prompts'),
              fix: { ...label('sampling_off'), set: [{ path: 'sampling.enabled', value: false }] },
            },
          ]
        : [],
  },
  {
    id: 'sampling.no_schedule',
    check: (c) =>
      c.sampling.enabled &&
      !c.sampling.every_n_epochs &&
      !c.sampling.every_n_steps &&
      !c.sampling.sample_at_first
        ? [
            {
              rule: 'sampling.no_schedule',
              severity: 'warning',
              field: 'sampling.every_n_epochs',
              ...msg('sampling_no_schedule'),
              fix: { ...label('sample_every_epoch'), set: [{ path: 'sampling.every_n_epochs', value: 1 }] },
            },
          ]
        : [],
  },
  {
    id: 'package.required',
    check: (c, ctx) =>
      needsPackage(c).flatMap(({ pkg, why }) => {
        const known = ctx.packages
        if (known && known.includes(pkg)) return []
        const missing = known !== undefined
        return [
          {
            rule: 'package.required',
            severity: missing ? ('error' as const) : ('info' as const),
            field:
              pkg === 'xformers' ? 'memory.attention' : pkg === 'lycoris-lora' ? 'type' : 'optimizer.type',
            ...msg(missing ? 'package_missing' : 'package_needed', { what: why, pkg }),
          },
        ]
      }),
  },
  {
    id: 'optimizer.adaptive_lr',
    check: (c) => {
      const o = c.optimizer
      if (!ADAPTIVE_LR.test(o.type)) return []
      const lrs = [o.learning_rate, o.unet_lr, o.text_encoder_lr].filter(
        (x): x is number => x !== undefined && x > 0,
      )
      if (lrs.every((x) => x > 0.1)) return []
      return [
        {
          rule: 'optimizer.adaptive_lr',
          severity: 'warning',
          field: 'optimizer.learning_rate',
          ...msg('adaptive_lr', { optimizer: o.type, lrs: lrs.join(', ') }),
          fix: {
            ...label('lr_one'),
            set: [
              { path: 'optimizer.learning_rate', value: 1 },
              ...(o.unet_lr !== undefined ? [{ path: 'optimizer.unet_lr', value: 1 }] : []),
              ...(o.text_encoder_lr ? [{ path: 'optimizer.text_encoder_lr', value: 1 }] : []),
            ],
          },
        },
      ]
    },
  },
  {
    id: 'precision.full_bf16',
    check: (c) =>
      c.memory.full_bf16 && c.memory.mixed_precision !== 'bf16'
        ? [
            {
              rule: 'precision.full_bf16',
              severity: 'error',
              field: 'memory.full_bf16',
              ...msg('full_bf16'),
              fix: {
                ...label('use_bf16'),
                set: [{ path: 'memory.mixed_precision', value: 'bf16' }],
              },
            },
          ]
        : [],
  },
  {
    id: 'precision.full_fp16',
    check: (c) =>
      c.memory.full_fp16 && c.memory.mixed_precision !== 'fp16'
        ? [
            {
              rule: 'precision.full_fp16',
              severity: 'error',
              field: 'memory.full_fp16',
              ...msg('full_fp16'),
              fix: {
                ...label('use_fp16'),
                set: [{ path: 'memory.mixed_precision', value: 'fp16' }],
              },
            },
          ]
        : [],
  },
  {
    id: 'precision.both_full',
    check: (c) =>
      c.memory.full_bf16 && c.memory.full_fp16
        ? [
            {
              rule: 'precision.both_full',
              severity: 'error',
              field: 'memory.full_fp16',
              ...msg('both_full'),
              fix: { ...label('keep_full_bf16'), set: [{ path: 'memory.full_fp16', value: false }] },
            },
          ]
        : [],
  },
  {
    id: 'precision.fp16_vae',
    check: (c) =>
      c.memory.mixed_precision === 'fp16' && !c.memory.no_half_vae
        ? [
            {
              rule: 'precision.fp16_vae',
              severity: 'warning',
              field: 'memory.no_half_vae',
              ...msg('fp16_vae'),
              fix: { ...label('vae_float32'), set: [{ path: 'memory.no_half_vae', value: true }] },
            },
          ]
        : [],
  },
  {
    id: 'save.format',
    check: (c) => {
      const format = c.saving.save_model_as
      const net = isNetworkType(c.type)
      if (net ? !format.startsWith('diffusers') : format !== 'pt') return []
      return [
        {
          rule: 'save.format',
          severity: 'error',
          field: 'saving.save_model_as',
          ...(net ? msg('save_format', { type: c.type, format }) : msg('save_format_dreambooth')),
          fix: {
            ...label('save_safetensors'),
            set: [{ path: 'saving.save_model_as', value: 'safetensors' }],
          },
        },
      ]
    },
  },
  {
    id: 'extra_args.overrides',
    check: (c) => {
      if (!Object.keys(c.extra_args).length) return []
      const { args } = buildConfigArgs({ ...c, extra_args: {} })
      return Object.keys(c.extra_args)
        .filter((k) => k in args)
        .map((k) => ({
          rule: 'extra_args.overrides',
          severity: 'info' as const,
          field: `extra_args.${k}`,
          ...msg('extra_overrides', { name: k }),
          fix: { ...label('remove_arg', { name: k }), set: [{ path: `extra_args.${k}`, value: undefined }] },
        }))
    },
  },
  {
    id: 'save.output',
    check: (c) => {
      const out: Issue[] = []
      if (!c.saving.output_dir.trim() || PLACEHOLDER.test(c.saving.output_dir))
        out.push({
          rule: 'save.output',
          severity: 'error',
          field: 'saving.output_dir',
          ...msg('output_dir'),
        })
      if (!c.saving.output_name.trim() || /[\\/:*?"<>|]/.test(c.saving.output_name))
        out.push({
          rule: 'save.output',
          severity: 'error',
          field: 'saving.output_name',
          ...msg('output_name'),
        })
      return out
    },
  },
  {
    id: 'model.missing',
    check: (c) =>
      !c.base_model.trim() || PLACEHOLDER.test(c.base_model)
        ? [
            {
              rule: 'model.missing',
              severity: 'error',
              field: 'base_model',
              ...msg('model_missing'),
            },
          ]
        : [],
  },
  {
    id: 'dataset.subsets',
    check: (c) => {
      const out: Issue[] = []
      const train = c.dataset.subsets.filter((s) => !s.is_reg)
      if (!train.length)
        out.push({
          rule: 'dataset.subsets',
          severity: 'error',
          field: 'dataset.subsets',
          ...msg('no_train_subset'),
        })
      c.dataset.subsets.forEach((s, i) => {
        if (!s.image_dir.trim() || PLACEHOLDER.test(s.image_dir))
          out.push({
            rule: 'dataset.subsets',
            severity: 'error',
            field: `dataset.subsets.${i}.image_dir`,
            ...msg('subset_no_folder', { n: i + 1 }),
          })
      })
      return out
    },
  },
  {
    id: 'dataset.reg_dreambooth_loss',
    check: (c) =>
      !isNetworkType(c.type) && c.loss.prior_loss_weight !== 1
        ? [
            {
              rule: 'dataset.reg_dreambooth_loss',
              severity: 'warning',
              field: 'loss.prior_loss_weight',
              ...msg('dreambooth_prior_loss'),
              fix: { ...label('reset_one'), set: [{ path: 'loss.prior_loss_weight', value: 1 }] },
            },
          ]
        : [],
  },
  {
    id: 'length.unset',
    check: (c) =>
      c.training.max_train_epochs === undefined && c.training.max_train_steps === undefined
        ? [
            {
              rule: 'length.unset',
              severity: 'warning',
              field: 'training.max_train_epochs',
              ...msg('length_unset'),
              fix: { ...label('ten_epochs'), set: [{ path: 'training.max_train_epochs', value: 10 }] },
            },
          ]
        : [],
  },
  {
    id: 'network.conv_ignored',
    check: (c) =>
      c.type === 'lora' && c.network.conv_dim !== undefined
        ? [
            {
              rule: 'network.conv_ignored',
              severity: 'info',
              field: 'network.conv_dim',
              ...msg('conv_ignored'),
              fix: { ...label('switch_locon'), set: [{ path: 'type', value: 'locon' }] },
            },
          ]
        : [],
  },
  {
    id: 'network.alpha_above_dim',
    check: (c) =>
      isNetworkType(c.type) && c.network.alpha > c.network.dim
        ? [
            {
              rule: 'network.alpha_above_dim',
              severity: 'warning',
              field: 'network.alpha',
              ...msg('alpha_above_dim', { alpha: c.network.alpha, dim: c.network.dim }),
              fix: { ...label('alpha_dim'), set: [{ path: 'network.alpha', value: c.network.dim }] },
            },
          ]
        : [],
  },
  {
    id: 'network.dreambooth_unet_only',
    check: (c) =>
      !isNetworkType(c.type) && c.optimizer.train_text_encoder && c.optimizer.text_encoder_lr === 0
        ? [
            {
              rule: 'network.dreambooth_unet_only',
              severity: 'warning',
              field: 'optimizer.text_encoder_lr',
              ...msg('te_lr_zero'),
              fix: {
                ...label('no_te_training'),
                set: [{ path: 'optimizer.train_text_encoder', value: false }],
              },
            },
          ]
        : [],
  },
  {
    id: 'warmup.constant',
    check: (c) =>
      c.optimizer.lr_warmup_steps > 0 && c.optimizer.lr_scheduler === 'constant'
        ? [
            {
              rule: 'warmup.constant',
              severity: 'warning',
              field: 'optimizer.lr_warmup_steps',
              ...msg('warmup_constant'),
              fix: {
                ...label('constant_with_warmup'),
                set: [{ path: 'optimizer.lr_scheduler', value: 'constant_with_warmup' }],
              },
            },
          ]
        : [],
  },
  {
    id: 'warmup.ratio',
    check: (c) => {
      const w = c.optimizer.lr_warmup_steps
      return w > 1 && !Number.isInteger(w)
        ? [
            {
              rule: 'warmup.ratio',
              severity: 'error',
              field: 'optimizer.lr_warmup_steps',
              ...msg('warmup_ratio'),
              fix: { ...label('round'), set: [{ path: 'optimizer.lr_warmup_steps', value: Math.round(w) }] },
            },
          ]
        : []
    },
  },
  {
    id: 'launch.gpu_count',
    check: (c) => {
      const ids = c.launch.gpu_ids?.split(',') ?? []
      return ids.length > 0 && ids.length !== c.launch.num_processes
        ? [
            {
              rule: 'launch.gpu_count',
              severity: 'error',
              field: 'launch.gpu_ids',
              ...msg('gpu_count', { ids: ids.length, processes: c.launch.num_processes }),
              fix: {
                ...label('process_per_gpu'),
                set: [{ path: 'launch.num_processes', value: ids.length }],
              },
            },
          ]
        : []
    },
  },
  {
    id: 'optimizer.unknown',
    check: (c) =>
      optimizerKind(c.optimizer.type) === 'unknown'
        ? [
            {
              rule: 'optimizer.unknown',
              severity: 'error',
              field: 'optimizer.type',
              ...msg('optimizer_unknown', { name: c.optimizer.type }),
            },
          ]
        : [],
  },
  {
    id: 'logging.needs_dir',
    check: (c) => {
      const w = c.logging.log_with
      return (w === 'tensorboard' || w === 'all') && !c.logging.logging_dir?.trim()
        ? [
            {
              rule: 'logging.needs_dir',
              severity: 'error',
              field: 'logging.logging_dir',
              ...msg('log_dir_needed', { with: w }),
            },
          ]
        : []
    },
  },
  ...multiGpuRules,
]

export const RULE_IDS = rules.map((r) => r.id)

export function validateConfig(config: Config, ctx: ValidationContext = {}): Issue[] {
  return rules.flatMap((r) => r.check(config, ctx))
}

export function hasErrors(issues: Issue[]): boolean {
  return issues.some((i) => i.severity === 'error')
}

/**
 * The issues of an input that is not a config at all, one per zod issue, each with a code and the
 * field's path, so they are translated like every other check (schema.invalid).
 */
export function schemaIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => {
    const i = issue as unknown as Record<string, unknown> & { path: PropertyKey[]; code: string }
    const path = i.path.map(String).join('.') || '(config)'
    const numeric = i.origin === 'number' || i.origin === 'bigint'
    const exclusive = i.inclusive === false
    const expected = String(i.expected)
    const text =
      i.code === 'invalid_type' && expected === 'int'
        ? msg('schema_not_integer', { path })
        : i.code === 'invalid_type' && EXPECTED[expected]
          ? msg(EXPECTED[expected], { path })
          : i.code === 'too_small' && numeric
            ? msg(exclusive ? 'schema_too_small_exclusive' : 'schema_too_small', {
                path,
                minimum: Number(i.minimum),
              })
            : i.code === 'too_big' && numeric
              ? msg(exclusive ? 'schema_too_big_exclusive' : 'schema_too_big', {
                  path,
                  maximum: Number(i.maximum),
                })
              : i.code === 'invalid_value' && Array.isArray(i.values)
                ? msg('schema_invalid_value', {
                    path,
                    values: i.values.map((v) => JSON.stringify(v)).join(', '),
                  })
                : i.code === 'invalid_format'
                  ? msg('schema_invalid_format', { path })
                  : msg('schema_invalid', { path })
    return {
      rule: 'schema.invalid',
      severity: 'error' as const,
      ...(i.path.length ? { field: path } : {}),
      ...text,
    }
  })
}

const EXPECTED: Record<string, MessageCode> = {
  string: 'schema_expected_text',
  number: 'schema_expected_number',
  boolean: 'schema_expected_boolean',
  object: 'schema_expected_object',
  array: 'schema_expected_list',
}

/** Applies a fix and re-parses, so the result is a valid config (defaults restored for removed fields). */
export function applyFix(config: Config, fix: Fix): Config {
  let next: unknown = config
  for (const op of fix.set) next = setPath(next, op.path, op.value)
  return TrainingConfig.parse(next)
}
