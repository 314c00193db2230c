import { z } from 'zod'
import { VramScenario, type VramScenarioInput } from './scenario'

/**
 * Measured points (resources/vram/*.json): the published table and, later, our own runs. Each point says
 * where it came from and carries, or maps to, a full VramScenario.
 */

/** A row of the published table (and of the seed CLI): what the table states, nothing more. */
export const SeedRow = z
  .object({
    id: z.string().min(1),
    type: z.enum(['dreambooth', 'lora', 'locon']),
    network_dim: z.number().int().min(0).max(10240),
    conv_dim: z.number().int().min(0).max(10240),
    batch_size: z.number().int().min(1).max(256),
    gradient_checkpointing: z.boolean(),
    full_bf16: z.boolean(),
    fp8_base: z.boolean(),
  })
  .strict()
export type SeedRow = z.infer<typeof SeedRow>

/** Which reading a measurement is: nvidia-smi for the process (our prediction target) or torch's counters. */
export const Reading = z.enum(['process', 'max_reserved', 'max_allocated'])

export const Source = z.object({
  title: z.string(),
  /** Short name for reports. */
  label: z.string().optional(),
  url: z.string().optional(),
  date: z.string().optional(),
  sd_scripts: z.string().optional(),
  note: z.string().optional(),
})

/** Assumptions that complete a table row into a scenario, each with its reason. */
const Assumption = z.object({
  scenario: z.record(z.string(), z.unknown()),
  why: z.array(z.string()),
})

export const PublishedTableFile = z.object({
  $comment: z.string().optional(),
  source: Source,
  reading: Reading,
  assumptions: z.object({
    common: Assumption,
    dreambooth: Assumption,
    lora: Assumption,
    locon: Assumption,
  }),
  points: z.array(z.object({ row: SeedRow, measured_gib: z.number().positive() })),
})
export type PublishedTableFile = z.infer<typeof PublishedTableFile>

/** One measurement in resources format (what `vram record` appends and our GPU runs produce). */
export const RecordedPoint = z.object({
  id: z.string().min(1),
  source: Source,
  reading: Reading,
  measured_gib: z.number().positive(),
  scenario: VramScenario,
  /** The model's prediction when the point was recorded (to see drift later). */
  predicted_gib: z.number().optional(),
  /** The trace of sd-scripts' model code for the same job (allocated bytes, no context or slack), GiB. */
  traced_allocated_gib: z.number().optional(),
  /** torch.cuda.max_memory_allocated() of the run, GiB: what the trace predicts exactly. */
  max_allocated_gib: z.number().optional(),
  gpu: z.string().optional(),
  recorded_at: z.string().optional(),
})
export type RecordedPoint = z.infer<typeof RecordedPoint>

export const MeasurementsFile = z.object({
  $comment: z.string().optional(),
  points: z.array(RecordedPoint),
})
export type MeasurementsFile = z.infer<typeof MeasurementsFile>

/** A point ready for the report and the fit. */
export interface ResolvedPoint {
  id: string
  source: string
  reading: z.infer<typeof Reading>
  measured_gib: number
  scenario: VramScenario
}

/** Completes a table row into a scenario with the file's assumptions (shared with the seed CLI). */
export function rowToScenario(row: Omit<SeedRow, 'id'>, a: PublishedTableFile['assumptions']): VramScenario {
  const input: VramScenarioInput = {
    ...(a.common.scenario as VramScenarioInput),
    ...(a[row.type].scenario as VramScenarioInput),
    training_type: row.type,
    batch_size: row.batch_size,
    // sd-scripts 0.8.3 encodes the whole batch at once without cached latents (train_network.py:
    // vae.encode(batch["images"])); the per-vae_batch_size chunks came later.
    vae_batch_size: row.batch_size,
    gradient_checkpointing: row.gradient_checkpointing,
    full_bf16: row.full_bf16,
    fp8_base: row.fp8_base,
  }
  if (row.type !== 'dreambooth') {
    input.network_dim = Math.max(1, row.network_dim)
    input.conv_dim = row.conv_dim
  }
  return VramScenario.parse(input)
}

export function resolvePublished(file: PublishedTableFile): ResolvedPoint[] {
  return file.points.map((p) => ({
    id: p.row.id,
    source: `${file.source.label ?? file.source.title}${file.source.sd_scripts ? `, sd-scripts ${file.source.sd_scripts}` : ''}`,
    reading: file.reading,
    measured_gib: p.measured_gib,
    scenario: rowToScenario(p.row, file.assumptions),
  }))
}

export function resolveRecorded(file: MeasurementsFile): ResolvedPoint[] {
  return file.points.map((p) => ({
    id: p.id,
    source: p.source.label ?? p.source.title,
    reading: p.reading,
    measured_gib: p.measured_gib,
    scenario: p.scenario,
  }))
}

/**
 * A finished run's measured peak as a resources/vram point. Pure: the caller supplies the time and id.
 * `measuredMib` is nvidia-smi's per-process reading (MiB), the quantity the model predicts.
 */
export function measurementFromRun(args: {
  id: string
  scenario: VramScenario
  measuredGib: number
  source: string
  reading?: z.infer<typeof Reading>
  predictedGib?: number
  gpu?: string
  sdScriptsVersion?: string
  recordedAt?: string
}): RecordedPoint {
  if (!Number.isFinite(args.measuredGib) || args.measuredGib <= 0) {
    throw new Error(`Measured peak must be a positive number of GiB, got ${args.measuredGib}.`)
  }
  return RecordedPoint.parse({
    id: args.id,
    source: {
      title: args.source,
      ...(args.sdScriptsVersion ? { sd_scripts: args.sdScriptsVersion } : {}),
    },
    reading: args.reading ?? 'process',
    measured_gib: Math.round(args.measuredGib * 1000) / 1000,
    scenario: args.scenario,
    ...(args.predictedGib !== undefined ? { predicted_gib: args.predictedGib } : {}),
    ...(args.gpu ? { gpu: args.gpu } : {}),
    ...(args.recordedAt ? { recorded_at: args.recordedAt } : {}),
  })
}

/** Published figures used only to check generalisation (never fitted). */
export const CheckPoint = z.object({
  id: z.string(),
  kind: z.enum(['measured', 'fits_in']),
  value_gib: z.number().positive().optional(),
  tolerance_pct: z.number().positive().optional(),
  total_gib: z.number().positive().optional(),
  source: Source,
  scenario: VramScenario,
  assumptions: z.array(z.string()),
})
export type CheckPoint = z.infer<typeof CheckPoint>
export const ChecksFile = z.object({ $comment: z.string().optional(), points: z.array(CheckPoint) })
