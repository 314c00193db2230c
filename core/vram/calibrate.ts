import {
  ALL_FEATURES,
  FEATURES,
  featuresOf,
  PRIORS,
  type ActivationsFile,
  type Coefficients,
  type FeatureId,
  type Moment,
} from './activations'
import { phaseGib, phaseTerms, allocatedPeak, type PhaseTerms } from './model'
import type { VramScenario } from './scenario'
import type { TraceOk } from './trace'

/**
 * Measures the activation coefficients (activations.ts) on traced steps: for every moment of the model,
 * a least-squares solve of "what the trace holds at that moment, minus the exactly counted weights,
 * gradients and optimizer state" against the moment's features, weighted by the point's size (so the
 * error is relative, as the 3 % tolerance is). Deterministic: the same traces give the same file.
 *
 * Which moment a traced phase is: forward ↔ forward; the trace's backward peak ↔ backward_end when most
 * gradients exist at it, else the early backward moment (checkpointed runs; without checkpointing the
 * early backward equals the end of forward); optimizer ↔ optimizer; vae_encode ↔ vae_encode.
 */

export interface CalibrationPoint {
  id: string
  scenario: VramScenario
  trace: Pick<TraceOk, 'allocated_peak_gib' | 'phase' | 'phases'>
}

interface Observation {
  point: CalibrationPoint
  moment: Moment
  target: number
}

function observations(points: CalibrationPoint[]): Observation[] {
  const out: Observation[] = []
  for (const p of points) {
    const ph = p.trace.phases
    const counted = phaseTerms(p.scenario, {})
    const allGrads = counted
      .find((x) => x.moment === 'optimizer')
      ?.terms.find((t) => t.id === 'gradients')?.gib
    // The trace counts the never-freed embedding gradients (the model's kept_gradients) as gradients.
    const kept = counted[0]?.terms.find((t) => t.id === 'kept_gradients')?.gib ?? 0
    const fused = p.scenario.fused_backward_pass || p.scenario.fused_optimizer_groups > 0
    if (ph.forward) out.push({ point: p, moment: 'forward', target: ph.forward.gib })
    if (ph.optimizer) out.push({ point: p, moment: 'optimizer', target: ph.optimizer.gib })
    if (ph.vae_encode) out.push({ point: p, moment: 'vae_encode', target: ph.vae_encode.gib })
    const bwd = ph.backward
    if (bwd) {
      const grads = (bwd.breakdown.gradients ?? 0) - kept
      // Late in backward: most gradients exist, or (fused steps, which never hold them all) a tensor or
      // group is being stepped at the peak.
      const late = fused
        ? (bwd.breakdown.optimizer_step ?? 0) > 0
        : allGrads !== undefined && allGrads > 0
          ? grads > 0.5 * allGrads
          : false
      if (late) out.push({ point: p, moment: 'backward_end', target: bwd.gib })
      else if (p.scenario.gradient_checkpointing || p.scenario.fused_backward_pass)
        out.push({ point: p, moment: 'backward', target: bwd.gib })
    }
  }
  return out
}

function momentOf(phases: PhaseTerms[], moment: Moment): PhaseTerms | undefined {
  return phases.find((p) => p.moment === moment)
}

/** Solves the normal equations (small, dense; ridge-stabilised) by Gaussian elimination. */
function leastSquares(rows: number[][], y: number[], w: number[], ridge = 1e-9): number[] {
  const n = rows[0]?.length ?? 0
  const A = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0))
  rows.forEach((x, i) => {
    for (let r = 0; r < n; r++) {
      A[r]![n]! += w[i]! * x[r]! * y[i]!
      for (let k = 0; k < n; k++) A[r]![k]! += w[i]! * x[r]! * x[k]!
    }
  })
  for (let r = 0; r < n; r++) A[r]![r]! += ridge
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r
    ;[A[c], A[p]] = [A[p]!, A[c]!]
    if (Math.abs(A[c]![c]!) < 1e-15) continue
    for (let r = c + 1; r < n; r++) {
      const f = A[r]![c]! / A[c]![c]!
      for (let k = c; k <= n; k++) A[r]![k]! -= f * A[c]![k]!
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    if (Math.abs(A[r]![r]!) < 1e-15) continue
    let s = A[r]![n]!
    for (let k = r + 1; k < n; k++) s -= A[r]![k]! * x[k]!
    x[r] = s / A[r]![r]!
  }
  return x
}

const MOMENT_ORDER: Moment[] = ['optimizer', 'forward', 'backward', 'backward_end', 'vae_encode']

export function calibrate(points: CalibrationPoint[]): Coefficients {
  const obs = observations(points)
  const coef: Coefficients = {}
  // The optimizer's step temporaries appear in other moments too (fused backward): solve it first.
  for (const moment of MOMENT_ORDER) {
    const ids = FEATURES[moment].map((f) => `${moment}.${f}` as FeatureId)
    const mine = obs.filter((o) => o.moment === moment)
    const rows: number[][] = []
    const y: number[] = []
    const w: number[] = []
    for (const o of mine) {
      const feats = featuresOf(o.point.scenario)
      // The exactly counted part: the moment with this moment's coefficients at zero.
      const zero: Coefficients = { ...coef }
      for (const id of ids) zero[id] = 0
      const m = momentOf(phaseTerms(o.point.scenario, zero), moment)
      if (!m) continue
      rows.push(ids.map((id) => feats[id]))
      y.push(o.target - phaseGib(m))
      w.push(1 / (o.target * o.target))
    }
    if (rows.length === 0) continue
    // A feature no point exercises stays unset (leastSquares leaves singular columns at 0). Memory is
    // never negative: a coefficient the solve puts below zero is held at zero and the rest re-solved.
    const exercised = ids.map((_, i) => rows.some((r) => r[i] !== 0))
    const held = ids.map(() => false)
    let x = leastSquares(rows, y, w)
    for (let round = 0; round < ids.length; round++) {
      const negative = x.map((v, i) => !!exercised[i] && !held[i] && v < 0)
      if (!negative.some(Boolean)) break
      negative.forEach((n, i) => (held[i] = held[i]! || n))
      x = leastSquares(
        rows.map((r) => r.map((v, i) => (held[i] ? 0 : v))),
        y,
        w,
      )
    }
    ids.forEach((id, i) => {
      if (exercised[i]) coef[id] = Math.round(x[i]! * 1e6) / 1e6
    })
  }
  // What no trace exercises keeps its estimate (PRIORS), so a setting is never counted as free.
  for (const id of ALL_FEATURES) {
    if (coef[id] === undefined && PRIORS[id] !== undefined) coef[id] = Math.round(PRIORS[id] * 1e6) / 1e6
  }
  return coef
}

/** The coefficients that are still estimates: no traced config exercises them. */
export function unexercised(points: CalibrationPoint[]): FeatureId[] {
  const used = new Set<FeatureId>()
  for (const o of observations(points)) {
    const feats = featuresOf(o.point.scenario)
    for (const f of FEATURES[o.moment]) {
      const id = `${o.moment}.${f}` as FeatureId
      if (feats[id]) used.add(id)
    }
  }
  return ALL_FEATURES.filter((id) => !used.has(id) && PRIORS[id] !== undefined)
}

export interface CalibrationError {
  id: string
  trace_gib: number
  gauge_gib: number
  error_pct: number
  trace_phase: string
  gauge_phase: string
}

export function calibrationErrors(points: CalibrationPoint[], coef: Coefficients): CalibrationError[] {
  return points.map((p) => {
    const { gib, phase } = allocatedPeak(p.scenario, coef)
    return {
      id: p.id,
      trace_gib: p.trace.allocated_peak_gib,
      gauge_gib: gib,
      error_pct: (gib / p.trace.allocated_peak_gib - 1) * 100,
      trace_phase: p.trace.phase,
      gauge_phase: phase.phase,
    }
  })
}

export function activationsFileFor(
  points: CalibrationPoint[],
  coef: Coefficients,
  source: string,
): ActivationsFile {
  const errs = calibrationErrors(points, coef)
    .map((e) => Math.abs(e.error_pct))
    .sort((a, b) => a - b)
  const mid = errs.length / 2
  const median =
    errs.length === 0 ? 0 : errs.length % 2 ? errs[Math.floor(mid)]! : (errs[mid - 1]! + errs[mid]!) / 2
  const ordered: Record<string, number> = {}
  for (const id of ALL_FEATURES) if (coef[id] !== undefined) ordered[id] = coef[id]!
  return {
    $comment:
      'Written by `npm run vram:calibrate` from the traces in ' +
      source +
      ': each coefficient × its feature (core/vram/activations.ts) is the GiB a part of the step holds. Do not edit by hand; tests/unit/vram-trace-gauge.test.ts fails when this is stale.',
    calibrated_on: source,
    points: points.length,
    coefficients: ordered,
    from_prior: unexercised(points),
    max_abs_error_pct: Math.round((errs.at(-1) ?? 0) * 100) / 100,
    median_abs_error_pct: Math.round(median * 100) / 100,
  }
}
