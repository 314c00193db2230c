import { z } from 'zod'
import { request } from '../define'
import { RecordedPoint, Reading } from '../../vram/measurements'
import { VramScenario } from '../../vram/scenario'
import { TraceOk } from '../../vram/trace'

/** Output schemas of the VRAM model (core/vram/model.ts and advice.ts), for the wire. */
const ScenarioPatchSchema = VramScenario.partial()

export const VramPredictionSchema = z.object({
  peak_gib: z.number(),
  peak_low_gib: z.number(),
  peak_high_gib: z.number(),
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
  used_gib: z.number().nullable(),
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

const Resolution = z.object({
  width: z.number().int().min(64).max(8192),
  height: z.number().int().min(64).max(8192),
})

const TraceInput = z
  .object({
    /** The training config to trace (core/config/schema.ts), e.g. the Train page's form. */
    config: z.unknown(),
    /** The largest bucket, when smaller than the config's resolution. */
    resolution: Resolution.optional(),
    /** The SDPA kernel a GPU would use: flash (RTX 30xx and newer, default) or efficient (older cards). */
    kernel: z.enum(['flash', 'efficient']).optional(),
  })
  .strict()

export const VramTraceSchema = z.object({
  environment: z.object({ name: z.string(), sd_scripts_dir: z.string() }),
  /** What the trace counted: allocated bytes of one step (no CUDA context, workspaces, allocator slack). */
  trace: TraceOk.omit({ id: true, ok: true }),
  /** The same config through the gauge, allocated part, and the difference. */
  gauge: z.object({
    allocated_gib: z.number(),
    peak_gib: z.number(),
    phase: z.string(),
  }),
  difference_pct: z.number(),
})
export type VramTraceWire = z.infer<typeof VramTraceSchema>

export const TraceUnavailable = z.enum(['no_environment', 'environment_broken', 'no_torch'])

export const VramTraceStatusSchema = z.object({
  /** True when the active environment can run the trace (a Python with torch and sd-scripts). */
  available: z.boolean(),
  environment: z.string().nullable(),
  /** Why not, when not available. */
  reason: TraceUnavailable.nullable(),
  /** A trace is running now. */
  running: z.boolean(),
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
  'vram.trace': request(
    TraceInput,
    VramTraceSchema,
    "Trace one training step of the config with the active environment's sd-scripts model code on the CPU (meta device, no GPU, no weights): the allocated peak by category, next to the gauge's. Takes 0.5 to 3 minutes; a newer call replaces a running one",
  ),
  'vram.trace_status': request(
    z.object({}).strict(),
    VramTraceStatusSchema,
    'Whether the active environment can run vram.trace, and whether one is running',
  ),
  'vram.trace_cancel': request(
    z.object({}).strict(),
    z.object({ cancelled: z.boolean() }),
    'Stop the running trace, if any',
  ),
  'vram.report': request(
    z.object({}).strict(),
    VramReportSchema,
    'Measured vs predicted for the shipped and the user measurements',
  ),
}

export const events = {}
