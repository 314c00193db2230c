import { z } from 'zod'

/**
 * The training config: what an SDXL user sets, in our own words, grouped by section. It is mapped to
 * sd-scripts files by core/sdscripts/render.ts and checked by core/sdscripts/validate.ts.
 *
 * Field names are part of a stable contract (the VRAM gauge and saved user configs read them):
 * add fields, never rename them. docs/configs.md lists them.
 */

export const TRAINING_TYPES = ['dreambooth', 'lora', 'locon', 'loha', 'lokr'] as const
export const TrainingType = z.enum(TRAINING_TYPES)
export type TrainingType = z.infer<typeof TrainingType>

/** Training types that go through sdxl_train_network.py (a small network on top of a frozen model). */
export function isNetworkType(type: TrainingType): boolean {
  return type !== 'dreambooth'
}

const int = () => z.number().int()
const positiveInt = () => z.number().int().min(1)
const rate = () => z.number().min(0).max(1)

export const Subset = z.object({
  /** The folder with the images (and caption files next to them). */
  image_dir: z.string(),
  /** How often each image is seen per epoch. A `10_name` folder name is NOT read when a dataset config is used. */
  num_repeats: positiveInt().max(10_000).default(1),
  /** Used as the caption for images without a caption file (e.g. "sks woman"). */
  class_tokens: z.string().optional(),
  caption_extension: z.string().default('.txt'),
  /** A regularization (class) subset. */
  is_reg: z.boolean().default(false),
  keep_tokens: int().min(0).max(255).default(0),
  shuffle_caption: z.boolean().default(false),
  flip_aug: z.boolean().default(false),
  caption_dropout_rate: rate().default(0),
  caption_tag_dropout_rate: rate().default(0),
  caption_dropout_every_n_epochs: int().min(0).default(0),
  /** Caption token warmup; 0 = off. */
  token_warmup_step: z.number().min(0).default(0),
})
export type Subset = z.infer<typeof Subset>

export const Dataset = z.object({
  subsets: z.array(Subset).default([]),
  /** Training resolution in pixels (1024 × 1024 for SDXL). */
  resolution: z
    .object({ width: int().min(256).max(4096).default(1024), height: int().min(256).max(4096).default(1024) })
    .prefault({}),
  enable_bucket: z.boolean().default(true),
  min_bucket_reso: int().min(64).max(4096).default(512),
  max_bucket_reso: int().min(64).max(8192).default(2048),
  /** Must be a multiple of 32 for SDXL. */
  bucket_reso_steps: int().min(1).max(1024).default(64),
  bucket_no_upscale: z.boolean().default(true),
})
export type Dataset = z.infer<typeof Dataset>

export const LycorisPreset = z.enum([
  'full',
  'full-lin',
  'attn-mlp',
  'attn-only',
  'unet-transformer-only',
  'unet-convblock-only',
])

export const Network = z.object({
  dim: positiveInt().max(100_000).default(32),
  alpha: z.number().min(0).max(100_000).default(16),
  /** Conv (3×3) layers: LoCon/LoHa/LoKr. Ignored for plain LoRA. */
  conv_dim: positiveInt().max(100_000).optional(),
  conv_alpha: z.number().min(0).max(100_000).optional(),
  /** LoKr: Kronecker factor; -1 lets LyCORIS choose. */
  factor: int().min(-1).max(1024).optional(),
  /** LyCORIS: Tucker decomposition of conv layers (kohya_ss calls it use_cp). */
  use_tucker: z.boolean().optional(),
  use_scalar: z.boolean().optional(),
  /** LoKr: decompose both Kronecker factors. */
  decompose_both: z.boolean().optional(),
  /** LyCORIS module preset: which layers get adapters. */
  preset: LycorisPreset.optional(),
  /** Neuron dropout (network_dropout). */
  dropout: rate().optional(),
  rank_dropout: rate().optional(),
  module_dropout: rate().optional(),
  /** Train only the U-Net part of the network (needed to cache text encoder outputs). */
  train_unet_only: z.boolean().default(false),
})
export type Network = z.infer<typeof Network>

export const Optimizer = z.object({
  /** sd-scripts --optimizer_type, e.g. AdamW8bit, Adafactor, Prodigy, or a dotted class path. */
  type: z.string().min(1).default('AdamW8bit'),
  /** key=value pairs, e.g. "weight_decay=0.01". */
  args: z.array(z.string()).default([]),
  learning_rate: z.number().positive().max(10).default(1e-4),
  /** LoRA types: U-Net learning rate (defaults to learning_rate). */
  unet_lr: z.number().positive().max(10).optional(),
  /** Text encoder learning rate (both encoders). LoRA: --text_encoder_lr; Dreambooth: te1 and te2. */
  text_encoder_lr: z.number().min(0).max(10).optional(),
  /** Dreambooth only: also train the text encoders. */
  train_text_encoder: z.boolean().default(false),
  lr_scheduler: z
    .enum([
      'constant',
      'constant_with_warmup',
      'linear',
      'cosine',
      'cosine_with_restarts',
      'polynomial',
      'adafactor',
      'inverse_sqrt',
      'cosine_with_min_lr',
      'warmup_stable_decay',
    ])
    .default('constant'),
  /** Warmup: steps (integer ≥ 1) or a ratio of all steps (0 < x < 1). */
  lr_warmup_steps: z.number().min(0).default(0),
  lr_scheduler_num_cycles: positiveInt().default(1),
  max_grad_norm: z.number().min(0).default(1),
})
export type Optimizer = z.infer<typeof Optimizer>

export const Training = z.object({
  /** Length in epochs; when unset, max_train_steps is used. */
  max_train_epochs: positiveInt().max(100_000).optional(),
  max_train_steps: positiveInt().max(10_000_000).optional(),
  batch_size: positiveInt().max(256).default(1),
  gradient_accumulation_steps: positiveInt().max(1024).default(1),
  seed: int().min(0).optional(),
  /** 75 tokens per caption by default; 150 or 225 for long captions. */
  max_token_length: z.union([z.literal(75), z.literal(150), z.literal(225)]).default(75),
})
export type Training = z.infer<typeof Training>

export const Attention = z.enum(['sdpa', 'xformers', 'none'])
export type Attention = z.infer<typeof Attention>

export const Memory = z.object({
  mixed_precision: z.enum(['no', 'fp16', 'bf16']).default('bf16'),
  full_bf16: z.boolean().default(false),
  full_fp16: z.boolean().default(false),
  /** LoRA types: base model weights in fp8. */
  fp8_base: z.boolean().default(false),
  gradient_checkpointing: z.boolean().default(true),
  cache_latents: z.boolean().default(true),
  cache_latents_to_disk: z.boolean().default(false),
  cache_text_encoder_outputs: z.boolean().default(false),
  cache_text_encoder_outputs_to_disk: z.boolean().default(false),
  attention: Attention.default('sdpa'),
  /** Dreambooth + Adafactor: apply the optimizer step during the backward pass. */
  fused_backward_pass: z.boolean().default(false),
  max_data_loader_n_workers: int().min(0).max(64).default(2),
  persistent_data_loader_workers: z.boolean().default(true),
  /** Keep the VAE in float32 (avoids NaN with fp16). */
  no_half_vae: z.boolean().default(false),
  lowram: z.boolean().default(false),
})
export type Memory = z.infer<typeof Memory>

export const Loss = z.object({
  min_snr_gamma: z.number().min(0).max(100).optional(),
  noise_offset: z.number().min(0).max(1).optional(),
  multires_noise_iterations: int().min(0).max(64).optional(),
  multires_noise_discount: z.number().min(0).max(1).optional(),
  loss_type: z.enum(['l2', 'l1', 'huber', 'smooth_l1']).default('l2'),
  huber_c: z.number().min(0).optional(),
  /** LoRA types only: weight of regularization images in the loss. */
  prior_loss_weight: z.number().min(0).max(10).default(1),
})
export type Loss = z.infer<typeof Loss>

export const SAMPLERS = [
  'ddim',
  'pndm',
  'lms',
  'euler',
  'euler_a',
  'heun',
  'dpm_2',
  'dpm_2_a',
  'dpmsolver',
  'dpmsolver++',
  'dpmsingle',
  'k_lms',
  'k_euler',
  'k_euler_a',
  'k_dpm_2',
  'k_dpm_2_a',
] as const

export const SamplePrompt = z.object({
  prompt: z.string().min(1),
  negative: z.string().optional(),
  /** Without width/height sd-scripts renders 512 × 512. */
  width: int().min(64).max(4096).optional(),
  height: int().min(64).max(4096).optional(),
  steps: positiveInt().max(500).optional(),
  seed: int().min(0).optional(),
  cfg_scale: z.number().min(0).max(50).optional(),
})
export type SamplePrompt = z.infer<typeof SamplePrompt>

export const Sampling = z.object({
  enabled: z.boolean().default(false),
  prompts: z.array(SamplePrompt).default([]),
  every_n_steps: positiveInt().optional(),
  every_n_epochs: positiveInt().optional(),
  sampler: z.enum(SAMPLERS).default('euler_a'),
  sample_at_first: z.boolean().default(false),
})
export type Sampling = z.infer<typeof Sampling>

export const Saving = z.object({
  output_dir: z.string().default(''),
  output_name: z.string().default('sdxl-model'),
  save_every_n_epochs: positiveInt().optional(),
  save_every_n_steps: positiveInt().optional(),
  save_precision: z.enum(['float', 'fp16', 'bf16']).default('fp16'),
  save_model_as: z
    .enum(['safetensors', 'ckpt', 'pt', 'diffusers', 'diffusers_safetensors'])
    .default('safetensors'),
  /** Also save optimizer state (to resume) with every saved model. */
  save_state: z.boolean().default(false),
  /** Save the state once more when training ends (resume later even without save_state). */
  save_state_on_train_end: z.boolean().default(false),
  /** Written into the saved file's metadata (LoRA types: training_comment). */
  comment: z.string().optional(),
})
export type Saving = z.infer<typeof Saving>

export const LOG_WITH = ['tensorboard', 'wandb', 'all'] as const

export const Logging = z.object({
  /** TensorBoard folder; empty = no logging. */
  logging_dir: z.string().optional(),
  /** Where metrics go; unset = TensorBoard when a logging folder is set. wandb needs the wandb package and a key. */
  log_with: z.enum(LOG_WITH).optional(),
  /** Put in front of each run's log folder name (sd-scripts adds the start time). */
  log_prefix: z.string().optional(),
})

export const Launch = z.object({
  num_processes: positiveInt().max(64).default(1),
  /** accelerate --gpu_ids, e.g. "0" or "0,1". */
  gpu_ids: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'GPU ids are numbers separated by commas, e.g. "0" or "0,1"')
    .optional(),
  num_cpu_threads_per_process: positiveInt().max(256).default(2),
})

/** A raw option for experts: name without dashes → value. Checked against the script's option list. */
export const ExtraArgValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])
export type ExtraArgValue = z.infer<typeof ExtraArgValue>

export const TrainingConfig = z.object({
  version: z.literal(1).default(1),
  type: TrainingType,
  /** The SDXL base model: a .safetensors file or a Diffusers folder. */
  base_model: z.string().default(''),
  /** An optional replacement VAE file. */
  vae: z.string().optional(),
  dataset: Dataset.prefault({}),
  network: Network.prefault({}),
  optimizer: Optimizer.prefault({}),
  training: Training.prefault({}),
  memory: Memory.prefault({}),
  loss: Loss.prefault({}),
  sampling: Sampling.prefault({}),
  saving: Saving.prefault({}),
  logging: Logging.prefault({}),
  launch: Launch.prefault({}),
  extra_args: z.record(z.string(), ExtraArgValue).default({}),
})
export type TrainingConfig = z.infer<typeof TrainingConfig>
export type TrainingConfigInput = z.input<typeof TrainingConfig>

/** A complete config of the given type with every default filled in. */
export function defaultConfig(type: TrainingType): TrainingConfig {
  return TrainingConfig.parse({ type })
}

/** Parses unknown input into a config, or gives one readable line per problem. */
export function parseConfig(
  input: unknown,
): { ok: true; config: TrainingConfig } | { ok: false; errors: string[] } {
  const r = TrainingConfig.safeParse(input)
  if (r.success) return { ok: true, config: r.data }
  return {
    ok: false,
    errors: r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)),
  }
}

/** Deep merge of plain objects (arrays and scalars replace); used for preset overlays and fixes. */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return (patch === undefined ? base : patch) as T
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) {
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v
  }
  return out as T
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
