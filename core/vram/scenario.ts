import { z } from 'zod'

/**
 * The VRAM model's own input: exactly what peak GPU memory depends on, nothing else.
 * A training config maps onto this (core/vram/from-config.ts once the config schema exists); the seed
 * CLI and measured points map onto it too. Names follow sd-scripts' option names where one exists.
 */

export const TrainingType = z.enum(['dreambooth', 'lora', 'locon', 'loha', 'lokr'])
export type TrainingType = z.infer<typeof TrainingType>

/** The `--optimizer_type` values of sd-scripts whose memory we model (sd-scripts.md §2.3). */
export const OptimizerType = z.enum([
  'AdamW',
  'AdamW8bit',
  'PagedAdamW',
  'PagedAdamW8bit',
  'PagedAdamW32bit',
  'Lion',
  'Lion8bit',
  'PagedLion8bit',
  'SGDNesterov',
  'SGDNesterov8bit',
  'Adafactor',
  'Prodigy',
  'DAdaptation',
  'DAdaptAdam',
  'DAdaptAdaGrad',
  'DAdaptAdan',
  'DAdaptLion',
  'DAdaptSGD',
  'AdamWScheduleFree',
  'RAdamScheduleFree',
  'SGDScheduleFree',
  'CAME',
])
export type OptimizerType = z.infer<typeof OptimizerType>

/**
 * The U-Net attention sd-scripts uses: --sdpa, --xformers, --mem_eff_attn (its own chunked
 * FlashAttention in PyTorch) or none of them (plain attention, the matrices materialised).
 */
export const Attention = z.enum(['sdpa', 'xformers', 'mem_eff_attn', 'none'])
export type Attention = z.infer<typeof Attention>

export const MixedPrecision = z.enum(['no', 'fp16', 'bf16'])
export type MixedPrecision = z.infer<typeof MixedPrecision>

export const VramScenario = z
  .object({
    training_type: TrainingType.default('lora'),
    /** Rank of linear / 1x1 modules (`--network_dim`). Ignored for dreambooth. */
    network_dim: z.number().int().min(1).max(10240).default(32),
    /** `--network_alpha`: a scale only, memory does not depend on it; kept so configs map 1:1. */
    network_alpha: z.number().min(0).default(16),
    /**
     * Rank of 3x3 conv modules. 0 = none. For LyCORIS algorithms (locon/loha/lokr) 0 means "LyCORIS
     * default", which is network_dim (lycoris.kohya: `conv_dim or network_dim`, sd-scripts.md §2.4).
     */
    conv_dim: z.number().int().min(0).max(10240).default(0),
    /** LoKr `factor` (-1 = LyCORIS default: the split closest to the square root). */
    lokr_factor: z.number().int().min(-1).max(10240).default(-1),
    /** LyCORIS `bypass_mode`: LoHa/LoKr computed as x·ΔW without materialising ΔW per layer. */
    lycoris_bypass_mode: z.boolean().default(false),
    /** LoRA family: train text-encoder modules too (not `--network_train_unet_only`). Dreambooth: `--train_text_encoder`. */
    train_text_encoder: z.boolean().default(false),
    /**
     * Dreambooth with train_text_encoder: which encoders are trained (`--learning_rate_te1/te2` 0 leaves one
     * frozen, in weight_dtype). The LoRA networks have one text-encoder rate for both.
     */
    text_encoders_trained: z.enum(['both', 'te1', 'te2']).default('both'),
    resolution: z
      .object({
        width: z.number().int().min(64).max(8192),
        height: z.number().int().min(64).max(8192),
      })
      .default({ width: 1024, height: 1024 }),
    batch_size: z.number().int().min(1).max(256).default(1),
    gradient_accumulation_steps: z.number().int().min(1).max(4096).default(1),
    gradient_checkpointing: z.boolean().default(false),
    mixed_precision: MixedPrecision.default('bf16'),
    full_bf16: z.boolean().default(false),
    full_fp16: z.boolean().default(false),
    /** LoRA family only (sd-scripts ignores it in sdxl_train.py). */
    fp8_base: z.boolean().default(false),
    cache_latents: z.boolean().default(true),
    cache_text_encoder_outputs: z.boolean().default(false),
    attention: Attention.default('sdpa'),
    optimizer: OptimizerType.default('AdamW8bit'),
    /** `--fused_backward_pass`: effective only in sdxl_train.py with Adafactor (sd-scripts.md §2.2). */
    fused_backward_pass: z.boolean().default(false),
    /**
     * `--fused_optimizer_groups N` (sdxl_train.py only; 0 = off): N optimizers, each stepped and its
     * gradients freed as soon as its group's gradients exist. Ignored with the fused backward pass.
     */
    fused_optimizer_groups: z.number().int().min(0).max(10000).default(0),
    no_half_vae: z.boolean().default(false),
    /**
     * `--vae_batch_size` (sd-scripts' default 1): without cached latents the batch is encoded this many
     * images at a time, so the encoder's transient grows with it, not with the batch.
     */
    vae_batch_size: z.number().int().min(1).max(1024).default(1),
    /** `--max_token_length` (75 = one 77-token chunk). */
    max_token_length: z.union([z.literal(75), z.literal(150), z.literal(225)]).default(75),
    os: z.enum(['windows', 'linux']).default('linux'),
  })
  .strict()

export type VramScenario = z.infer<typeof VramScenario>
export type VramScenarioInput = z.input<typeof VramScenario>

/** A partial scenario: what an advice item or a form change sets. */
export type ScenarioPatch = Partial<VramScenario>

export function parseScenario(input: unknown): VramScenario {
  return VramScenario.parse(input)
}

export const DEFAULT_SCENARIO: VramScenario = VramScenario.parse({})

export function isNetwork(s: Pick<VramScenario, 'training_type'>): boolean {
  return s.training_type !== 'dreambooth'
}

/** LyCORIS algorithms (lycoris.kohya); plain LoRA goes through networks.lora. */
export function isLycoris(s: Pick<VramScenario, 'training_type'>): boolean {
  return s.training_type === 'locon' || s.training_type === 'loha' || s.training_type === 'lokr'
}

/** The conv rank actually used (LyCORIS replaces 0 by network_dim; networks.lora has no conv modules at 0). */
export function effectiveConvDim(
  s: Pick<VramScenario, 'training_type' | 'conv_dim' | 'network_dim'>,
): number {
  if (s.training_type === 'dreambooth') return 0
  if (s.training_type === 'lora') return s.conv_dim
  return s.conv_dim > 0 ? s.conv_dim : s.network_dim
}

/**
 * What sd-scripts actually does with combinations it ignores or refuses, so the model predicts the run
 * that would happen: fp8_base is LoRA-only; fused_backward_pass only works in sdxl_train.py with Adafactor;
 * full_bf16/full_fp16 need the matching mixed precision (sd-scripts asserts; we treat them as off).
 */
export function effectiveFlags(s: VramScenario) {
  const dreambooth = s.training_type === 'dreambooth'
  const fullBf16 = s.full_bf16 && s.mixed_precision === 'bf16'
  const fullFp16 = s.full_fp16 && s.mixed_precision === 'fp16'
  const fusedBackward = s.fused_backward_pass && dreambooth && s.optimizer === 'Adafactor'
  return {
    fp8Base: s.fp8_base && !dreambooth && s.mixed_precision !== 'no',
    fusedBackward,
    /** sdxl_train.py checks the fused backward pass first (`if … elif`). */
    fusedGroups: dreambooth && !fusedBackward ? s.fused_optimizer_groups : 0,
    fullHalf: fullBf16 || fullFp16,
    /** TE outputs can be cached only when no TE is trained (both scripts assert it). */
    cacheTeOutputs: s.cache_text_encoder_outputs && !s.train_text_encoder,
    mixed: s.mixed_precision !== 'no',
  }
}
