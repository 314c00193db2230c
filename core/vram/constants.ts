import { z } from 'zod'
import fittedJson from '../../resources/vram/constants.json'

/**
 * Physical constants of the VRAM model. Each says where it came from. "vram.md" is
 * ../shared/reference/vram.md (counts on the meta device of the sd-scripts v0.8.3 U-Net, public sources).
 * Only the five constants in resources/vram/constants.json are fitted (npm run vram:fit).
 */

export const GB = 1e9
export const GIB = 1024 ** 3
/** SDXL's reference area; activation fits are in P = pixels / 1024². */
export const REFERENCE_PIXELS = 1024 * 1024

// ---- Activations saved for backward, GB per sample at P = 1, bf16 autocast (vram.md §4) ----

/** No GC, SDPA/xformers, LoRA on a frozen bf16 U-Net (vram.md §4, "LoRA dim 32" row minus its rank share). */
export const ACT_NOGC_BASE = 9.12 - 32 * 0.00177
/** Extra per unit of linear rank: (9.29 − 9.12) GB over ranks 32 → 128 (vram.md §4 by-mode table). */
export const ACT_NOGC_PER_RANK = 0.00177
/** Extra per unit of conv rank: LoCon 64/32 saves 9.46 GB; 9.46 − 9.12 − 32·0.00177 over 32 (vram.md §4). */
export const ACT_NOGC_PER_CONV_RANK = (9.46 - 9.12 - 32 * 0.00177) / 32
/** Full fine-tune, fp32 weights under bf16 autocast (vram.md §4). */
export const ACT_NOGC_FULL_FP32 = 8.79
/** Full fine-tune with --full_bf16 / --full_fp16 (vram.md §4). */
export const ACT_NOGC_FULL_HALF = 9.06
/** Default (no xformers/SDPA) attention adds the softmax matrices: 17.9 GB × P² per sample (vram.md §4 fit). */
export const ACT_NOGC_DEFAULT_ATTN_P2 = 17.9
/** GC: checkpoint inputs + un-checkpointed saved tensors, 0.618 GB × P per sample (vram.md §4). */
export const ACT_GC_PERSISTENT = 0.618
/** GC: the largest block's saved set during recomputation, SDPA: 0.241 GB × P (vram.md §4). */
export const ACT_GC_BLOCK_SDPA = 0.241
/**
 * GC, default attention: the largest block additionally holds its attention matrices, ≈ 0.96 GB × P²
 * (vram.md §4 table: 1.82 − 0.86 GB at 1024²; gives 0.12 vs 0.115 GB at 512² and 16.4 vs 16.0 GB at 2048²).
 */
export const ACT_GC_BLOCK_DEFAULT_P2 = 0.96
/**
 * Text encoders trained: saved activations per 77-token chunk per sample. Our estimate from the CLIP shapes
 * (per layer ≈ 77 tokens × (8 widths + 3 MLP widths) + attention probabilities, bf16): CLIP-L ≈ 0.03 GB,
 * bigG ≈ 0.15 GB. Under GC only layer inputs are kept (≈ 1/6).
 */
export const ACT_TE_NOGC = 0.18
export const ACT_TE_GC = 0.03
/**
 * mixed_precision "no": everything runs and is saved in fp32 instead of mostly bf16. Assumption: ×2
 * (GroupNorm/LayerNorm/softmax already save fp32 under autocast, so the true factor is a little lower).
 */
export const FP32_ACTIVATION_FACTOR = 2

/**
 * Fraction of fp32 trainable weights whose bf16 autocast copy is saved for backward (no GC): LoRA d32
 * 0.15 GB of 0.170 GB, d128 0.61 of 0.681, full fine-tune 4.44 of 5.13 (vram.md §4). The same fraction of
 * the frozen U-Net is held as bf16 copies of fp8 weights under fp8_base without GC (vram.md §4, trap 1).
 */
export const AUTOCAST_SAVED_FRACTION = 0.87

// ---- Optimizer ----

/** Per-tensor temporaries of a non-foreach optimizer step, in units of the largest tensor (fp32). */
export const STEP_TEMPS_PER_TENSOR = 3

// ---- Fitted (resources/vram/constants.json, written by `npm run vram:fit`) ----

export const FittedConstants = z.object({
  /** CUDA context + cuBLAS/cuDNN workspaces, GiB (prior: 0.27–0.67 GB context alone, vram.md §6). */
  context_gib: z.number(),
  /** Allocator slack: reserved-but-unallocated as a fraction of allocated (prior: 2–3 %, vram.md §6 OOM messages). */
  slack_fraction: z.number(),
  /** Multiplier on computed no-GC activations (fragmentation of many activation tensors, loss/noise tensors). */
  k_act_nogc: z.number(),
  /** Multiplier on computed GC activations. */
  k_act_gc: z.number(),
  /** VAE encode transient, GB per sample at P = 1 in half precision (latents not cached); fp32 VAE ×2. */
  vae_encode_gb: z.number(),
})
export type FittedConstants = z.infer<typeof FittedConstants>

export const FittedFile = z.object({
  $comment: z.string().optional(),
  fitted_on: z.array(z.string()),
  constants: FittedConstants,
  median_abs_error_pct: z.number(),
  max_abs_error_pct: z.number(),
})
export type FittedFile = z.infer<typeof FittedFile>

export const FITTED: FittedConstants = FittedFile.parse(fittedJson).constants
