import { ApiError } from '../../../core/api/errors'
import type { VramTraceWire } from '../../../core/api/domains/vram'
import { TrainingConfig } from '../../../core/config/schema'
import { jobHash, traceJob, type TraceJob } from '../../../core/vram/trace'
import { compareTrace } from '../../../core/vram/trace-compare'
import type { EnvManager } from '../env/manager'
import { resolveTrainingEnvironment, type ResolvedEnvironment } from '../training/environment'
import { runTrace, TraceRunError, type TraceRunOptions } from './trace-runner'

/**
 * "Check with the model code": the gauge's config traced by the active environment's Python and
 * sd-scripts (resources/vram/trace_sdxl.py), in the background. One trace at a time: a new request
 * for another config stops the running one (the form changed); the same config joins it. Results
 * are kept for the last few configs, so asking again is instant.
 */

const CACHE_SIZE = 16

interface Running {
  key: string
  controller: AbortController
  promise: Promise<VramTraceWire>
}

export interface TraceServiceDeps {
  env?: EnvManager
  /** For tests: how to run the tracer (default: runTrace). */
  run?: (opts: TraceRunOptions) => ReturnType<typeof runTrace>
  processEnv: NodeJS.ProcessEnv
}

export function createTraceService(deps: TraceServiceDeps) {
  const cache = new Map<string, VramTraceWire>()
  let running: Running | null = null

  async function environment(): Promise<ResolvedEnvironment> {
    if (!deps.env) throw new ApiError('unavailable', 'Environments are not available here.')
    // A tool checks what it needs itself; the environment need not be verified for training.
    return resolveTrainingEnvironment(deps.env, { requireReady: false })
  }

  function torchMissing(env: ResolvedEnvironment): boolean {
    // Managed installs know their packages from the last probe; for others the trace finds out.
    return env.packages !== undefined && !env.packages.includes('torch')
  }

  async function status() {
    try {
      const env = await environment()
      if (torchMissing(env)) {
        return { available: false, environment: env.name, reason: 'no_torch' as const, running: !!running }
      }
      return { available: true, environment: env.name, reason: null, running: !!running }
    } catch (error) {
      const kind =
        error instanceof ApiError ? (error.details as { kind?: string } | undefined)?.kind : undefined
      return {
        available: false,
        environment: null,
        reason: kind === 'environment_broken' ? ('environment_broken' as const) : ('no_environment' as const),
        running: !!running,
      }
    }
  }

  function parseConfig(config: unknown): TrainingConfig {
    const parsed = TrainingConfig.safeParse(config)
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      throw new ApiError('bad_request', `The training config cannot be traced: ${issues.join('; ')}`, {
        issues,
      })
    }
    return parsed.data
  }

  async function execute(
    env: ResolvedEnvironment,
    config: TrainingConfig,
    job: TraceJob,
    kernel: 'flash' | 'efficient',
    signal: AbortSignal,
  ): Promise<VramTraceWire> {
    let lines
    try {
      lines = await (deps.run ?? runTrace)({
        python: env.python,
        sdScriptsDir: env.sd_scripts_dir,
        jobs: [job],
        kernel,
        signal,
        env: deps.processEnv,
      })
    } catch (error) {
      if (error instanceof TraceRunError) {
        if (error.kind === 'aborted') {
          throw new ApiError('conflict', 'The trace was stopped (cancelled, or replaced by a newer one).', {
            kind: 'trace_cancelled',
          })
        }
        throw new ApiError('domain', error.message, { kind: `trace_${error.kind}`, stderr: error.stderrTail })
      }
      throw error
    }
    const line = lines[0]
    if (!line || !line.ok) {
      const why = line && !line.ok ? line.error : 'no result'
      throw new ApiError(
        'domain',
        `The trace of this config failed in sd-scripts' code: ${why}. Check the config with Validate; if it is valid, the environment's packages may differ from the supported ones (Environment → Verify).`,
        { kind: 'trace_failed', traceback: line && !line.ok ? line.traceback : undefined },
      )
    }
    const { id: _id, ok: _ok, ...trace } = line
    const c = compareTrace(config, line, job.resolution)
    return {
      environment: { name: env.name, sd_scripts_dir: env.sd_scripts_dir },
      trace,
      gauge: { allocated_gib: c.gauge.allocated_gib, peak_gib: c.gauge.peak_gib, phase: c.gauge.phase },
      difference_pct: c.difference_pct,
    }
  }

  async function trace(input: {
    config: unknown
    resolution?: { width: number; height: number }
    kernel?: 'flash' | 'efficient'
  }): Promise<VramTraceWire> {
    const config = parseConfig(input.config)
    const env = await environment()
    if (torchMissing(env)) {
      throw new ApiError(
        'domain',
        `The environment "${env.name}" has no torch, which the trace needs. Open Environment and click Repair.`,
        { kind: 'no_torch' },
      )
    }
    const kernel = input.kernel ?? 'flash'
    const job = traceJob(config, {
      id: 'gauge',
      ...(input.resolution ? { resolution: input.resolution } : {}),
    })
    const key = `${env.python}|${env.sd_scripts_dir}|${kernel}|${jobHash(job)}`
    const hit = cache.get(key)
    if (hit) return hit
    if (running?.key === key) return running.promise
    running?.controller.abort()
    const controller = new AbortController()
    const promise = execute(env, config, job, kernel, controller.signal).then((result) => {
      cache.set(key, result)
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string)
      return result
    })
    const mine: Running = { key, controller, promise }
    running = mine
    const clear = () => {
      if (running === mine) running = null
    }
    promise.then(clear, clear)
    return promise
  }

  function cancel(): { cancelled: boolean } {
    if (!running) return { cancelled: false }
    running.controller.abort()
    return { cancelled: true }
  }

  return { trace, status, cancel, dispose: () => void cancel() }
}

export type TraceService = ReturnType<typeof createTraceService>
