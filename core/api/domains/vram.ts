import { z } from 'zod'
import { request } from '../define'
import { RecordedPoint, Reading } from '../../vram/measurements'
import { VramScenario } from '../../vram/scenario'

/** Output schemas of the VRAM model (core/vram/model.ts and advice.ts), for the wire. */
const ScenarioPatchSchema = VramScenario.partial()

export const VramPredictionSchema = z.object({
  peak_gib: z.number(),
  allocated_gib: z.number(),
  phase: z.enum(['forward', 'backward', 'optimizer', 'vae_encode']),
  breakdown: z.array(z.object({ id: z.string(), label_key: z.string(), gib: z.number() })),
  trainable_params: z.number(),
})

const Values = z.record(z.string(), z.union([z.string(), z.number()]))

export const AdviceItemSchema = z.object({
  id: z.string(),
  label_key: z.string(),
  values: Values,
  patch: ScenarioPatchSchema,
  saving_gib: z.number(),
  slowdown: z.number(),
  changes_result: z.boolean(),
})

export const FitStateSchema = z.enum(['fits', 'tight', 'does_not_fit'])

export const VramAssessmentSchema = z.object({
  /** The scenario the prediction is for (from the config when one was given). */
  scenario: VramScenario,
  /** What mapping a config had to assume. */
  notes: z.array(z.string()),
  prediction: VramPredictionSchema,
  advice: z.array(AdviceItemSchema),
  warnings: z.array(
    z.object({ id: z.string(), label_key: z.string(), severity: z.enum(['info', 'warning', 'danger']) }),
  ),
  total_gib: z.number().nullable(),
  state: FitStateSchema.nullable(),
  make_it_fit: z
    .object({
      patch: ScenarioPatchSchema,
      items: z.array(z.object({ id: z.string(), label_key: z.string(), values: Values })),
      peak_gib: z.number(),
      slowdown: z.number(),
      state: FitStateSchema,
    })
    .nullable(),
})
export type VramAssessmentWire = z.infer<typeof VramAssessmentSchema>

const PredictInput = z
  .object({
    /** A VRAM scenario (fields left out take their defaults)… */
    scenario: z.unknown().optional(),
    /** …or a training config (core/config/schema.ts), mapped with core/vram/from-config.ts. */
    config: z.unknown().optional(),
    /** GPU total or planning target, GiB; without it no fit state or "make it fit". */
    target_gib: z.number().positive().max(4096).optional(),
    /** Advice ids the caller cannot apply (left out of advice and "make it fit"). */
    exclude: z.array(z.string().max(64)).max(32).optional(),
    /** For configs: the OS the run will use (default: this machine's). */
    os: z.enum(['windows', 'linux']).optional(),
  })
  .strict()

const RecordInput = z
  .object({
    scenario: z.unknown(),
    measured_gib: z.number().positive().max(4096),
    source: z.string().min(1).max(500),
    reading: Reading.optional(),
    gpu: z.string().max(200).optional(),
    sd_scripts: z.string().max(100).optional(),
  })
  .strict()

export const VramReportSchema = z.object({
  points: z.array(
    z.object({
      id: z.string(),
      source: z.string(),
      measured_gib: z.number(),
      predicted_gib: z.number(),
      error_pct: z.number(),
    }),
  ),
  median_abs_error_pct: z.number(),
  max_abs_error_pct: z.number(),
})

export const requests = {
  'vram.predict': request(
    PredictInput,
    VramAssessmentSchema,
    'Predict peak GPU memory of a training scenario or config, with breakdown, advice and fit state',
  ),
  'vram.record': request(
    RecordInput,
    z.object({ file: z.string(), point: RecordedPoint, count: z.number().int() }),
    'Append a measured peak (nvidia-smi per process) to the user measurements file',
  ),
  'vram.report': request(
    z.object({}).strict(),
    VramReportSchema,
    'Measured vs predicted for the shipped and the user measurements',
  ),
}

export const events = {}
