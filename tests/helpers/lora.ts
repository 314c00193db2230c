import { writeFileSync } from 'node:fs'
import { safetensorsBytes, type TensorData } from './safetensors'

/*
 * Small LoRA files for tests: random weights (seeded), SDXL module names as sd-scripts and LyCORIS
 * write them, low rank, small layer sizes (the tools do not care how wide a layer is, only how its
 * tensors are named and shaped).
 */

export type LoraKind = 'lora' | 'locon' | 'loha' | 'lokr'

/** [module, out features, in features] of the linear layers (names from sd-scripts' SDXL U-Net and both text encoders). */
export const SDXL_LINEAR: Array<[string, number, number]> = [
  ['lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q', 64, 64],
  ['lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k', 64, 96],
  ['lora_unet_input_blocks_7_1_transformer_blocks_1_ff_net_0_proj', 128, 64],
  ['lora_unet_middle_block_1_transformer_blocks_0_attn1_to_out_0', 64, 64],
  ['lora_unet_output_blocks_0_1_transformer_blocks_2_attn2_to_v', 64, 96],
  ['lora_unet_output_blocks_5_1_proj_in', 48, 48],
  ['lora_te1_text_model_encoder_layers_0_self_attn_q_proj', 32, 32],
  ['lora_te2_text_model_encoder_layers_5_mlp_fc1', 64, 32],
]
/** [module, out channels, in channels] of 3×3 convs (LoCon adapts the ResBlocks). */
export const SDXL_CONV: Array<[string, number, number]> = [
  ['lora_unet_input_blocks_1_0_in_layers_2', 16, 16],
  ['lora_unet_output_blocks_3_0_out_layers_3', 16, 24],
]
/** SD 1.x names: one text encoder (lora_te_), Diffusers blocks. */
export const SD1_LINEAR: Array<[string, number, number]> = [
  ['lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', 64, 64],
  ['lora_te_text_model_encoder_layers_0_self_attn_q_proj', 32, 32],
]

/** mulberry32: the same file for the same seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** float → IEEE half bits (round to nearest). */
export function toHalf(x: number): number {
  const f = new Float32Array([x])
  const u = new Uint32Array(f.buffer)[0] as number
  const sign = (u >>> 16) & 0x8000
  const exp = ((u >>> 23) & 0xff) - 127 + 15
  const mant = u & 0x7fffff
  if (exp <= 0) return sign | (exp < -10 ? 0 : ((mant | 0x800000) >> (1 - exp + 13)) & 0x3ff)
  if (exp >= 31) return sign | 0x7c00
  return sign | (exp << 10) | ((mant + 0x1000) >> 13)
}

export function tensor(dtype: 'F16' | 'F32', shape: number[], values: (i: number) => number): TensorData {
  const n = shape.reduce((a, b) => a * b, 1)
  const bytes = new Uint8Array(n * (dtype === 'F16' ? 2 : 4))
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < n; i++)
    if (dtype === 'F16') view.setUint16(i * 2, toHalf(values(i)), true)
    else view.setFloat32(i * 4, values(i), true)
  return { dtype, shape, data: bytes }
}

export interface LoraSpec {
  kind?: LoraKind
  rank?: number
  alpha?: number
  /** LoCon: rank and alpha of the 3×3 convs (default: rank, alpha). */
  convRank?: number
  convAlpha?: number
  /** Per-module rank override (a dynamically resized file). */
  rankOf?: (module: string, index: number) => number
  dtype?: 'F16' | 'F32'
  seed?: number
  /** Module names and sizes (default SDXL). */
  linear?: Array<[string, number, number]>
  /** LoKr: keep w2 as one full matrix (no rank), as LyCORIS does for a large dim. */
  lokrFull?: boolean
  /** Leave out the .alpha tensors (old files). */
  noAlpha?: boolean
  metadata?: Record<string, string>
}

/** The tensors of a LoRA file. */
export function loraTensors(spec: LoraSpec = {}): Record<string, TensorData> {
  const kind = spec.kind ?? 'lora'
  const dtype = spec.dtype ?? 'F16'
  const rank = spec.rank ?? 8
  const alpha = spec.alpha ?? rank / 2
  const random = rng(spec.seed ?? 1)
  const w = () => (random() - 0.5) * 0.2
  const out: Record<string, TensorData> = {}
  const alphaOf = (m: string, a: number) => {
    if (!spec.noAlpha) out[`${m}.alpha`] = tensor(dtype, [], () => a)
  }
  const linear = spec.linear ?? SDXL_LINEAR
  linear.forEach(([m, o, i], index) => {
    const r = spec.rankOf?.(m, index) ?? rank
    if (kind === 'lora' || kind === 'locon') {
      out[`${m}.lora_down.weight`] = tensor(dtype, [r, i], w)
      out[`${m}.lora_up.weight`] = tensor(dtype, [o, r], w)
    } else if (kind === 'loha') {
      out[`${m}.hada_w1_a`] = tensor(dtype, [o, r], w)
      out[`${m}.hada_w1_b`] = tensor(dtype, [r, i], w)
      out[`${m}.hada_w2_a`] = tensor(dtype, [o, r], w)
      out[`${m}.hada_w2_b`] = tensor(dtype, [r, i], w)
    } else {
      // Kronecker: out = o1 × o2, in = i1 × i2, with a small full w1 and a low-rank (or full) w2.
      const o1 = 4
      const i1 = 4
      out[`${m}.lokr_w1`] = tensor(dtype, [o1, i1], w)
      if (spec.lokrFull) out[`${m}.lokr_w2`] = tensor(dtype, [o / o1, i / i1], w)
      else {
        out[`${m}.lokr_w2_a`] = tensor(dtype, [o / o1, r], w)
        out[`${m}.lokr_w2_b`] = tensor(dtype, [r, i / i1], w)
      }
    }
    alphaOf(m, alpha)
  })
  if (kind === 'locon') {
    const cr = spec.convRank ?? rank
    for (const [m, o, i] of SDXL_CONV) {
      out[`${m}.lora_down.weight`] = tensor(dtype, [cr, i, 3, 3], w)
      out[`${m}.lora_up.weight`] = tensor(dtype, [o, cr, 1, 1], w)
      alphaOf(m, spec.convAlpha ?? alpha)
    }
  }
  return out
}

/** Metadata as sd-scripts writes for a LoRA trained with train_network.py (values str()-ed). */
export function trainingMetadata(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ss_network_module: 'networks.lora',
    ss_network_dim: '8',
    ss_network_alpha: '4.0',
    ss_network_dropout: 'None',
    ss_learning_rate: '0.0001',
    ss_unet_lr: '0.0001',
    ss_text_encoder_lr: '5e-05',
    ss_lr_scheduler: 'cosine',
    ss_lr_warmup_steps: '0',
    ss_optimizer: 'bitsandbytes.optim.adamw.AdamW8bit(weight_decay=0.01,betas=(0.9, 0.99))',
    ss_max_grad_norm: '1.0',
    ss_num_epochs: '10',
    ss_max_train_steps: '1600',
    ss_batch_size_per_device: '2',
    ss_gradient_accumulation_steps: '1',
    ss_seed: '42',
    ss_max_token_length: 'None',
    ss_mixed_precision: 'bf16',
    ss_full_fp16: 'False',
    ss_gradient_checkpointing: 'True',
    ss_cache_latents: 'True',
    ss_fp8_base: 'False',
    ss_lowram: 'False',
    ss_min_snr_gamma: '5.0',
    ss_noise_offset: '0.0357',
    ss_multires_noise_iterations: 'None',
    ss_multires_noise_discount: '0.3',
    ss_loss_type: 'l2',
    ss_huber_c: '0.1',
    ss_prior_loss_weight: '1.0',
    ss_resolution: '(1024, 1024)',
    ss_enable_bucket: 'True',
    ss_min_bucket_reso: '256',
    ss_max_bucket_reso: '2048',
    ss_bucket_no_upscale: 'True',
    ss_output_name: 'cat-lora',
    ss_training_comment: 'None',
    ss_sd_model_name: 'sd_xl_base_1.0.safetensors',
    ss_base_model_version: 'sdxl_base_v1-0',
    ss_v2: 'False',
    ss_dataset_dirs: JSON.stringify({ '10_cat': { n_repeats: 10, img_count: 20 } }),
    ...overrides,
  }
}

export function loraBytes(spec: LoraSpec = {}): Uint8Array {
  return safetensorsBytes(loraTensors(spec), spec.metadata)
}

export function writeLora(file: string, spec: LoraSpec = {}): string {
  writeFileSync(file, loraBytes(spec))
  return file
}
