import { z } from 'zod'
import { BUILTIN_PRESETS } from '../config/presets'
import { deepMerge, TrainingConfig, type TrainingConfigInput } from '../config/schema'
import gridJson from '../../resources/vram/trace-grid.json' with { type: 'json' }
import traceJson from '../../resources/vram/trace-sd-scripts-0.10.1.json' with { type: 'json' }
import { PUBLISHED_TABLE } from './data'
import { configFromScenario } from './from-config'
import { resolvePublished } from './measurements'
import { scenarioFromConfig } from './from-config'
import { jobHash, traceJob, TraceOk } from './trace'
import type { CalibrationPoint } from './calibrate'

/**
 * The traced configs (resources/vram/trace-*.json, written by `npm run vram:trace-grid`): every built-in
 * preset and the grid of resources/vram/trace-grid.json, which the gauge's coefficients are measured on,
 * and the published table's rows, which check them on configs they were not measured on (and put the
 * trace's figure next to each published reading). Each point names its config by reference, so a test
 * can rebuild the config, and carries the hash of the job it traced, so a changed preset or renderer
 * shows up as stale data.
 */

export const TraceRef = z.union([
  z.object({ preset: z.string() }),
  z.object({ grid: z.string() }),
  z.object({ published: z.string() }),
])
export type TraceRef = z.infer<typeof TraceRef>

export const TracePoint = z.object({
  id: z.string(),
  ref: TraceRef,
  /** jobHash() of the job (script, config TOML, resolution, batch) that was traced. */
  job_hash: z.string(),
  trace: TraceOk.omit({ id: true, ok: true }),
})
export type TracePoint = z.infer<typeof TracePoint>

export const TraceDataFile = z.object({
  $comment: z.string().optional(),
  sd_scripts: z.string(),
  kernel: z.enum(['flash', 'efficient']),
  points: z.array(TracePoint),
})
export type TraceDataFile = z.infer<typeof TraceDataFile>

export const TraceGridFile = z.object({
  $comment: z.string().optional(),
  bases: z.record(z.string(), z.record(z.string(), z.unknown())),
  points: z.array(z.object({ id: z.string(), base: z.string(), patch: z.record(z.string(), z.unknown()) })),
})
export type TraceGridFile = z.infer<typeof TraceGridFile>

export const TRACE_GRID: TraceGridFile = TraceGridFile.parse(gridJson)
export const TRACE_DATA: TraceDataFile = TraceDataFile.parse(traceJson)

/** Every config the calibration traces, by point id (preset:…, grid:…, published:…). */
export function traceReferences(): { id: string; ref: TraceRef }[] {
  return [
    ...BUILTIN_PRESETS.map((p) => ({ id: `preset:${p.id}`, ref: { preset: p.id } })),
    ...TRACE_GRID.points.map((p) => ({ id: `grid:${p.id}`, ref: { grid: p.id } })),
    ...PUBLISHED_TABLE.points.map((p) => ({ id: `published:${p.row.id}`, ref: { published: p.row.id } })),
  ]
}

/** The training config a reference names; throws when it names nothing. */
export function configForRef(ref: TraceRef): TrainingConfig {
  if ('preset' in ref) {
    const p = BUILTIN_PRESETS.find((x) => x.id === ref.preset)
    if (!p) throw new Error(`No built-in preset "${ref.preset}".`)
    return p.config
  }
  if ('grid' in ref) {
    const p = TRACE_GRID.points.find((x) => x.id === ref.grid)
    if (!p) throw new Error(`No grid point "${ref.grid}" in resources/vram/trace-grid.json.`)
    const base = TRACE_GRID.bases[p.base]
    if (!base) throw new Error(`Grid point "${p.id}" names the unknown base "${p.base}".`)
    return TrainingConfig.parse(deepMerge<TrainingConfigInput>(base as TrainingConfigInput, p.patch))
  }
  const point = resolvePublished(PUBLISHED_TABLE).find((x) => x.id === ref.published)
  if (!point) throw new Error(`No published row "${ref.published}".`)
  return configFromScenario(point.scenario)
}

/**
 * Whether the calibration measures the gauge's coefficients on a traced point: presets and grid points
 * do; the published table's rows are held out, so the gauge's distance from the trace on them is an
 * out-of-sample check, and the residual fitted on their readings does not rest on coefficients tuned to
 * the same configs.
 */
export function calibratesOn(point: { id: string }): boolean {
  return !point.id.startsWith('published:')
}

/**
 * The traced configs with their scenarios, for calibration and tests; points whose config changed since
 * they were traced (their job hash differs) are returned as stale instead.
 */
export function tracePoints(data: TraceDataFile = TRACE_DATA): {
  points: CalibrationPoint[]
  stale: string[]
} {
  const points: CalibrationPoint[] = []
  const stale: string[] = []
  for (const p of data.points) {
    const config = configForRef(p.ref)
    if (jobHash(traceJob(config, { id: p.id })) !== p.job_hash) {
      stale.push(p.id)
      continue
    }
    points.push({ id: p.id, scenario: scenarioFromConfig(config).scenario, trace: p.trace })
  }
  return { points, stale }
}
