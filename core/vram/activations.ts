import { z } from 'zod'
import activationsJson from '../../resources/vram/activations.json' with { type: 'json' }
import { GIB, REFERENCE_PIXELS } from './constants'
import { optimizerStepShape } from './optimizers'
import { trainableCounts } from './params'
import { effectiveConvDim, effectiveFlags, isNetwork, type VramScenario } from './scenario'
import { UNET_PARAMS } from './sdxl-layers'

/**
 * What a step holds besides weights, gradients and optimizer state, in GiB: saved activations, the
 * autocast copies of weights, the VAE's encoder transient. Each is a coefficient times a feature of the
 * scenario that is proportional to it by construction (samples × pixels for activations, parameters ×
 * 2 bytes for weight copies...). The coefficients are measured on the trace of sd-scripts' own model
 * code (resources/vram/trace-sd-scripts-0.10.1.json) by `npm run vram:calibrate`, which writes
 * resources/vram/activations.json: calibrated against the trace, not fitted to GPU readings.
 */

/** The moments of a step the model evaluates; the prediction is the largest. */
export type Moment = 'forward' | 'backward' | 'backward_end' | 'optimizer' | 'vae_encode'

/** Feature ids, `<moment>.<what>`; every feature is zero where it does not apply. */
export const FEATURES = {
  forward: [
    'act_gc', // samples × P: checkpoint inputs and un-checkpointed tensors, plus one block's transient
    'act_gc_attn_p2', // samples × P², plain attention (no kernel): one block's attention matrices
    'act_gc_memeff', // samples × P with --mem_eff_attn: its chunked attention keeps row sums and maxima
    'act_nogc', // samples × P: every saved tensor of the U-Net (flash attention, frozen weights)
    'act_nogc_ft', // samples × P, full fine-tune: the same with trainable weights
    'act_nogc_rank', // samples × P × linear rank: LoRA down-projections saved for the up-projection
    'act_nogc_conv', // samples × P × conv rank
    'act_nogc_attn_p2', // samples × P², plain attention: every softmax matrix
    'act_nogc_memeff', // samples × P with --mem_eff_attn
    'act_te_gc', // samples × token chunks, text encoders trained, checkpointed
    'act_te_nogc', // samples × token chunks, text encoders trained
    'copies', // GiB of bf16/fp16 copies of every fp32 trainable weight (autocast's cache, whole forward)
    'copies_nogc', // 1 without checkpointing under autocast (networks): casts of frozen weights kept for backward
    'fp8_nogc', // GiB of bf16 copies of every fp8 U-Net weight (without checkpointing, kept for backward)
    'lycoris_nogc', // GiB of full-size LoHa/LoKr weight deltas (2 bytes per wrapped weight), no bypass
  ],
  backward: [
    'act_gc', // samples × P: early in backward, the last blocks recomputed while the inputs of all are held
    'act_gc_attn_p2',
    'act_gc_memeff',
    'act_te_gc',
    'copies_gc', // GiB of copies of every fp32 trainable weight: the recomputed block's share
  ],
  backward_end: [
    'act_gc', // samples × P: all gradients exist; the first blocks' inputs are freed last
    'act_nogc', // samples × P: the same without checkpointing
  ],
  vae_encode: [
    'encode', // min(batch, vae_batch_size) × P × (2 for an fp32 VAE): the encoder's feature maps, no grad
  ],
  optimizer: [
    'step_all', // GiB of all trainable weights, foreach optimizers (one more copy during the step)
    'step_largest', // GiB of the largest trainable tensor in fp32, optimizers stepping one tensor at a time
  ],
} as const

export type FeatureId = {
  [M in keyof typeof FEATURES]: `${M}.${(typeof FEATURES)[M][number]}`
}[keyof typeof FEATURES]

export const ALL_FEATURES: FeatureId[] = (Object.keys(FEATURES) as (keyof typeof FEATURES)[]).flatMap((m) =>
  FEATURES[m].map((f) => `${m}.${f}` as FeatureId),
)

/** GiB in one GB (10⁹ bytes). */
const GIB_PER_GB = 1e9 / GIB

/**
 * Where no traced config exercises a feature yet, its coefficient is this estimate (GiB per unit of
 * the feature), from counts on the meta device of the sd-scripts v0.8.3 U-Net (../shared/reference/vram.md
 * §4, given there in GB per 1024² sample, converted). The calibration replaces each as soon as a trace
 * covers it; activations.json lists which ones are still estimates (from_prior).
 */
export const PRIORS: Coefficients = {
  'forward.act_gc_attn_p2': 0.96 * GIB_PER_GB, // one block's attention matrices under checkpointing
  'forward.act_gc_memeff': 0, // sd-scripts' chunked attention keeps only row statistics
  'forward.act_nogc_ft': 8.79 * GIB_PER_GB, // full fine-tune, fp32 weights under bf16 autocast
  'forward.act_nogc_conv': ((9.46 - 9.12 - 32 * 0.00177) / 32) * GIB_PER_GB, // LoCon 64/32 minus LoRA 64
  'forward.act_nogc_attn_p2': 17.9 * GIB_PER_GB, // every softmax matrix, plain attention
  'forward.act_nogc_memeff': 0,
  'forward.act_te_gc': 0.03 * GIB_PER_GB, // CLIP-L + bigG layer inputs per 77-token chunk
  'forward.act_te_nogc': 0.18 * GIB_PER_GB, // CLIP-L + bigG saved tensors per 77-token chunk
  'forward.fp8_nogc': 0.87, // autocast's bf16 re-casts of fp8 weights saved by the ops (vram.md §4 trap 1)
  'forward.lycoris_nogc': 1, // each full-size delta is saved by its op (vram.md §4 trap 2)
  'backward.act_gc_attn_p2': 0.96 * GIB_PER_GB,
  'backward.act_gc_memeff': 0,
  'backward.act_te_gc': 0.03 * GIB_PER_GB,
  'backward_end.act_nogc': 0.618 * GIB_PER_GB, // the first blocks' inputs, freed last (as under checkpointing)
}

export const ActivationsFile = z.object({
  $comment: z.string().optional(),
  /** The trace data the coefficients were measured on. */
  calibrated_on: z.string(),
  points: z.number().int(),
  coefficients: z.record(z.string(), z.number()),
  /** Coefficients no traced config exercises yet: the estimates of PRIORS. */
  from_prior: z.array(z.string()).default([]),
  /** Largest |gauge allocated − trace allocated| / trace allocated over the calibration points, %. */
  max_abs_error_pct: z.number(),
  median_abs_error_pct: z.number(),
})
export type ActivationsFile = z.infer<typeof ActivationsFile>

export const ACTIVATIONS: ActivationsFile = ActivationsFile.parse(activationsJson)

export type Coefficients = Partial<Record<FeatureId, number>>

const on = (b: boolean) => (b ? 1 : 0)

/** Every feature of a scenario (zero where it does not apply). */
export function featuresOf(s: VramScenario): Record<FeatureId, number> {
  const f = effectiveFlags(s)
  const network = isNetwork(s)
  const gc = s.gradient_checkpointing
  const P = (s.resolution.width * s.resolution.height) / REFERENCE_PIXELS
  // Activations of an fp32 run (mixed precision "no") are saved in fp32: twice the bytes.
  const B = s.batch_size * (f.mixed ? 1 : 2)
  const BP = B * P
  const plain = s.attention === 'none'
  const memeff = s.attention === 'mem_eff_attn'
  const counts = trainableCounts(s)
  const lycorisDelta = s.training_type === 'loha' || s.training_type === 'lokr'
  // networks.lora and LyCORIS LoCon run x·down·up, keeping x·down (rank wide) for backward; LoHa/LoKr
  // (without bypass) build the full weight delta instead (lycoris_nogc).
  const lowRankPath = s.training_type === 'lora' || s.training_type === 'locon' || s.lycoris_bypass_mode
  const chunks = (s.max_token_length / 75) * s.batch_size
  const teTrained = s.train_text_encoder && !f.cacheTeOutputs
  const fp32Trainable = f.mixed && !f.fullHalf ? counts.unet + counts.te : 0
  const copiesGib = (fp32Trainable * 2) / GIB
  const nogc = !gc
  const pb = f.fullHalf ? 2 : 4
  const stepShape = optimizerStepShape(s.optimizer, {
    params: counts.unet + counts.te,
    paramBytes: pb,
    largest: counts.largest,
  })
  return {
    'forward.act_gc': on(gc) * BP,
    'forward.act_gc_attn_p2': on(gc && plain) * B * P * P,
    'forward.act_gc_memeff': on(gc && memeff) * BP,
    'forward.act_nogc': on(nogc && network) * BP,
    'forward.act_nogc_ft': on(nogc && !network) * BP,
    'forward.act_nogc_rank': on(nogc && network && lowRankPath) * BP * s.network_dim,
    'forward.act_nogc_conv': on(nogc && network && lowRankPath) * BP * effectiveConvDim(s),
    'forward.act_nogc_attn_p2': on(nogc && plain) * B * P * P,
    'forward.act_nogc_memeff': on(nogc && memeff) * BP,
    'forward.act_te_gc': on(gc && teTrained) * chunks,
    'forward.act_te_nogc': on(nogc && teTrained) * chunks,
    'forward.copies': copiesGib,
    'forward.copies_nogc': on(nogc && f.mixed && network),
    'forward.fp8_nogc': on(nogc && f.fp8Base) * ((UNET_PARAMS * 2) / GIB),
    'forward.lycoris_nogc':
      on(nogc && lycorisDelta && !s.lycoris_bypass_mode) * ((counts.wrappedUnet * 2) / GIB),
    'backward.act_gc': on(gc) * BP,
    'backward.act_gc_attn_p2': on(gc && plain) * B * P * P,
    'backward.act_gc_memeff': on(gc && memeff) * BP,
    'backward.act_te_gc': on(gc && teTrained) * chunks,
    'backward.copies_gc': on(gc) * copiesGib,
    'backward_end.act_gc': on(gc) * BP,
    'backward_end.act_nogc': on(nogc) * BP,
    // sd-scripts encodes the batch vae_batch_size images at a time (the trace: batch 2 holds what batch 1 does).
    'vae_encode.encode':
      on(!s.cache_latents) *
      Math.min(s.batch_size, s.vae_batch_size) *
      P *
      (s.no_half_vae || !f.mixed ? 2 : 1),
    'optimizer.step_all': stepShape.allBytes / GIB,
    'optimizer.step_largest': stepShape.largestFp32Bytes / GIB,
  }
}

/** The calibrated part of a moment, GiB: Σ coefficient × feature over the moment's features. */
export function calibratedGib(
  moment: Moment,
  feats: Record<FeatureId, number>,
  coefficients: Coefficients = ACTIVATIONS.coefficients as Coefficients,
): number {
  let sum = 0
  for (const f of FEATURES[moment]) {
    const id = `${moment}.${f}` as FeatureId
    const x = feats[id]
    if (x) sum += x * (coefficients[id] ?? 0)
  }
  return sum
}
