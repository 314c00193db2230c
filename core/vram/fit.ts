import type { FittedConstants, FittedFile } from './constants'
import type { ResolvedPoint } from './measurements'
import { allocatedPeak, predict } from './model'

/**
 * Fits what the trace cannot see on measured peaks (nvidia-smi per process): the CUDA context with its
 * cuBLAS/cuDNN workspaces (plus, for published readings, whatever else the process held), and the
 * caching allocator's slack as a fraction of the allocated peak:
 *   measured ≈ context + (1 + slack) · allocated,
 * allocated being the model's physics (weights, gradients, state, trace-calibrated activations). Linear in
 * θ = (context, 1 + slack): a weighted least-squares (weights 1/measured², i.e. relative error) with a weak
 * ridge towards the physical prior, then a soft band: points outside ±BAND pay an extra squared penalty
 * (reweighted solves), trading a little median error for every point inside ±10 %. The band the gauge
 * shows is the largest relative residual left.
 */

export const PRIOR: FittedConstants = {
  context_gib: 0.5, // CUDA context 0.27–0.67 GB + workspaces (vram.md §6)
  slack_fraction: 0.03, // 430 MiB on 22.5 GiB, 1021 MiB on 38 GiB in OOM messages (vram.md §6)
  band_pct: 10,
}

const RIDGE = 1e-3
const BAND = 0.08
const HINGE = 50

const round6 = (x: number) => Math.round(x * 1e6) / 1e6

function solve2(a: number[][], b: number[]): number[] {
  const det = a[0]![0]! * a[1]![1]! - a[0]![1]! * a[1]![0]!
  return [(b[0]! * a[1]![1]! - a[0]![1]! * b[1]!) / det, (a[0]![0]! * b[1]! - b[0]! * a[1]![0]!) / det]
}

function solveTheta(xs: number[], ys: number[], weights: number[], targets: number[]): number[] {
  const prior = [PRIOR.context_gib, 1 + PRIOR.slack_fraction]
  const A = [
    [0, 0],
    [0, 0],
  ]
  const b = [0, 0]
  xs.forEach((x, i) => {
    const f = [1, x]
    const w = weights[i]! / (ys[i]! * ys[i]!)
    for (let r = 0; r < 2; r++) {
      b[r]! += w * f[r]! * targets[i]!
      for (let k = 0; k < 2; k++) A[r]![k]! += w * f[r]! * f[k]!
    }
  })
  for (let r = 0; r < 2; r++) {
    const scale = Math.max(Math.abs(prior[r]!), 1e-3)
    A[r]![r]! += RIDGE / (scale * scale)
    b[r]! += (RIDGE / (scale * scale)) * prior[r]!
  }
  return solve2(A, b)
}

export interface FitResult {
  constants: FittedConstants
  iterations: number
  errors: { id: string; measured_gib: number; predicted_gib: number; error_pct: number }[]
  median_abs_error_pct: number
  max_abs_error_pct: number
}

export function errorsFor(points: ResolvedPoint[], c: FittedConstants) {
  const errors = points.map((p) => {
    const predicted = predict(p.scenario, c).peak_gib
    return {
      id: p.id,
      measured_gib: p.measured_gib,
      predicted_gib: predicted,
      error_pct: ((predicted - p.measured_gib) / p.measured_gib) * 100,
    }
  })
  const abs = errors.map((e) => Math.abs(e.error_pct)).sort((a, b) => a - b)
  const mid = abs.length / 2
  const median =
    abs.length === 0 ? 0 : abs.length % 2 ? abs[Math.floor(mid)]! : (abs[mid - 1]! + abs[mid]!) / 2
  return { errors, median_abs_error_pct: median, max_abs_error_pct: abs.at(-1) ?? 0 }
}

export function fitConstants(points: ResolvedPoint[]): FitResult {
  const xs = points.map((p) => allocatedPeak(p.scenario).gib)
  const ys = points.map((p) => p.measured_gib)
  let theta = solveTheta(
    xs,
    ys,
    xs.map(() => 1),
    ys,
  )
  let iterations = 1
  let lastKey = ''
  // Soft band: with the set of points outside ±BAND fixed, the objective is quadratic; re-solve until
  // the set stops changing.
  for (; iterations < 100; iterations++) {
    const e = xs.map((x, i) => (theta[0]! + theta[1]! * x - ys[i]!) / ys[i]!)
    const out = e.map((v) => Math.abs(v) > BAND)
    const key = out.join(',')
    if (key === lastKey) break
    lastKey = key
    const weights = out.map((o) => (o ? 1 + HINGE : 1))
    const targets = ys.map((y, i) =>
      out[i] ? (y + HINGE * y * (1 + Math.sign(e[i]!) * BAND)) / (1 + HINGE) : y,
    )
    theta = solveTheta(xs, ys, weights, targets)
  }
  const base: FittedConstants = {
    context_gib: round6(theta[0]!),
    slack_fraction: round6(theta[1]! - 1),
    band_pct: PRIOR.band_pct,
  }
  const errs = errorsFor(points, base)
  // The band covers every residual of the fit, rounded up to a whole percent (never under 3 %: the
  // gauge's own distance from the trace).
  const constants = { ...base, band_pct: Math.max(3, Math.ceil(errs.max_abs_error_pct)) }
  return { constants, iterations, ...errorsFor(points, constants) }
}

/** The content of resources/vram/constants.json for a fit (rounded, so reruns compare equal). */
export function fittedFileFor(points: ResolvedPoint[], result: FitResult): FittedFile {
  return {
    $comment:
      'Written by `npm run vram:fit` from every measured point in resources/vram. Do not edit by hand; ' +
      'tests/unit/vram-published.test.ts fails when this is stale.',
    fitted_on: points.map((p) => p.id),
    constants: result.constants,
    median_abs_error_pct: Math.round(result.median_abs_error_pct * 100) / 100,
    max_abs_error_pct: Math.round(result.max_abs_error_pct * 100) / 100,
  }
}
