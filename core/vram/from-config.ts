import { z } from 'zod'
import { Memory, Training, TrainingConfig, TrainingType } from '../config/schema'
import { OptimizerType, VramScenario, type ScenarioPatch } from './scenario'

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
  }).prefault({}),
  optimizer: loose({
    type: z.string().min(1).default('AdamW8bit'),
    text_encoder_lr: z.number().min(0).optional(),
    train_text_encoder: z.boolean().default(false),
  }).prefault({}),
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
}

/** Matches sd-scripts' case-insensitive optimizer names (sd-scripts.md §2.3). */
function optimizerOf(name: string): OptimizerType | null {
  const lower = name.toLowerCase()
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

export function scenarioFromConfig(input: unknown, os: 'windows' | 'linux' = 'linux'): ScenarioFromConfig {
  const c = ConfigForVram.parse(input)
  const notes: string[] = []
  const teLrOff = c.optimizer.text_encoder_lr === 0
  const network = c.type !== 'dreambooth'

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

  let optimizer = optimizerOf(c.optimizer.type)
  if (!optimizer) {
    optimizer = 'AdamW'
    notes.push(
      `Optimizer "${c.optimizer.type}" is not modelled; memory assumes AdamW (two full-size states).`,
    )
  }

  const trainTe = network
    ? !c.network.train_unet_only && !teLrOff
    : c.optimizer.train_text_encoder && !teLrOff
  const bypass = String(c.extra_args.network_args ?? '').includes('bypass_mode=True')

  const scenario = VramScenario.parse({
    training_type: type,
    network_dim: Math.min(c.network.dim, 10240),
    network_alpha: c.network.alpha,
    conv_dim: Math.min(convDim, 10240),
    lokr_factor: c.network.factor ?? -1,
    lycoris_bypass_mode: bypass,
    train_text_encoder: trainTe,
    resolution: { width: c.dataset.resolution.width, height: c.dataset.resolution.height },
    batch_size: c.training.batch_size,
    gradient_accumulation_steps: c.training.gradient_accumulation_steps,
    gradient_checkpointing: c.memory.gradient_checkpointing,
    mixed_precision: c.memory.mixed_precision,
    full_bf16: c.memory.full_bf16,
    full_fp16: c.memory.full_fp16,
    fp8_base: c.memory.fp8_base,
    cache_latents: c.memory.cache_latents || c.memory.cache_latents_to_disk,
    cache_text_encoder_outputs:
      c.memory.cache_text_encoder_outputs || c.memory.cache_text_encoder_outputs_to_disk,
    attention: c.memory.attention,
    optimizer,
    fused_backward_pass: c.memory.fused_backward_pass,
    no_half_vae: c.memory.no_half_vae,
    max_token_length: c.training.max_token_length,
    os,
  })
  return { scenario, notes }
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
