import { GENERALISATION_CHECKS } from './data'
import type { CheckPoint } from './measurements'
import { predict } from './model'

export interface CheckResult {
  id: string
  kind: CheckPoint['kind']
  source: string
  /** The measured value, or the card size for "fits in". */
  expected_gib: number
  predicted_gib: number
  /** Relative error for measured values; null for "fits in". */
  error_pct: number | null
  ok: boolean
}

/** Other published figures, not fitted: a measured value within its tolerance, or "fits in N GB". */
export function evaluateChecks(checks: CheckPoint[] = GENERALISATION_CHECKS): CheckResult[] {
  return checks.map((c) => {
    const predicted = predict(c.scenario).peak_gib
    if (c.kind === 'measured' && c.value_gib !== undefined) {
      const error = ((predicted - c.value_gib) / c.value_gib) * 100
      return {
        id: c.id,
        kind: c.kind,
        source: c.source.title,
        expected_gib: c.value_gib,
        predicted_gib: predicted,
        error_pct: error,
        ok: Math.abs(error) <= (c.tolerance_pct ?? 25),
      }
    }
    const total = c.total_gib ?? 0
    return {
      id: c.id,
      kind: c.kind,
      source: c.source.title,
      expected_gib: total,
      predicted_gib: predicted,
      error_pct: null,
      ok: predicted <= total,
    }
  })
}
