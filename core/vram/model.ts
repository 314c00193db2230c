import {
  calibratedGib,
  featuresOf,
  ACTIVATIONS,
  type Coefficients,
  type FeatureId,
  type Moment,
} from './activations'
import { FITTED, GIB, type FittedConstants } from './constants'
import { optimizerStateBytes, optimizerStepShape } from './optimizers'
import { trainableCounts } from './params'
import { effectiveFlags, isNetwork, type VramScenario } from './scenario'
import {
  TE1_FROZEN_PARAMS,
  TE1_PARAMS,
  TE2_PARAMS,
  TE_EMBEDDING_PARAMS,
  TE_PARAMS,
  UNET_PARAMS,
  VAE_PARAMS,
} from './sdxl-layers'

/**
 * Peak GPU memory of an SDXL training run under kohya-ss/sd-scripts v0.10.1.
 *
 * Allocated memory (what torch.cuda.max_memory_allocated() reports) is physics: weights, gradients and
 * optimizer state by dtype and placement as sd-scripts places them, counted from the real layer shapes;
 * activations and weight copies from coefficients measured on the trace of sd-scripts' own model code
 * (activations.ts). It is evaluated at five moments of a step; the prediction is the largest:
 *  - forward:       the end of the forward pass (saved activations, autocast's weight copies)
 *  - backward:      early in backward with checkpointing (the last blocks recomputed, all inputs held)
 *  - backward_end:  every gradient exists; the first blocks' inputs are freed last
 *  - optimizer:     gradients plus the step's temporaries
 *  - vae_encode:    the VAE encoder's feature maps when latents are not cached
 * What nvidia-smi shows adds what the trace cannot see, fitted on measured peaks (constants.ts):
 * peak = context + (1 + slack) × allocated.
 */

export type Phase = 'forward' | 'backward' | 'optimizer' | 'vae_encode'

export type TermId =
  | 'unet_weights'
  | 'text_encoders'
  | 'vae'
  | 'trainable_weights'
  | 'optimizer_state'
  | 'kept_gradients'
  | 'gradients'
  | 'activations'
  | 'autocast_copies'
  | 'fp8_copies'
  | 'lycoris_deltas'
  | 'optimizer_step'
  | 'vae_encode'

export interface Term {
  id: TermId
  gib: number
}

export interface PhaseTerms {
  phase: Phase
  /** Which moment of the step (two moments of backward share the phase "backward"). */
  moment: Moment | 'optimizer'
  terms: Term[]
}

export interface BreakdownItem {
  id: TermId | 'cuda_context' | 'allocator_slack'
  /** i18n key in the 'vram' namespace. */
  label_key: string
  gib: number
}

export interface VramPrediction {
  /** What nvidia-smi will show for the training process at its peak, GiB. */
  peak_gib: number
  /** The uncertainty band around peak_gib (± band_pct of the fit's residuals), GiB. */
  peak_low_gib: number
  peak_high_gib: number
  /** torch.cuda.max_memory_allocated at the peak, GiB. */
  allocated_gib: number
  /** The moment of the step where the peak happens. */
  phase: Phase
  /** Sums to peak_gib. Zero terms are left out. */
  breakdown: BreakdownItem[]
  trainable_params: number
}

/** Which term each calibrated feature shows up as in the breakdown. */
function termOf(feature: FeatureId): TermId {
  const what = feature.split('.')[1]!
  if (what === 'encode') return 'vae_encode'
  if (what.startsWith('copies')) return 'autocast_copies'
  if (what.startsWith('fp8')) return 'fp8_copies'
  if (what.startsWith('lycoris')) return 'lycoris_deltas'
  return 'activations'
}

function calibratedTerms(
  moment: Moment,
  feats: Record<FeatureId, number>,
  coefficients: Coefficients,
): Term[] {
  const by = new Map<TermId, number>()
  for (const [id, x] of Object.entries(feats) as [FeatureId, number][]) {
    if (!x || !id.startsWith(`${moment}.`)) continue
    const gib = x * (coefficients[id] ?? 0)
    if (gib !== 0) by.set(termOf(id), (by.get(termOf(id)) ?? 0) + gib)
  }
  return [...by].map(([id, gib]) => ({ id, gib }))
}

const toGib = (bytes: number) => bytes / GIB

/** The terms of each moment of a step, GiB (the fitted constants are not in them: allocated only). */
export function phaseTerms(
  s: VramScenario,
  coefficients: Coefficients = ACTIVATIONS.coefficients as Coefficients,
): PhaseTerms[] {
  const f = effectiveFlags(s)
  const network = isNetwork(s)
  const counts = trainableCounts(s)
  const wb = f.mixed ? 2 : 4 // weight_dtype
  const pb = f.fullHalf ? 2 : 4 // trainable weights: fp32 unless full_bf16 / full_fp16
  const gc = s.gradient_checkpointing
  const feats = featuresOf(s)

  // ---- on the GPU the whole step ----
  const statics: Term[] = []
  if (network) statics.push({ id: 'unet_weights', gib: toGib(UNET_PARAMS * (f.fp8Base ? 1 : wb)) })
  if (!f.cacheTeOutputs) {
    // Frozen text encoders sit on the GPU in weight_dtype (fp8 but their embeddings under --fp8_base);
    // with cached outputs they wait on the CPU in fp32.
    let te = 0
    if (network) te = f.fp8Base ? TE_PARAMS - TE_EMBEDDING_PARAMS + TE_EMBEDDING_PARAMS * wb : TE_PARAMS * wb
    else if (!s.train_text_encoder) te = TE_PARAMS * wb
    else {
      // sdxl_train.py: a trained encoder is fp32 (full_bf16: bf16) and counted as trainable, except TE1's
      // last layer and final norm, frozen in the same dtype; an encoder with learning rate 0 is weight_dtype.
      if (s.text_encoders_trained !== 'te2') te += TE1_FROZEN_PARAMS * pb
      if (s.text_encoders_trained === 'te1') te += TE2_PARAMS * wb
      if (s.text_encoders_trained === 'te2') te += TE1_PARAMS * wb
    }
    if (te > 0) statics.push({ id: 'text_encoders', gib: toGib(te) })
  }
  if (!s.cache_latents)
    statics.push({ id: 'vae', gib: toGib(VAE_PARAMS * (s.no_half_vae || !f.mixed ? 4 : 2)) })
  const nTrain = counts.unet + counts.te
  statics.push({ id: 'trainable_weights', gib: toGib(nTrain * pb) })
  const state = optimizerStateBytes(s.optimizer, {
    params: nTrain,
    paramBytes: pb,
    adafactorStateElements: counts.adafactorState,
    fullFineTune: !network,
    tensors: counts.tensors,
    zeroInit: counts.zeroInit,
  })
  if (state > 0) statics.push({ id: 'optimizer_state', gib: toGib(state) })
  // sd-scripts' checkpointing workaround sets requires_grad on the text encoders' embeddings when their
  // network modules train; no optimizer owns them, so their gradients are never freed (train_network.py
  // prepare_text_encoder_grad_ckpt_workaround).
  if (network && s.train_text_encoder && !f.cacheTeOutputs && gc) {
    statics.push({ id: 'kept_gradients', gib: toGib(TE_EMBEDDING_PARAMS * wb) })
  }

  const allGrads: Term = { id: 'gradients', gib: toGib(nTrain * pb) }
  const accumulating = s.gradient_accumulation_steps > 1 ? [allGrads] : []
  // The step's temporaries: measured on the trace, plus Adafactor's fp32 copies of a half-precision
  // tensor's gradient and weights, counted (optimizers.ts).
  const upcast = optimizerStepShape(s.optimizer, {
    params: nTrain,
    paramBytes: pb,
    largest: counts.largest,
  }).upcastBytes
  const step = calibratedGib('optimizer', feats, coefficients) + toGib(upcast)

  const phases: PhaseTerms[] = []
  const add = (phase: Phase, moment: PhaseTerms['moment'], terms: Term[]) =>
    phases.push({ phase, moment, terms: [...statics, ...terms].filter((t) => t.gib !== 0) })

  add('forward', 'forward', [...accumulating, ...calibratedTerms('forward', feats, coefficients)])
  if (f.fusedBackward) {
    // Adafactor stepped per tensor from the gradient hook: one gradient and the step's fp32 temporaries
    // are alive at a time, never all gradients (sdxl_train.py --fused_backward_pass).
    const inflight: Term[] = [
      { id: 'gradients', gib: toGib(counts.largest * pb) },
      { id: 'optimizer_step', gib: step },
    ]
    // Early in backward the gradients are the output layers' (small) and the activations are at their
    // peak; the large tensors step later, when most activations are freed (the trace shows no step
    // temporaries at the early peak).
    add('backward', 'backward', calibratedTerms('backward', feats, coefficients))
    add('backward', 'backward_end', [...inflight, ...calibratedTerms('backward_end', feats, coefficients)])
  } else if (f.fusedGroups > 0) {
    // --fused_optimizer_groups N: a group's optimizer steps (and frees its gradients) as soon as the last of
    // them exists; about one group's gradients are alive, the largest group taken as 1.4 / N of all.
    const inflight: Term[] = [
      { id: 'gradients', gib: toGib(nTrain * pb * Math.min(1, 1.4 / f.fusedGroups)) },
      { id: 'optimizer_step', gib: step },
    ]
    if (gc) add('backward', 'backward', calibratedTerms('backward', feats, coefficients))
    add('backward', 'backward_end', [...inflight, ...calibratedTerms('backward_end', feats, coefficients)])
  } else {
    if (gc)
      add('backward', 'backward', [...accumulating, ...calibratedTerms('backward', feats, coefficients)])
    // The text encoders' backward runs after the U-Net's, once its activations are freed: at the end of
    // the U-Net's backward only its own gradients exist (the trace shows it); all of them meet at the step.
    const unetGrads: Term = { id: 'gradients', gib: toGib(counts.unet * pb) }
    add('backward', 'backward_end', [
      counts.te > 0 ? unetGrads : allGrads,
      ...calibratedTerms('backward_end', feats, coefficients),
    ])
    add('optimizer', 'optimizer', [allGrads, { id: 'optimizer_step', gib: step }])
  }
  if (!s.cache_latents) {
    add('vae_encode', 'vae_encode', [...accumulating, ...calibratedTerms('vae_encode', feats, coefficients)])
  }
  return phases
}

export function phaseGib(p: PhaseTerms): number {
  let sum = 0
  for (const t of p.terms) sum += t.gib
  return sum
}

/** Index of the phase with the most allocated memory (first wins ties, so the order above matters). */
export function peakPhaseIndex(phases: PhaseTerms[]): number {
  let best = 0
  let bestGib = -Infinity
  phases.forEach((p, i) => {
    const gib = phaseGib(p)
    if (gib > bestGib + 1e-12) {
      best = i
      bestGib = gib
    }
  })
  return best
}

const round = (x: number) => Math.round(x * 1000) / 1000

/** The allocated peak, GiB, and the moment it is in (what the fit and the trace comparison use). */
export function allocatedPeak(
  s: VramScenario,
  coefficients?: Coefficients,
): { gib: number; phase: PhaseTerms } {
  const phases = phaseTerms(s, coefficients)
  const peak = phases[peakPhaseIndex(phases)]!
  return { gib: phaseGib(peak), phase: peak }
}

/** The prediction: a pure function of the scenario (and the fitted constants); well under 1 ms. */
export function predict(s: VramScenario, c: FittedConstants = FITTED): VramPrediction {
  const { gib: allocated, phase: peak } = allocatedPeak(s)
  const merged = new Map<TermId, number>()
  for (const t of peak.terms) merged.set(t.id, (merged.get(t.id) ?? 0) + t.gib)
  const breakdown: BreakdownItem[] = [
    { id: 'cuda_context', label_key: 'terms.cuda_context', gib: c.context_gib },
  ]
  for (const [id, gib] of merged) if (gib > 0) breakdown.push({ id, label_key: `terms.${id}`, gib })
  const slack = allocated * c.slack_fraction
  breakdown.push({ id: 'allocator_slack', label_key: 'terms.allocator_slack', gib: slack })
  const counts = trainableCounts(s)
  const total = c.context_gib + allocated + slack
  return {
    peak_gib: round(total),
    peak_low_gib: round(total * (1 - c.band_pct / 100)),
    peak_high_gib: round(total * (1 + c.band_pct / 100)),
    allocated_gib: round(allocated),
    phase: peak.phase,
    breakdown: breakdown.map((b) => ({ ...b, gib: round(b.gib) })),
    trainable_params: counts.unet + counts.te,
  }
}
