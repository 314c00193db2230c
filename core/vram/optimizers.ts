import type { OptimizerType } from './scenario'

/**
 * Optimizer memory: persistent state and the temporaries of one step (vram.md §5; sd-scripts.md §2.3 for
 * which class each name selects), as the optimizers' own code lays them out; checked on the trace of
 * every optimizer below (resources/vram/trace-sd-scripts-0.10.1.json).
 */

interface StateArgs {
  params: number
  /** Bytes per trainable parameter (4 fp32, 2 under full_bf16/full_fp16). */
  paramBytes: number
  /** Adafactor's factored second-moment size over the trainable tensors (sdxl-layers.ts). */
  adafactorStateElements: number
  fullFineTune: boolean
  /** Element counts of the trainable tensors. */
  tensors: readonly number[]
  /** Parameters of tensors that start at zero (LoRA up, LoHa w2_a…): Prodigy keeps no copy of them. */
  zeroInit: number
}

/** bitsandbytes: tensors under 4096 elements keep 32-bit state (Optimizer8bit min_8bit_size). */
const MIN_8BIT_SIZE = 4096
/** bitsandbytes' blockwise quantisation: one fp32 absmax per 256 elements (per state). */
const BLOCK = 256

/** bytes of `states` 8-bit states over the tensors (32-bit ones for small tensors), with absmax. */
function eightBitStates(tensors: readonly number[], states: number): number {
  let bytes = 0
  for (const n of tensors) bytes += n < MIN_8BIT_SIZE ? 4 * n : n + 4 * Math.ceil(n / BLOCK)
  return bytes * states
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
      return eightBitStates(a.tensors, 2)
    case 'Lion':
    case 'SGDNesterov':
    case 'SGDScheduleFree':
      return a.params * w // one momentum (z for schedule-free SGD)
    case 'Lion8bit':
    case 'PagedLion8bit':
    case 'SGDNesterov8bit':
      return eightBitStates(a.tensors, 1)
    case 'Adafactor':
      // transformers Adafactor, beta1 = None (as sd-scripts recommends): factored rows/columns. Always fp32:
      // the step casts a bf16/fp16 grad to fp32 first and creates/moves the state with `.to(grad)`, so
      // full_bf16 / full_fp16 do not halve it (vram.md §5: 0.977 GB for the whole U-Net either way).
      return a.adafactorStateElements * 4
    case 'CAME':
      // exp_avg at full size, plus factored second moment and residual: Adafactor's factors twice.
      return a.params * w + a.adafactorStateElements * 4 * 2
    case 'Prodigy':
      // s, exp_avg, exp_avg_sq at full size, and p0 (a copy of the start) for tensors that are not all
      // zero at the first step: LoRA's up weights start at zero (prodigyopt's `p.any()` test).
      return (a.params * 3 + (a.params - a.zeroInit)) * w
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

/**
 * Optimizers that step every tensor at once (torch's foreach path, the default on CUDA; schedule-free
 * AdamW's own foreach code): about one more copy of the parameters during the step.
 */
const FOREACH = new Set<OptimizerType>(['AdamW', 'SGDNesterov', 'AdamWScheduleFree'])
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

/**
 * What the step's temporaries scale with: all parameters (foreach), the largest tensor in fp32 (one
 * tensor at a time: Adafactor's update, Prodigy's denominator...), or nothing (in place). The model
 * multiplies these by coefficients measured on the trace (activations.ts, moment "optimizer").
 *
 * `upcastBytes` is counted, not measured: Adafactor (transformers' and sd-scripts' fused one) steps a
 * bf16/fp16 tensor through fp32 copies of its gradient and of the tensor itself (`grad.float()`,
 * `p.float()`), alive for the whole step of that tensor; an fp32 tensor needs neither. The trace shows
 * it: 4.7 × the largest tensor's fp32 bytes under full_bf16, 2.7 × in fp32.
 */
export function optimizerStepShape(
  opt: OptimizerType,
  a: { params: number; paramBytes: number; largest: number },
): { allBytes: number; largestFp32Bytes: number; upcastBytes: number } {
  if (FOREACH.has(opt)) return { allBytes: a.params * a.paramBytes, largestFp32Bytes: 0, upcastBytes: 0 }
  if (IN_PLACE.has(opt)) return { allBytes: 0, largestFp32Bytes: 0, upcastBytes: 0 }
  const upcast = opt === 'Adafactor' && a.paramBytes < 4 ? 2 * a.largest * 4 : 0
  return { allBytes: 0, largestFp32Bytes: a.largest * 4, upcastBytes: upcast }
}

/** The optimizers whose state is 8-bit (bitsandbytes); used by advice. */
export function isEightBit(opt: OptimizerType): boolean {
  return opt.endsWith('8bit')
}
