import { z } from 'zod'
import { Memory, Training, TrainingConfig, TrainingType } from '../config/schema'
import { OptimizerType, VramScenario, type ScenarioPatch } from './scenario'
import { unmodelledExtraArgs, unmodelledOptimizerArgs, type UnmodelledItem } from './unmodelled'

/**
 * TrainingConfig (core/config/schema.ts) → VramScenario.
 *
 * Reads the config through a loose view of only the fields memory depends on, with the config
 * schema's own names and defaults (where the definitions are the same, they are taken from that
 * schema), so any object that TrainingConfig.parse produces is accepted (unknown fields pass
 * through). Field names are that schema's stable contract (docs/configs.md).
 */

const loose = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape)

export const ConfigForVram = loose({
  type: TrainingType,
  dataset: loose({
    resolution: loose({
      width: z.number().int().default(1024),
      height: z.number().int().default(1024),
    }).prefault({}),
  }).prefault({}),
  network: loose({
    dim: z.number().int().min(1).default(32),
    alpha: z.number().min(0).default(16),
    conv_dim: z.number().int().min(1).optional(),
    factor: z.number().int().min(-1).optional(),
    train_unet_only: z.boolean().default(false),
    preset: z.string().optional(),
    use_tucker: z.boolean().optional(),
    use_scalar: z.boolean().optional(),
    decompose_both: z.boolean().optional(),
    dropout: z.number().optional(),
    rank_dropout: z.number().optional(),
    module_dropout: z.number().optional(),
  }).prefault({}),
  optimizer: loose({
    type: z.string().min(1).default('AdamW8bit'),
    args: z.array(z.string()).default([]),
    learning_rate: z.number().default(1e-4),
    text_encoder_lr: z.number().min(0).optional(),
    train_text_encoder: z.boolean().default(false),
  }).prefault({}),
  sampling: loose({ enabled: z.boolean().default(false) }).prefault({}),
  launch: loose({ num_processes: z.number().int().min(1).default(1) }).prefault({}),
  training: loose({
    batch_size: z.number().int().min(1).default(1),
    gradient_accumulation_steps: z.number().int().min(1).default(1),
    max_token_length: Training.shape.max_token_length,
  }).prefault({}),
  // The memory fields the model reads, with the config schema's own definitions and defaults.
  memory: loose(
    Memory.pick({
      mixed_precision: true,
      full_bf16: true,
      full_fp16: true,
      fp8_base: true,
      gradient_checkpointing: true,
      cache_latents: true,
      cache_latents_to_disk: true,
      cache_text_encoder_outputs: true,
      cache_text_encoder_outputs_to_disk: true,
      attention: true,
      fused_backward_pass: true,
      no_half_vae: true,
    }).shape,
  ).prefault({}),
  extra_args: z.record(z.string(), z.unknown()).default({}),
})
export type ConfigForVram = z.infer<typeof ConfigForVram>

export interface ScenarioFromConfig {
  scenario: VramScenario
  /** What the mapping had to assume (shown by the CLI and the gauge). */
  notes: string[]
  /** Settings that move memory but are not in the model: shown as "not modelled: …". */
  unmodelled: UnmodelledItem[]
}

/** Matches sd-scripts' case-insensitive optimizer names (sd-scripts.md §2.3). */
function optimizerOf(name: string): OptimizerType | null {
  // sd-scripts also takes a class path ("pytorch_optimizer.CAME", "prodigyopt.Prodigy"): the class name
  // decides the state layout.
  const lower = (name.split('.').at(-1) ?? '').toLowerCase()
  if (lower === '' || lower === 'adamw') return 'AdamW'
  return OptimizerType.options.find((o) => o.toLowerCase() === lower) ?? null
}

/** Is the object a training config (has `type` and at least one config section) rather than a scenario? */
export function looksLikeConfig(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return false
  const o = input as Record<string, unknown>
  return (
    typeof o.type === 'string' &&
    ['network', 'memory', 'training', 'optimizer', 'dataset'].some((k) => k in o)
  )
}

/** An extra argument's value read as sd-scripts reads it (flags true/false, numbers, strings). */
function extra<T extends 'flag' | 'number' | 'string'>(
  args: Record<string, unknown>,
  name: string,
  kind: T,
): (T extends 'flag' ? boolean : T extends 'number' ? number : string) | undefined {
  const v = args[name]
  if (v === undefined || v === null) return undefined
  if (kind === 'flag') return (v === true || v === 'true') as never
  if (kind === 'number') {
    const n = typeof v === 'number' ? v : Number(Array.isArray(v) ? v[0] : v)
    return (Number.isFinite(n) ? n : undefined) as never
  }
  return String(v) as never
}

export function scenarioFromConfig(input: unknown, os: 'windows' | 'linux' = 'linux'): ScenarioFromConfig {
  const c = ConfigForVram.parse(input)
  const notes: string[] = []
  const unmodelled: UnmodelledItem[] = []
  const x = c.extra_args
  const network = c.type !== 'dreambooth'
  // Expert arguments are applied last by the renderer, so they override the form (core/sdscripts/render.ts).
  const teLr = extra(x, 'text_encoder_lr', 'number') ?? c.optimizer.text_encoder_lr

  // LoCon is networks.lora + conv_dim; without conv_dim it is plain LoRA. Plain LoRA ignores conv_dim.
  let type = c.type
  let convDim = 0
  if (type === 'locon') {
    if (c.network.conv_dim === undefined) {
      type = 'lora'
      notes.push('LoCon without conv_dim trains like plain LoRA (networks.lora has no conv modules then).')
    } else convDim = c.network.conv_dim
  } else if (type === 'loha' || type === 'lokr') {
    convDim = c.network.conv_dim ?? 0 // 0 = LyCORIS default (network_dim)
  }

  let optimizerName = extra(x, 'optimizer_type', 'string') ?? c.optimizer.type
  if (extra(x, 'use_8bit_adam', 'flag')) optimizerName = 'AdamW8bit'
  if (extra(x, 'use_lion_optimizer', 'flag')) optimizerName = 'Lion'
  let optimizer = optimizerOf(optimizerName)
  if (!optimizer) {
    optimizer = 'AdamW'
    notes.push(`Optimizer "${optimizerName}" is not modelled; memory assumes AdamW (two full-size states).`)
    unmodelled.push({ code: 'optimizer', params: { name: optimizerName } })
  }
  const optArgs = unmodelledOptimizerArgs(c.optimizer.args)
  if (optArgs.length) unmodelled.push({ code: 'optimizer_args', params: { args: optArgs.join(', ') } })

  const unetOnly = extra(x, 'network_train_unet_only', 'flag') ?? c.network.train_unet_only
  // networks.lora / LyCORIS: with a text-encoder rate of 0 the TE modules are still built and computed
  // (their parameters only leave the optimizer), so they still cost activations and gradients.
  let trainTe = network
    ? !unetOnly
    : (extra(x, 'train_text_encoder', 'flag') ?? c.optimizer.train_text_encoder)
  let trained: 'both' | 'te1' | 'te2' = 'both'
  if (!network && trainTe) {
    // sdxl_train.py: each encoder trains at learning_rate_te1/te2 (the renderer sets both to the form's
    // text-encoder rate), else at the U-Net's rate; 0 leaves that encoder frozen in weight_dtype.
    const lr = extra(x, 'learning_rate', 'number') ?? c.optimizer.learning_rate
    const rate = (name: string) => extra(x, name, 'number') ?? teLr ?? lr
    const te1 = rate('learning_rate_te1') !== 0
    const te2 = rate('learning_rate_te2') !== 0
    if (!te1 && !te2) {
      trainTe = false
      notes.push('Both text-encoder learning rates are 0: the text encoders are not trained.')
    } else trained = te1 && te2 ? 'both' : te1 ? 'te1' : 'te2'
  }

  const bypass = String(x.network_args ?? '').includes('bypass_mode=True')
  if (network) {
    if (
      c.network.preset !== undefined &&
      c.network.preset !== 'full' &&
      (type === 'loha' || type === 'lokr')
    ) {
      unmodelled.push({ code: 'network_preset', params: { preset: c.network.preset } })
    }
    for (const opt of ['use_tucker', 'use_scalar', 'decompose_both'] as const) {
      if (c.network[opt]) unmodelled.push({ code: 'network_option', params: { name: opt } })
    }
    for (const opt of ['dropout', 'rank_dropout', 'module_dropout'] as const) {
      if ((c.network[opt] ?? 0) > 0) unmodelled.push({ code: 'network_option', params: { name: opt } })
    }
  }
  for (const name of unmodelledExtraArgs(x)) unmodelled.push({ code: 'extra_arg', params: { name } })
  if (c.sampling.enabled || extra(x, 'sample_prompts', 'string') !== undefined) {
    unmodelled.push({ code: 'sampling', params: {} })
  }
  if (c.launch.num_processes > 1)
    unmodelled.push({ code: 'multi_gpu', params: { n: c.launch.num_processes } })

  const resolution = (() => {
    const r = extra(x, 'resolution', 'string')?.split(',').map(Number)
    if (r && r.length >= 1 && r.every((n) => Number.isInteger(n) && n >= 64 && n <= 8192)) {
      return { width: r[0]!, height: r[1] ?? r[0]! }
    }
    return { width: c.dataset.resolution.width, height: c.dataset.resolution.height }
  })()
  const mem = c.memory
  const attention = extra(x, 'mem_eff_attn', 'flag')
    ? 'mem_eff_attn'
    : extra(x, 'xformers', 'flag')
      ? 'xformers'
      : extra(x, 'sdpa', 'flag')
        ? 'sdpa'
        : mem.attention
  const flag = (name: string, form: boolean) => extra(x, name, 'flag') ?? form

  const scenario = VramScenario.parse({
    training_type: type,
    network_dim: Math.min(extra(x, 'network_dim', 'number') ?? c.network.dim, 10240),
    network_alpha: extra(x, 'network_alpha', 'number') ?? c.network.alpha,
    conv_dim: Math.min(convDim, 10240),
    lokr_factor: c.network.factor ?? -1,
    lycoris_bypass_mode: bypass,
    train_text_encoder: trainTe,
    text_encoders_trained: trained,
    resolution,
    batch_size: Math.min(Math.max(1, extra(x, 'train_batch_size', 'number') ?? c.training.batch_size), 256),
    gradient_accumulation_steps:
      extra(x, 'gradient_accumulation_steps', 'number') ?? c.training.gradient_accumulation_steps,
    gradient_checkpointing: flag('gradient_checkpointing', mem.gradient_checkpointing),
    mixed_precision: extra(x, 'mixed_precision', 'string') ?? mem.mixed_precision,
    full_bf16: flag('full_bf16', mem.full_bf16),
    full_fp16: flag('full_fp16', mem.full_fp16),
    fp8_base: flag('fp8_base', mem.fp8_base),
    cache_latents:
      flag('cache_latents', mem.cache_latents) || flag('cache_latents_to_disk', mem.cache_latents_to_disk),
    cache_text_encoder_outputs:
      flag('cache_text_encoder_outputs', mem.cache_text_encoder_outputs) ||
      flag('cache_text_encoder_outputs_to_disk', mem.cache_text_encoder_outputs_to_disk),
    attention,
    optimizer,
    fused_backward_pass: flag('fused_backward_pass', mem.fused_backward_pass),
    fused_optimizer_groups: Math.max(0, Math.min(10000, extra(x, 'fused_optimizer_groups', 'number') ?? 0)),
    no_half_vae: flag('no_half_vae', mem.no_half_vae),
    vae_batch_size: (() => {
      const v = extra(x, 'vae_batch_size', 'number')
      return v !== undefined && Number.isInteger(v) && v >= 1 && v <= 1024 ? v : 1
    })(),
    max_token_length: extra(x, 'max_token_length', 'number') ?? c.training.max_token_length,
    os,
  })
  return { scenario, notes, unmodelled }
}

/**
 * A training config that runs the scenario: the config defaults of its type with every scenario field
 * set through configPatchFromScenarioPatch (so the two directions share one mapping). Used to trace a
 * scenario that did not come from a form (the published table, a gauge without the form's config).
 */
export function configFromScenario(s: VramScenario): TrainingConfig {
  const { patch } = configPatchFromScenarioPatch({ ...s }, s.training_type)
  const network = (patch.network ?? {}) as Record<string, unknown>
  if (s.training_type === 'lora' || s.training_type === 'dreambooth') delete network.conv_dim
  if (s.training_type === 'locon' && !(s.conv_dim > 0)) network.conv_dim = s.network_dim
  if (s.training_type !== 'lokr') delete network.factor
  else if (s.lokr_factor === -1) delete network.factor
  const memory = { ...(patch.memory ?? {}) } as Record<string, unknown>
  const extra: Record<string, string | number | boolean | string[]> = {}
  if (s.attention === 'mem_eff_attn') {
    memory.attention = 'none'
    extra.mem_eff_attn = true
  }
  if (s.fused_optimizer_groups > 0) extra.fused_optimizer_groups = s.fused_optimizer_groups
  if (s.vae_batch_size !== 1) extra.vae_batch_size = s.vae_batch_size
  const optimizer = { ...(patch.optimizer ?? {}) } as Record<string, unknown>
  if (s.training_type === 'dreambooth' && s.train_text_encoder && s.text_encoders_trained !== 'both') {
    extra[s.text_encoders_trained === 'te1' ? 'learning_rate_te2' : 'learning_rate_te1'] = 0
  }
  // LyCORIS bypass mode has no config field yet (network_args as an extra argument would replace the
  // rendered algo/conv arguments), so a config made from a bypass scenario traces the default mode.
  return TrainingConfig.parse({
    type: s.training_type,
    dataset: { resolution: s.resolution },
    network,
    optimizer,
    training: patch.training ?? {},
    memory,
    extra_args: extra,
  })
}

/** A deep patch of a TrainingConfig (sections → fields), to merge into the form's config. */
export type ConfigPatch = Record<string, Record<string, unknown>>

/**
 * The inverse direction for the gauge's one-click changes: a scenario patch (advice, "make it fit") as a
 * config patch with the config schema's field names. `unmapped` lists scenario fields the config cannot
 * express (e.g. LyCORIS bypass mode, which has no config field yet), so the caller can say so.
 */
export function configPatchFromScenarioPatch(
  patch: ScenarioPatch,
  type: VramScenario['training_type'],
): { patch: ConfigPatch; unmapped: string[] } {
  const out: ConfigPatch = {}
  const unmapped: string[] = []
  const set = (section: string, field: string, value: unknown) => {
    out[section] = { ...(out[section] ?? {}), [field]: value }
  }
  for (const [key, value] of Object.entries(patch) as [keyof VramScenario, unknown][]) {
    switch (key) {
      case 'network_dim':
        set('network', 'dim', value)
        break
      case 'network_alpha':
        set('network', 'alpha', value)
        break
      case 'conv_dim':
        if (typeof value === 'number' && value > 0) set('network', 'conv_dim', value)
        break
      case 'lokr_factor':
        set('network', 'factor', value)
        break
      case 'train_text_encoder':
        if (type === 'dreambooth') set('optimizer', 'train_text_encoder', value)
        else set('network', 'train_unet_only', !value)
        break
      case 'optimizer':
        set('optimizer', 'type', value)
        break
      case 'resolution':
        set('dataset', 'resolution', value)
        break
      case 'batch_size':
      case 'gradient_accumulation_steps':
      case 'max_token_length':
        set('training', key, value)
        break
      case 'gradient_checkpointing':
      case 'mixed_precision':
      case 'full_bf16':
      case 'full_fp16':
      case 'fp8_base':
      case 'cache_latents':
      case 'cache_text_encoder_outputs':
      case 'attention':
      case 'fused_backward_pass':
      case 'no_half_vae':
        set('memory', key, value)
        break
      case 'training_type':
      case 'os':
        break // not something advice changes
      default:
        unmapped.push(key)
    }
  }
  return { patch: out, unmapped }
}
