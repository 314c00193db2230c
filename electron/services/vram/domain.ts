import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import { adviseFor, type AdviceId } from '../../../core/vram/advice'
import { FITTED } from '../../../core/vram/constants'
import { shippedPoints } from '../../../core/vram/data'
import { errorsFor } from '../../../core/vram/fit'
import { looksLikeConfig, scenarioFromConfig } from '../../../core/vram/from-config'
import { MeasurementsFile, measurementFromRun, resolveRecorded } from '../../../core/vram/measurements'
import { predict } from '../../../core/vram/model'
import { VramScenario } from '../../../core/vram/scenario'
import type { ServiceOptions } from '../context'
import type { EnvManager } from '../env/manager'
import { createTraceService, type TraceServiceDeps } from './trace-service'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { readJsonFile, writeJsonAtomic } from '../store/atomic'

function hostOs(): 'windows' | 'linux' {
  return process.platform === 'win32' ? 'windows' : 'linux'
}

function issuesOf(error: { issues: { path: PropertyKey[]; message: string }[] }): string[] {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
}

/** A scenario from either input; ApiError('bad_request') naming each bad field otherwise. */
export function resolveScenario(
  input: { scenario?: unknown; config?: unknown },
  os: 'windows' | 'linux',
): { scenario: VramScenario; notes: string[] } {
  if ((input.scenario === undefined) === (input.config === undefined)) {
    throw new ApiError(
      'bad_request',
      'Give either "scenario" (a VRAM scenario) or "config" (a training config), not both.',
    )
  }
  if (input.config !== undefined) {
    try {
      return scenarioFromConfig(input.config, os)
    } catch (error) {
      const details = error instanceof Error && 'issues' in error ? issuesOf(error as never) : [String(error)]
      throw new ApiError('bad_request', `The training config cannot be read: ${details.join('; ')}`, {
        issues: details,
      })
    }
  }
  const parsed = VramScenario.safeParse(input.scenario)
  if (!parsed.success) {
    const details = issuesOf(parsed.error)
    throw new ApiError('bad_request', `The VRAM scenario is invalid: ${details.join('; ')}`, {
      issues: details,
    })
  }
  return { scenario: parsed.data, notes: [] }
}

export function measurementsFile(dataDir: string): string {
  return path.join(dataDir, 'vram', 'measurements.json')
}

export interface VramDeps {
  /** The environments, for "check with the model code" (the trace runs the active one's Python). */
  env?: EnvManager
  /** For tests: how the tracer is run. */
  runTrace?: TraceServiceDeps['run']
}

export function createVramDomain(options: ServiceOptions, deps: VramDeps = {}) {
  const file = measurementsFile(options.dataDir)
  const tracer = createTraceService({ env: deps.env, run: deps.runTrace, processEnv: options.env })
  const readUser = () => readJsonFile(file, MeasurementsFile, () => ({ points: [] }))
  let writing: Promise<unknown> = Promise.resolve()

  const requests = {
    'vram.predict': async (input) => {
      const { scenario, notes } = resolveScenario(input, input.os ?? hostOs())
      const exclude = (input.exclude ?? []) as AdviceId[] // unknown ids simply match nothing
      return { scenario, notes, ...adviseFor(scenario, { totalGib: input.target_gib ?? null, exclude }) }
    },
    'vram.record': async (input) => {
      const input2 = looksLikeConfig(input.scenario)
        ? { config: input.scenario }
        : { scenario: input.scenario }
      const { scenario } = resolveScenario(input2, hostOs())
      // Appends are serialised so two records never lose each other.
      const job = writing.then(async () => {
        const current = await readUser()
        const point = measurementFromRun({
          id: `user-${current.points.length + 1}-${Date.now().toString(36)}`,
          scenario,
          measuredGib: input.measured_gib,
          source: input.source,
          reading: input.reading,
          predictedGib: predict(scenario).peak_gib,
          gpu: input.gpu,
          sdScriptsVersion: input.sd_scripts,
          recordedAt: new Date().toISOString(),
        })
        const next = { ...current, points: [...current.points, point] }
        await writeJsonAtomic(file, next)
        return { file, point, count: next.points.length }
      })
      writing = job.catch(() => undefined)
      return job
    },
    'vram.trace': (input) => tracer.trace(input),
    'vram.trace_status': () => tracer.status(),
    'vram.trace_cancel': async () => tracer.cancel(),
    'vram.report': async () => {
      const user = await readUser()
      const points = [...shippedPoints(), ...resolveRecorded(user)]
      const r = errorsFor(points, FITTED)
      return {
        points: r.errors.map((e, i) => ({ ...e, source: points[i]!.source })),
        median_abs_error_pct: r.median_abs_error_pct,
        max_abs_error_pct: r.max_abs_error_pct,
      }
    },
  } satisfies Partial<RequestHandlers>
  const subscriptions = {} satisfies Partial<SubscriptionHandlers>
  return { requests, subscriptions, dispose: () => tracer.dispose() }
}
