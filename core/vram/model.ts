import {
  ACT_GC_BLOCK_DEFAULT_P2,
  ACT_GC_BLOCK_SDPA,
  ACT_GC_PERSISTENT,
  ACT_NOGC_BASE,
  ACT_NOGC_DEFAULT_ATTN_P2,
  ACT_NOGC_FULL_FP32,
  ACT_NOGC_FULL_HALF,
  ACT_NOGC_PER_CONV_RANK,
  ACT_NOGC_PER_RANK,
  ACT_TE_GC,
  ACT_TE_NOGC,
  AUTOCAST_SAVED_FRACTION,
  FITTED,
  FP32_ACTIVATION_FACTOR,
  GB,
  GIB,
  REFERENCE_PIXELS,
  type FittedConstants,
} from './constants'
import { optimizerStateBytes, optimizerStepBytes } from './optimizers'
import { trainableCounts } from './params'
import { effectiveConvDim, effectiveFlags, isNetwork, type VramScenario } from './scenario'
import { TE_EMBEDDING_PARAMS, TE_PARAMS, UNET_PARAMS, VAE_PARAMS, TE1_FROZEN_PARAMS } from './sdxl-layers'

/**
 * Peak GPU memory of an SDXL training run under sd-scripts (v0.8.3 placement rules, vram.md §6).
 *
 * Memory is traced through four moments of a step; the peak is the largest:
 *  - forward:      end of forward / start of backward (saved activations and weight copies held)
 *  - backward:     end of backward (all gradients; the saved inputs of the first blocks still held)
 *  - optimizer:    the optimizer step (gradients + the step's temporaries)
 *  - vae_encode:   start of a step when latents are not cached (gradients already freed)
 * Every term is physics (bytes of weights, gradients, states, counted activations) except the five fitted
 * constants (constants.ts). nvidia-smi shows context + reserved memory: peak = context + (1 + slack) × allocated.
 */

export type Phase = 'forward' | 'backward' | 'optimizer' | 'vae_encode'

export type TermId =
  | 'unet_weights'
  | 'text_encoders'
  | 'vae'
  | 'trainable_weights'
  | 'optimizer_state'
  | 'gradients'
  | 'activations'
  | 'autocast_copies'
  | 'fp8_copies'
  | 'lycoris_deltas'
  | 'optimizer_step'
  | 'vae_encode'

/** A term linear in the fitted multipliers: gb + nogc·k_act_nogc + gc·k_act_gc + vae·vae_encode_gb. */
export interface LinearTerm {
  id: TermId
  gb: number
  nogc: number
  gc: number
  vae: number
}

export interface PhaseTerms {
  phase: Phase
  terms: LinearTerm[]
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
  /** torch.cuda.max_memory_allocated at the peak, GiB. */
  allocated_gib: number
  /** The moment of the step where the peak happens. */
  phase: Phase
  /** Sums to peak_gib. Zero terms are left out. */
  breakdown: BreakdownItem[]
  trainable_params: number
}

function term(id: TermId, gb: number, k: Partial<Omit<LinearTerm, 'id' | 'gb'>> = {}): LinearTerm {
  return { id, gb, nogc: k.nogc ?? 0, gc: k.gc ?? 0, vae: k.vae ?? 0 }
}

/** Bytes per element of the frozen base weights: weight_dtype, or fp8 under --fp8_base. */
function baseBytes(mixed: boolean): number {
  return mixed ? 2 : 4
}

/** The terms of each phase, in GB, with the fitted multipliers left symbolic (the fit uses this directly). */
export function phaseTerms(s: VramScenario): PhaseTerms[] {
  const f = effectiveFlags(s)
  const network = isNetwork(s)
  const counts = trainableCounts(s)
  const wb = baseBytes(f.mixed)
  const pb = f.fullHalf ? 2 : 4 // trainable weights: fp32 unless full_bf16 / full_fp16
  const gc = s.gradient_checkpointing
  const P = (s.resolution.width * s.resolution.height) / REFERENCE_PIXELS
  const bs = s.batch_size
  const actScale = f.mixed ? 1 : FP32_ACTIVATION_FACTOR
  const chunks = s.max_token_length / 75

  // ---- static: present in every phase ----
  const statics: LinearTerm[] = []
  if (network) statics.push(term('unet_weights', (UNET_PARAMS * (f.fp8Base ? 1 : wb)) / GB))
  // Text encoders: on the GPU unless their outputs are cached (then moved to CPU in fp32).
  let teFrozenBytes = 0
  if (!f.cacheTeOutputs) {
    if (network) {
      teFrozenBytes = f.fp8Base ? TE_PARAMS - TE_EMBEDDING_PARAMS + TE_EMBEDDING_PARAMS * wb : TE_PARAMS * wb
    } else if (!s.train_text_encoder) {
      teFrozenBytes = TE_PARAMS * wb
    } else {
      teFrozenBytes = TE1_FROZEN_PARAMS * pb // trained TEs are counted as trainable; this part stays frozen
    }
  }
  if (teFrozenBytes > 0) statics.push(term('text_encoders', teFrozenBytes / GB))
  // VAE: moved to CPU after caching latents; otherwise on the GPU for the whole run.
  const vaeFp32 = s.no_half_vae || !f.mixed
  if (!s.cache_latents) statics.push(term('vae', (VAE_PARAMS * (vaeFp32 ? 4 : 2)) / GB))
  const nTrain = counts.unet + counts.te
  statics.push(term('trainable_weights', (nTrain * pb) / GB))
  const stateBytes = optimizerStateBytes(s.optimizer, {
    params: nTrain,
    paramBytes: pb,
    adafactorStateElements: counts.adafactorState,
    fullFineTune: !network,
  })
  if (stateBytes > 0) statics.push(term('optimizer_state', stateBytes / GB))

  // ---- gradients ----
  const gradBytes = f.fusedBackward ? counts.largest * pb : nTrain * pb
  const grads = term('gradients', gradBytes / GB)
  /** With accumulation, gradients of earlier micro-steps are alive during the next forward. */
  const accumulating = s.gradient_accumulation_steps > 1

  // ---- activations (per sample, scaled by the fitted multiplier for GC / no GC) ----
  let perSample: number
  const defaultAttn = s.attention === 'none'
  // What checkpointing keeps: checkpoint inputs + the largest block's recomputed set. Without GC the same
  // tensors of the first blocks are also still alive at the end of backward, so the backward phase holds
  // this amount either way (and GC can never predict more than no GC).
  let gcPerSample =
    (ACT_GC_PERSISTENT + ACT_GC_BLOCK_SDPA) * P + (defaultAttn ? ACT_GC_BLOCK_DEFAULT_P2 * P * P : 0)
  if (s.train_text_encoder) gcPerSample += ACT_TE_GC * chunks
  if (!gc) {
    if (network) {
      perSample = ACT_NOGC_BASE * P + ACT_NOGC_PER_RANK * s.network_dim * P
      perSample += ACT_NOGC_PER_CONV_RANK * effectiveConvDim(s) * P
    } else {
      perSample = (f.fullHalf ? ACT_NOGC_FULL_HALF : ACT_NOGC_FULL_FP32) * P
    }
    if (defaultAttn) perSample += ACT_NOGC_DEFAULT_ATTN_P2 * P * P
    if (s.train_text_encoder) perSample += ACT_TE_NOGC * chunks
  } else {
    perSample = gcPerSample
  }
  const actGb = perSample * bs * actScale
  const activations = term('activations', 0, gc ? { gc: actGb } : { nogc: actGb })
  const heldAtBackwardEnd = term('activations', 0, { gc: gcPerSample * bs * actScale })

  // ---- weight copies held for backward ----
  const fwdExtra: LinearTerm[] = []
  if (f.mixed && !f.fullHalf) {
    // Autocast caches a bf16 copy of each fp32 trainable weight for the whole forward; without GC autograd keeps
    // it for backward. Trained TEs run in their own autocast region: their copies are held only without GC.
    const n = counts.unet + (gc ? 0 : counts.te)
    fwdExtra.push(term('autocast_copies', (n * 2 * AUTOCAST_SAVED_FRACTION) / GB))
  }
  if (f.fp8Base && !gc) {
    // Autocast re-casts every fp8 weight to a fresh bf16 tensor (no cache for non-fp32 sources); F.linear /
    // F.conv2d save it for grad-input (vram.md §4 trap 1).
    fwdExtra.push(term('fp8_copies', (UNET_PARAMS * 2 * AUTOCAST_SAVED_FRACTION) / GB))
  }
  if ((s.training_type === 'loha' || s.training_type === 'lokr') && !s.lycoris_bypass_mode && !gc) {
    // Non-bypass LyCORIS materialises ΔW per layer in the base dtype and the op saves it (vram.md §4 trap 2).
    fwdExtra.push(term('lycoris_deltas', (counts.wrappedUnet * (f.fp8Base ? 2 : wb)) / GB))
  }

  const forward: LinearTerm[] = [...statics, activations, ...fwdExtra]
  if (accumulating) forward.push(grads)
  // End of backward: all gradients, while the saved inputs of the first (high-resolution) blocks are freed
  // last, when nearly every gradient exists: count them in full (conservative).
  const backward: LinearTerm[] = [...statics, grads, heldAtBackwardEnd]
  const stepBytes = optimizerStepBytes(s.optimizer, {
    params: nTrain,
    paramBytes: pb,
    largest: counts.largest,
  })
  const optimizer: LinearTerm[] = [...statics, grads, term('optimizer_step', stepBytes / GB)]
  const phases: PhaseTerms[] = [
    { phase: 'forward', terms: forward },
    { phase: 'backward', terms: backward },
    { phase: 'optimizer', terms: optimizer },
  ]
  if (!s.cache_latents) {
    const encode = term('vae_encode', 0, { vae: bs * P * (vaeFp32 ? 2 : 1) })
    phases.push({ phase: 'vae_encode', terms: [...statics, ...(accumulating ? [grads] : []), encode] })
  }
  return phases
}

export function termGb(t: LinearTerm, c: FittedConstants): number {
  return t.gb + t.nogc * c.k_act_nogc + t.gc * c.k_act_gc + t.vae * c.vae_encode_gb
}

function phaseGb(p: PhaseTerms, c: FittedConstants): number {
  let sum = 0
  for (const t of p.terms) sum += termGb(t, c)
  return sum
}

/** Index of the phase with the most allocated memory (first wins ties, so the order above matters). */
export function peakPhaseIndex(phases: PhaseTerms[], c: FittedConstants): number {
  let best = 0
  let bestGb = -Infinity
  phases.forEach((p, i) => {
    const gb = phaseGb(p, c)
    if (gb > bestGb + 1e-12) {
      best = i
      bestGb = gb
    }
  })
  return best
}

const round = (x: number) => Math.round(x * 1000) / 1000

/** The prediction: a pure function of the scenario (and the fitted constants); well under 1 ms. */
export function predict(s: VramScenario, c: FittedConstants = FITTED): VramPrediction {
  const phases = phaseTerms(s)
  const peak = phases[peakPhaseIndex(phases, c)]!
  const breakdown: BreakdownItem[] = [
    { id: 'cuda_context', label_key: 'terms.cuda_context', gib: c.context_gib },
  ]
  let allocatedGb = 0
  for (const t of peak.terms) {
    const gb = termGb(t, c)
    allocatedGb += gb
    if (gb > 0) breakdown.push({ id: t.id, label_key: `terms.${t.id}`, gib: (gb * GB) / GIB })
  }
  const allocatedGib = (allocatedGb * GB) / GIB
  const slack = allocatedGib * c.slack_fraction
  breakdown.push({ id: 'allocator_slack', label_key: 'terms.allocator_slack', gib: slack })
  const counts = trainableCounts(s)
  return {
    peak_gib: round(c.context_gib + allocatedGib + slack),
    allocated_gib: round(allocatedGib),
    phase: peak.phase,
    breakdown: breakdown.map((b) => ({ ...b, gib: round(b.gib) })),
    trainable_params: counts.unet + counts.te,
  }
}
