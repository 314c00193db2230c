// npm run harness:import -- <results.jsonl> [--into resources/vram/measured.json] [--reading process|max_reserved|max_allocated]
//
// Turns the GPU run's records (resources/harness/measure.py) into measured points of the VRAM
// model (core/vram/measurements.ts RecordedPoint): one point per job that ended ok, with the
// scenario the gauge predicted for at bundle time, the reading in GiB and the prediction. Points
// with the same id are replaced, so importing a rerun does not duplicate them. The write is atomic.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { MeasurementsFile, Reading, type RecordedPoint } from '../../core/vram/measurements'
import { VramScenario } from '../../core/vram/scenario'
import { parseOptions, repoRoot } from './tools'

const HarnessRecord = z.object({
  id: z.string(),
  status: z.string(),
  preset_id: z.string().nullable().optional(),
  preset_hash: z.string().nullable().optional(),
  question: z.string().nullable().optional(),
  gpu: z.object({ name: z.string().optional(), driver: z.string().optional() }).partial().optional(),
  torch: z.string().nullable().optional(),
  sd_scripts: z.string().optional(),
  peak_nvidia_smi_process_mib: z.number().nullable().optional(),
  torch_max_reserved_mib: z.number().nullable().optional(),
  torch_max_allocated_mib: z.number().nullable().optional(),
  it_per_s_steady: z.number().nullable().optional(),
  prediction: z
    .object({ peak_gib: z.number(), allocated_gib: z.number().optional(), scenario: VramScenario })
    .nullable()
    .optional(),
  trace: z.object({ allocated_peak_gib: z.number(), phase: z.string() }).nullable().optional(),
  ended_at: z.number().optional(),
})
type HarnessRecord = z.infer<typeof HarnessRecord>

const READING_FIELD = {
  process: 'peak_nvidia_smi_process_mib',
  max_reserved: 'torch_max_reserved_mib',
  max_allocated: 'torch_max_allocated_mib',
} as const

/** The points a results file yields, and why the other records were left out. */
export function pointsFromResults(
  text: string,
  reading: z.infer<typeof Reading>,
): { points: RecordedPoint[]; skipped: string[] } {
  const points: RecordedPoint[] = []
  const skipped: string[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue
    let rec: HarnessRecord
    try {
      rec = HarnessRecord.parse(JSON.parse(line))
    } catch {
      skipped.push(`line ${i + 1}: not a harness record (cut off?)`)
      continue
    }
    const mib = rec[READING_FIELD[reading]]
    if (rec.status !== 'ok') skipped.push(`${rec.id}: status ${rec.status}`)
    else if (!rec.prediction) skipped.push(`${rec.id}: no scenario (the bundle had no prediction for it)`)
    else if (typeof mib !== 'number' || mib <= 0)
      skipped.push(`${rec.id}: no ${READING_FIELD[reading]} reading`)
    else {
      const gpu = rec.gpu?.name ?? 'unknown GPU'
      const date = rec.ended_at ? new Date(rec.ended_at * 1000).toISOString() : undefined
      points.push({
        id: `harness:${gpu}:${rec.id}`.replace(/\s+/g, '-'),
        source: {
          title: 'SDXL Studio GPU harness (resources/harness/measure.py)',
          label: 'harness',
          date: date?.slice(0, 10),
          sd_scripts: rec.sd_scripts,
          note: [
            rec.question,
            rec.preset_id ? `preset ${rec.preset_id} (${rec.preset_hash ?? 'no hash'})` : null,
            rec.torch ? `torch ${rec.torch}` : null,
            rec.gpu?.driver ? `driver ${rec.gpu.driver}` : null,
            rec.it_per_s_steady ? `${rec.it_per_s_steady.toFixed(2)} it/s` : null,
          ]
            .filter(Boolean)
            .join('; '),
        },
        reading,
        measured_gib: Math.round((mib / 1024) * 1000) / 1000,
        scenario: rec.prediction.scenario,
        predicted_gib: rec.prediction.peak_gib,
        ...(rec.trace ? { traced_allocated_gib: rec.trace.allocated_peak_gib } : {}),
        ...(typeof rec.torch_max_allocated_mib === 'number'
          ? { max_allocated_gib: Math.round((rec.torch_max_allocated_mib / 1024) * 1000) / 1000 }
          : {}),
        gpu,
        recorded_at: date,
      })
    }
  }
  return { points, skipped }
}

/** Add points to a measurements file, replacing points with the same id. */
export function mergePoints(file: string, points: RecordedPoint[]): number {
  const current = MeasurementsFile.parse(JSON.parse(readFileSync(file, 'utf8')))
  const ids = new Set(points.map((p) => p.id))
  const next = { ...current, points: [...current.points.filter((p) => !ids.has(p.id)), ...points] }
  const tmp = `${file}.tmp`
  writeFileSync(tmp, JSON.stringify(MeasurementsFile.parse(next), null, 2) + '\n')
  renameSync(tmp, file)
  return next.points.length
}

function main(): number {
  const argv = process.argv.slice(2)
  const file = argv.find((a) => !a.startsWith('--') && !argv[argv.indexOf(a) - 1]?.startsWith('--'))
  const opts = parseOptions(argv.filter((a) => a !== file))
  if (!file) {
    console.error(
      'Give the results file of a GPU run: npm run harness:import -- <results.jsonl> (docs/harness.md).',
    )
    return 2
  }
  const reading = Reading.parse(opts.get('reading') ?? 'process')
  const into = path.resolve(repoRoot, opts.get('into') ?? 'resources/vram/measured.json')
  const { points, skipped } = pointsFromResults(readFileSync(file, 'utf8'), reading)
  for (const s of skipped) console.log(`skipped ${s}`)
  // The trace predicts torch's allocated peak exactly (no context, workspaces or slack): show how close.
  for (const p of points) {
    if (p.traced_allocated_gib === undefined || p.max_allocated_gib === undefined) continue
    const d = (p.traced_allocated_gib / p.max_allocated_gib - 1) * 100
    console.log(
      `trace vs GPU ${p.id}: traced ${p.traced_allocated_gib.toFixed(2)} GiB, max_allocated ${p.max_allocated_gib.toFixed(2)} GiB (${d >= 0 ? '+' : ''}${d.toFixed(1)} %)`,
    )
  }
  const total = mergePoints(into, points)
  console.log(
    `${points.length} points imported into ${path.relative(repoRoot, into)} (${total} in all); refit with npm run vram:fit`,
  )
  return 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  try {
    process.exitCode = main()
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e))
    process.exitCode = 1
  }
}
