import { z } from 'zod'
import { deepMerge, TrainingConfig, TrainingType, type TrainingConfigInput } from '../config/schema'
import { scenarioFromConfig } from './from-config'
import { predict, type VramPrediction } from './model'
import type { TraceOk } from './trace'

/**
 * The trace next to the gauge: the same config through both, the allocated peaks compared (the trace
 * has no CUDA context, workspaces or allocator slack, so it is compared with the gauge's allocated part).
 */

const PresetLike = z.looseObject({ type: TrainingType, config: z.record(z.string(), z.unknown()) })

/** A training config from JSON text: a config as saved, or a preset file ({"type", "config": {…}}). */
export function loadTraceConfig(
  text: string,
  name: string,
): { ok: true; config: TrainingConfig } | { ok: false; error: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return {
      ok: false,
      error: `${name} is not JSON (${(error as Error).message}). Give a training config as JSON.`,
    }
  }
  const preset = PresetLike.safeParse(json)
  const input = preset.success
    ? deepMerge<TrainingConfigInput>(
        { type: preset.data.type },
        { ...preset.data.config, type: preset.data.type },
      )
    : json
  const parsed = TrainingConfig.safeParse(input)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    return { ok: false, error: `${name} is not a training config: ${issues}` }
  }
  return { ok: true, config: parsed.data }
}

export interface TraceComparison {
  trace: { allocated_gib: number; phase: string; breakdown: Record<string, number> }
  gauge: Pick<VramPrediction, 'allocated_gib' | 'peak_gib' | 'phase' | 'breakdown'>
  /** (gauge allocated − trace allocated) / trace allocated, in %. */
  difference_pct: number
}

export function compareTrace(
  config: TrainingConfig,
  trace: Pick<TraceOk, 'allocated_peak_gib' | 'phase' | 'breakdown'>,
  resolution?: { width: number; height: number },
  os: 'windows' | 'linux' = 'linux',
): TraceComparison {
  const { scenario } = scenarioFromConfig(config, os)
  const s = resolution ? { ...scenario, resolution } : scenario
  const p = predict(s)
  const diff = trace.allocated_peak_gib > 0 ? (p.allocated_gib / trace.allocated_peak_gib - 1) * 100 : 0
  return {
    trace: { allocated_gib: trace.allocated_peak_gib, phase: trace.phase, breakdown: trace.breakdown },
    gauge: { allocated_gib: p.allocated_gib, peak_gib: p.peak_gib, phase: p.phase, breakdown: p.breakdown },
    difference_pct: Math.round(diff * 10) / 10,
  }
}
