import { z } from 'zod'
import fittedJson from '../../resources/vram/constants.json' with { type: 'json' }

/**
 * Units, and the only constants fitted to measured peaks (resources/vram/constants.json, written by
 * `npm run vram:fit`). Everything else of the model is counted (weights, gradients, optimizer state)
 * or measured on the trace of sd-scripts' own model code (activations.ts, resources/vram/activations.json).
 */

export const GB = 1e9
export const GIB = 1024 ** 3
/** SDXL's reference area; activations scale with P = pixels / 1024². */
export const REFERENCE_PIXELS = 1024 * 1024

export const FittedConstants = z.object({
  /**
   * What a process holds besides PyTorch's allocations: the CUDA context (0.27–0.67 GB measured,
   * vram.md §6), cuBLAS/cuDNN workspaces, and whatever else the published readings included. GiB.
   */
  context_gib: z.number(),
  /**
   * The caching allocator's slack: memory reserved but not allocated (fragmentation, blocks kept for
   * reuse) as a fraction of the allocated peak (prior 2–3 %: OOM messages quoted in vram.md §6).
   */
  slack_fraction: z.number(),
  /**
   * Half-width of the uncertainty band, % of the peak: the largest relative residual of the fit (at
   * least 3 %, the gauge's distance from the trace). "Fits" needs the band's top under the free memory.
   */
  band_pct: z.number(),
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
