import { GB, GIB, type FittedConstants, type FittedFile } from './constants'
import type { ResolvedPoint } from './measurements'
import { peakPhaseIndex, phaseTerms, predict, type PhaseTerms } from './model'

/**
 * Refits the five constants on measured points. Deterministic and simple:
 *   prediction = context + m · (fixed + k_nogc·a_nogc + k_gc·a_gc + vae·a_vae),  m = 1 + slack
 * is linear in θ = (context, m, m·k_nogc, m·k_gc, m·vae) once the peak phase of each point is known.
 * So: pick each point's peak phase with the current constants, solve a weighted least-squares for θ
 * (weights 1/measured², i.e. relative error), repeat until the phases stop changing.
 * A weak ridge pulls θ towards the physical prior, so a constant the data cannot see (e.g. the VAE
 * transient when every point caches latents) stays at its prior instead of becoming arbitrary.
 */

export const PRIOR: FittedConstants = {
  context_gib: 0.5, // CUDA context 0.27–0.67 GB + workspaces (vram.md §6)
  slack_fraction: 0.03, // 430 MiB on 22.5 GiB, 1021 MiB on 38 GiB in OOM messages (vram.md §6)
  k_act_nogc: 1, // the counted activations as they are
  k_act_gc: 1,
  vae_encode_gb: 1.5, // our estimate: VAE encoder at 1024², bf16, no grad: a few full-resolution 128-ch maps
}

/** Ridge weight, in units of the squared relative error of one point. */
const RIDGE = 1e-3
/**
 * Soft band: a point whose relative error exceeds BAND pays HINGE × (|e| − BAND)² on top of e² (solved by
 * reweighting). Plain least squares lets one noisy cell sit outside ±10 % while the rest are within 3 %;
 * the hinge trades a little median error for every cell inside the band.
 */
const BAND = 0.08
const HINGE = 50
const TO_GIB = GB / GIB

function features(p: PhaseTerms): [number, number, number, number, number] {
  let fixed = 0
  let nogc = 0
  let gc = 0
  let vae = 0
  for (const t of p.terms) {
    fixed += t.gb
    nogc += t.nogc
    gc += t.gc
    vae += t.vae
  }
  return [1, fixed * TO_GIB, nogc * TO_GIB, gc * TO_GIB, vae * TO_GIB]
}

function toTheta(c: FittedConstants): number[] {
  const m = 1 + c.slack_fraction
  return [c.context_gib, m, m * c.k_act_nogc, m * c.k_act_gc, m * c.vae_encode_gb]
}

function fromTheta(t: number[]): FittedConstants {
  const m = t[1]!
  return {
    context_gib: t[0]!,
    slack_fraction: m - 1,
    k_act_nogc: t[2]! / m,
    k_act_gc: t[3]! / m,
    vae_encode_gb: t[4]! / m,
  }
}

/** Solves A x = b (small, dense) by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length
  const M = A.map((row, i) => [...row, b[i]!])
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r
    ;[M[c], M[p]] = [M[p]!, M[c]!]
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!
    x[r] = s / M[r]![r]!
  }
  return x
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6

/** Prediction in GiB from θ, taking the largest phase (the same rule as predict()). */
function predictTheta(phases: PhaseTerms[], t: number[]): number {
  let best = -Infinity
  for (const ph of phases) {
    const x = features(ph)
    let alloc = 0
    for (let k = 1; k < 5; k++) alloc += x[k]! * t[k]!
    if (alloc > best) best = alloc
  }
  return t[0]! + best
}

/** Σ e² + HINGE·Σ max(0, |e| − BAND)² + ridge towards the prior, e = relative error. */
function objective(points: ResolvedPoint[], allPhases: PhaseTerms[][], t: number[], t0: number[]): number {
  let j = 0
  points.forEach((p, i) => {
    const e = (predictTheta(allPhases[i]!, t) - p.measured_gib) / p.measured_gib
    j += e * e
    const over = Math.abs(e) - BAND
    if (over > 0) j += HINGE * over * over
  })
  for (let k = 0; k < 5; k++) {
    const scale = Math.max(Math.abs(t0[k]!), 1e-3)
    j += (RIDGE * (t[k]! - t0[k]!) ** 2) / (scale * scale)
  }
  return j
}

/**
 * Minimises the objective from the least-squares solution by semi-smooth Newton steps: with the peak phase
 * of each point and the set of points outside the band fixed, the objective is quadratic in θ, so one
 * solve gives its minimum; then phases and the set are re-evaluated. Stops when neither changes (or after
 * 100 steps, keeping the best θ seen). Deterministic.
 */
function newtonRefine(
  points: ResolvedPoint[],
  allPhases: PhaseTerms[][],
  start: FittedConstants,
  t0: number[],
): FittedConstants {
  let t = toTheta(start)
  let best = t
  let bestJ = objective(points, allPhases, t, t0)
  let lastKey = ''
  for (let it = 0; it < 100; it++) {
    const c = fromTheta(t)
    const A = Array.from({ length: 5 }, () => new Array<number>(5).fill(0))
    const b = new Array<number>(5).fill(0)
    const active: number[] = []
    points.forEach((p, i) => {
      const phase = peakPhaseIndex(allPhases[i]!, c)
      const x = features(allPhases[i]![phase]!)
      const y = p.measured_gib
      const e = (x.reduce((sum, xi, k) => sum + xi * t[k]!, 0) - y) / y
      const out = Math.abs(e) > BAND
      active.push(phase * 2 + (out ? 1 : 0))
      // minimise (x·θ − y)²/y² + H (x·θ − y(1 + sign·BAND))²/y² for points outside the band
      const w = 1 / (y * y)
      const target = out ? y + HINGE * y * (1 + Math.sign(e) * BAND) : y
      const weight = out ? 1 + HINGE : 1
      for (let r = 0; r < 5; r++) {
        b[r]! += w * x[r]! * target
        for (let k = 0; k < 5; k++) A[r]![k]! += w * weight * x[r]! * x[k]!
      }
    })
    for (let r = 0; r < 5; r++) {
      const scale = Math.max(Math.abs(t0[r]!), 1e-3)
      A[r]![r]! += RIDGE / (scale * scale)
      b[r]! += (RIDGE / (scale * scale)) * t0[r]!
    }
    const key = active.join(',')
    t = solve(A, b)
    const j = objective(points, allPhases, t, t0)
    if (j < bestJ) {
      bestJ = j
      best = t
    }
    if (key === lastKey) break
    lastKey = key
  }
  return fromTheta(best)
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

export function fitConstants(points: ResolvedPoint[], prior: FittedConstants = PRIOR): FitResult {
  const allPhases = points.map((p) => phaseTerms(p.scenario))
  const prior0 = toTheta(prior)
  let c = prior
  let lastKey = ''
  let iterations = 0
  for (; iterations < 100; iterations++) {
    const chosen = allPhases.map((ph) => peakPhaseIndex(ph, c))
    const key = chosen.join(',')
    if (key === lastKey) break
    lastKey = key
    // normal equations with ridge: (XᵀWX + λI) θ = XᵀWy + λθ₀
    const A = Array.from({ length: 5 }, () => new Array<number>(5).fill(0))
    const b = new Array<number>(5).fill(0)
    points.forEach((p, i) => {
      const x = features(allPhases[i]![chosen[i]!]!)
      const w = 1 / (p.measured_gib * p.measured_gib)
      for (let r = 0; r < 5; r++) {
        b[r]! += w * x[r]! * p.measured_gib
        for (let k = 0; k < 5; k++) A[r]![k]! += w * x[r]! * x[k]!
      }
    })
    for (let r = 0; r < 5; r++) {
      const scale = Math.max(Math.abs(prior0[r]!), 1e-3)
      A[r]![r]! += RIDGE / (scale * scale)
      b[r]! += (RIDGE / (scale * scale)) * prior0[r]!
    }
    c = fromTheta(solve(A, b))
  }
  c = newtonRefine(points, allPhases, c, prior0)
  const constants: FittedConstants = {
    context_gib: round6(c.context_gib),
    slack_fraction: round6(c.slack_fraction),
    k_act_nogc: round6(c.k_act_nogc),
    k_act_gc: round6(c.k_act_gc),
    vae_encode_gb: round6(c.vae_encode_gb),
  }
  return { constants, iterations, ...errorsFor(points, constants) }
}

/** The content of resources/vram/constants.json for a fit (rounded, so reruns compare equal). */
export function fittedFileFor(points: ResolvedPoint[], result: FitResult): FittedFile {
  return {
    $comment:
      'Written by `npm run vram:fit` from every point in resources/vram. Do not edit by hand; ' +
      'tests/unit/vram-fit.test.ts fails when this is stale.',
    fitted_on: points.map((p) => p.id),
    constants: result.constants,
    median_abs_error_pct: Math.round(result.median_abs_error_pct * 100) / 100,
    max_abs_error_pct: Math.round(result.max_abs_error_pct * 100) / 100,
  }
}
