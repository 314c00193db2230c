import { z } from 'zod'
import { EnvParts } from './messages'
import { InstallPlan, StepId } from './plan'

export const StepState = z.enum(['pending', 'running', 'done', 'failed', 'skipped'])
export type StepState = z.infer<typeof StepState>

export const FailureKind = z.enum([
  'bad_package',
  'network',
  'disk_full',
  'read_only',
  'tag_missing',
  'interrupted',
  'verify',
  'command',
])
export type FailureKind = z.infer<typeof FailureKind>

/** Parameters of a coded message (core/env/messages.ts). */
const CodeParams = z.record(z.string(), z.union([z.string(), z.number()]))

export const StepRecord = z.object({
  state: StepState,
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  durationMs: z.number().optional(),
  /** Bytes the step added on disk (measured after it finished). */
  bytes: z.number().optional(),
  error: z
    .object({
      kind: FailureKind,
      message: z.string(),
      code: z.string().optional(),
      params: CodeParams.optional(),
      /** Messages inside this one (Verify's problems), coded too. */
      parts: EnvParts.optional(),
    })
    .optional(),
})
export type StepRecord = z.infer<typeof StepRecord>

/** <envDir>/install-state.json: written atomically after every step change, read by resume and the UI. */
export const InstallState = z.object({
  schema: z.literal(1),
  name: z.string(),
  status: z.enum(['running', 'failed', 'done', 'interrupted']),
  plan: InstallPlan,
  steps: z.record(z.string(), StepRecord),
  /** The process of the step that was running (to clean up after a killed app). */
  childPid: z.number().nullable().default(null),
  runnerPid: z.number().nullable().default(null),
  updatedAt: z.number(),
  lastError: z
    .object({
      step: StepId,
      kind: FailureKind,
      message: z.string(),
      code: z.string().optional(),
      params: CodeParams.optional(),
      parts: EnvParts.optional(),
    })
    .nullable()
    .default(null),
})
export type InstallState = z.infer<typeof InstallState>

export const StepProgress = z.object({
  id: StepId,
  title: z.string(),
  state: StepState,
  durationMs: z.number().nullable(),
  bytes: z.number().nullable(),
  estimateBytes: z.number().nullable(),
  skipReason: z.string().nullable(),
  error: z.string().nullable(),
  /** Codes and parameters of the title, skip reason and error (core/env/messages.ts), when known. */
  titleCode: z.string().optional(),
  titleParams: CodeParams.optional(),
  skipCode: z.string().optional(),
  skipParams: CodeParams.optional(),
  errorCode: z.string().optional(),
  errorParams: CodeParams.optional(),
  errorParts: EnvParts.optional(),
})
export type StepProgress = z.infer<typeof StepProgress>

export const InstallProgress = z.object({
  name: z.string(),
  status: InstallState.shape.status,
  current: StepId.nullable(),
  steps: z.array(StepProgress),
  lastError: InstallState.shape.lastError,
})
export type InstallProgress = z.infer<typeof InstallProgress>

export function initialState(name: string, plan: InstallPlan, now: number): InstallState {
  const steps: Record<string, StepRecord> = {}
  for (const s of plan.steps) steps[s.id] = { state: s.skipReason ? 'skipped' : 'pending' }
  return {
    schema: 1,
    name,
    status: 'running',
    plan,
    steps,
    childPid: null,
    runnerPid: null,
    updatedAt: now,
    lastError: null,
  }
}

/** The first step resume must (re)run: anything not done or skipped, including one left 'running' by a killed app. */
export function firstUnfinished(state: InstallState): StepId | null {
  for (const s of state.plan.steps) {
    const st = state.steps[s.id]?.state ?? 'pending'
    if (st !== 'done' && st !== 'skipped') return s.id
  }
  return null
}

export function toProgress(state: InstallState): InstallProgress {
  const current = state.plan.steps.find((s) => state.steps[s.id]?.state === 'running')?.id ?? null
  return {
    name: state.name,
    status: state.status,
    current,
    lastError: state.lastError,
    steps: state.plan.steps.map((s) => {
      const r = state.steps[s.id] ?? { state: 'pending' as const }
      return {
        id: s.id,
        title: s.title,
        state: r.state,
        durationMs: r.durationMs ?? null,
        bytes: r.bytes ?? null,
        estimateBytes: s.estimateBytes ?? null,
        skipReason: s.skipReason ?? null,
        error: r.error?.message ?? null,
        ...(s.titleCode ? { titleCode: s.titleCode, titleParams: s.titleParams ?? {} } : {}),
        ...(s.skipCode ? { skipCode: s.skipCode, skipParams: s.skipParams ?? {} } : {}),
        ...(r.error?.code ? { errorCode: r.error.code, errorParams: r.error.params ?? {} } : {}),
        ...(r.error?.parts ? { errorParts: r.error.parts } : {}),
      }
    }),
  }
}
