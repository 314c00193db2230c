import { STEP_TEMPS_PER_TENSOR } from './constants'
import type { OptimizerType } from './scenario'

/**
 * Optimizer memory: persistent state and the temporaries of one step (vram.md §5; sd-scripts.md §2.3 for
 * which class each name selects).
 */

interface StateArgs {
  params: number
  /** Bytes per trainable parameter (4 fp32, 2 under full_bf16/full_fp16). */
  paramBytes: number
  /** Adafactor's factored second-moment size over the trainable tensors (sdxl-layers.ts). */
  adafactorStateElements: number
  fullFineTune: boolean
}

/** Persistent optimizer state in bytes. */
export function optimizerStateBytes(opt: OptimizerType, a: StateArgs): number {
  const w = a.paramBytes
  switch (opt) {
    case 'AdamW':
    case 'PagedAdamW':
    case 'AdamWScheduleFree': // z + exp_avg_sq
    case 'RAdamScheduleFree':
      return a.params * 2 * w // exp_avg + exp_avg_sq, in the parameter dtype
    case 'PagedAdamW32bit':
      return a.params * 8 // bitsandbytes 32-bit states regardless of parameter dtype
    case 'AdamW8bit':
    case 'PagedAdamW8bit':
      // two uint8 states + per-block scales ≈ 2 B (bitsandbytes docs: "75 % less"); tensors under 4096
      // elements keep 32-bit states, a negligible share for SDXL modules.
      return a.params * 2
    case 'Lion':
    case 'SGDNesterov':
    case 'SGDScheduleFree':
      return a.params * w // one momentum (z for schedule-free SGD)
    case 'Lion8bit':
    case 'PagedLion8bit':
    case 'SGDNesterov8bit':
      return a.params * 1
    case 'CAME':
      // exp_avg full size + factored second moment and residual (row/column pairs): Adafactor's state twice
      // plus one full-size state.
      return a.params * w + a.adafactorStateElements * 4 * 2
    case 'Adafactor':
      // transformers Adafactor, beta1 = None (as sd-scripts recommends): factored rows/columns. Always fp32:
      // the step casts a bf16/fp16 grad to fp32 first and creates/moves the state with `.to(grad)`, so
      // full_bf16 / full_fp16 do not halve it (vram.md §5: 0.977 GB for the whole U-Net either way).
      return a.adafactorStateElements * 4
    case 'Prodigy':
      // s, exp_avg, exp_avg_sq full size, p0 full size except for all-zero params (LoRA's lora_up): 3.5 × for
      // networks, 4 × for a full fine-tune (prodigyopt source, vram.md §5).
      return a.params * w * (a.fullFineTune ? 4 : 3.5)
    case 'DAdaptation':
    case 'DAdaptAdam':
      return a.params * w * 3 // s, exp_avg, exp_avg_sq (dadaptation source)
    case 'DAdaptAdaGrad':
    case 'DAdaptSGD':
      return a.params * w * 3 // alpha_k/z, s, x0 (dadaptation source)
    case 'DAdaptAdan':
      return a.params * w * 4 // exp_avg, exp_avg_sq, exp_avg_diff, s (dadaptation source)
    case 'DAdaptLion':
      return a.params * w * 2 // exp_avg, s
  }
}

/** Optimizers whose torch implementation steps all tensors at once (foreach) by default. */
const FOREACH = new Set<OptimizerType>(['AdamW', 'SGDNesterov'])
/** bitsandbytes kernels update in place, block by block. */
const IN_PLACE = new Set<OptimizerType>([
  'AdamW8bit',
  'PagedAdamW8bit',
  'PagedAdamW',
  'PagedAdamW32bit',
  'Lion8bit',
  'PagedLion8bit',
  'SGDNesterov8bit',
])

/** Extra bytes alive during the optimizer step. */
export function optimizerStepBytes(
  opt: OptimizerType,
  a: { params: number; paramBytes: number; largest: number },
): number {
  // torch foreach: "~ sizeof(params) more peak memory than the for-loop version" (torch docs, vram.md §5).
  if (FOREACH.has(opt)) return a.params * a.paramBytes
  if (IN_PLACE.has(opt)) return 0
  // Per-tensor loops (Adafactor's fp32 grad/param/update copies, Prodigy's denom, Lion's update): a few
  // fp32 temporaries of the largest tensor.
  return a.largest * 4 * STEP_TEMPS_PER_TENSOR
}

/** The optimizers whose state is 8-bit (bitsandbytes); used by advice. */
export function isEightBit(opt: OptimizerType): boolean {
  return opt.endsWith('8bit')
}
