import { spawn } from 'node:child_process'
import {
  COMPUTE_APPS_FIELDS,
  COMPUTE_CAP_FIELDS,
  CSV_FORMAT,
  GPU_QUERY_FIELDS,
  invalidQueryField,
  isNoDevicesMessage,
  parseComputeApps,
  parseComputeCapabilities,
  parseGpuQuery,
  parseNvidiaSmiTable,
  type NvidiaSmiTable,
  type ParsedGpuQuery,
  type ParseResult,
} from '../../../core/gpu/nvidia-smi'
import type { GpuComputeCapability, GpuErrorKind, GpuProcess, GpuSnapshot } from '../../../core/gpu/types'
import { envValue, joinFor } from '../../../core/platform/path-lookup'
import { findExecutable, isExecutableFile } from '../which'

/** A problem running nvidia-smi, with a message that says what to do about it. */
export class GpuError extends Error {
  constructor(
    readonly kind: GpuErrorKind,
    message: string,
    /** What nvidia-smi printed (stderr, else stdout), for callers that recognise known messages. */
    readonly output = '',
  ) {
    super(message)
    this.name = 'GpuError'
  }
}

export const DEFAULT_TIMEOUT_MS = 5000
/** More output than any real GPU list: something else is answering as nvidia-smi. */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024

export const NOT_FOUND_MESSAGE =
  'No NVIDIA driver found: nvidia-smi is not on PATH. Install the NVIDIA driver (it brings nvidia-smi), ' +
  'or choose a target GPU size by hand to plan a training run without one.'

export interface NvidiaSmiOptions {
  /** Environment of the child; its PATH decides which nvidia-smi runs. */
  env: NodeJS.ProcessEnv
  /** A run that takes longer is killed and reported as a timeout. */
  timeoutMs?: number
  /** Aborting kills the running nvidia-smi. */
  signal?: AbortSignal
}

/** SDXL_STUDIO_NVIDIA_SMI_TIMEOUT_MS overrides the timeout (tests, very slow multi-GPU hosts). */
export function timeoutFromEnv(env: NodeJS.ProcessEnv): number {
  const n = Number(env.SDXL_STUDIO_NVIDIA_SMI_TIMEOUT_MS)
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_TIMEOUT_MS
}

/**
 * Where nvidia-smi is: the first one on PATH, else (Windows drivers before about 2020 did not put it
 * on PATH) Program Files\NVIDIA Corporation\NVSMI. Null when there is none.
 */
export function locateNvidiaSmi(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string | null {
  const onPath = findExecutable('nvidia-smi', env, platform)
  if (onPath) return onPath
  if (platform === 'win32') {
    for (const base of [envValue(env, 'ProgramW6432', platform), envValue(env, 'ProgramFiles', platform)]) {
      if (!base) continue
      const file = joinFor(platform, base, 'NVIDIA Corporation', 'NVSMI', 'nvidia-smi.exe')
      if (isExecutableFile(file, platform)) return file
    }
  }
  return null
}

/** First lines of what nvidia-smi said, on one line, for an error message. */
function summarise(output: string): string {
  const lines = output
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter(Boolean)
  const text = lines.slice(0, 3).join(' ')
  return text.length > 400 ? `${text.slice(0, 397)}...` : text
}

/**
 * Runs nvidia-smi once. Resolves with stdout on exit code 0; otherwise rejects with a GpuError.
 * On timeout or abort the child is killed with SIGKILL (a hung driver ignores SIGTERM) and the
 * promise settles only after it has exited, so no nvidia-smi outlives the call.
 */
export function runNvidiaSmi(args: readonly string[], options: NvidiaSmiOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new GpuError('failed', 'nvidia-smi was not started: the reading was cancelled.'))
      return
    }
    const command = locateNvidiaSmi(options.env)
    if (command === null) {
      reject(new GpuError('not_found', NOT_FOUND_MESSAGE))
      return
    }
    const child = spawn(command, args, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let bytes = 0
    let settled = false
    let stopReason: 'timeout' | 'abort' | 'too_much_output' | null = null
    let afterExit: NodeJS.Timeout | null = null

    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (afterExit) clearTimeout(afterExit)
      options.signal?.removeEventListener('abort', onAbort)
      fn()
    }
    const stop = (reason: 'timeout' | 'abort' | 'too_much_output') => {
      if (stopReason || settled) return
      stopReason = reason
      child.kill('SIGKILL')
    }
    const onAbort = () => stop('abort')
    const timer = setTimeout(() => stop('timeout'), timeoutMs)
    options.signal?.addEventListener('abort', onAbort, { once: true })

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > MAX_OUTPUT_BYTES) stop('too_much_output')
      else into.push(chunk)
    }
    child.stdout.on('data', collect(stdout))
    child.stderr.on('data', collect(stderr))

    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() => {
        if (error.code === 'ENOENT') reject(new GpuError('not_found', NOT_FOUND_MESSAGE))
        else if (error.code === 'EACCES')
          reject(
            new GpuError(
              'failed',
              'nvidia-smi was found on PATH but cannot be run (permission denied). Reinstall the NVIDIA driver or fix the file permissions.',
            ),
          )
        else reject(new GpuError('failed', `nvidia-smi could not be started: ${error.message}`))
      })
    })

    // Normally settle on 'close' (output complete). A killed child's pipes may stay open if it
    // left a grandchild holding them, so after 'exit' settle anyway a little later.
    let exitCode: number | null = null
    let exitSignal: NodeJS.Signals | null = null
    const settle = () =>
      finish(() => {
        const out = Buffer.concat(stdout).toString('utf8')
        const err = Buffer.concat(stderr).toString('utf8')
        if (stopReason === 'timeout') {
          reject(
            new GpuError(
              'timeout',
              `nvidia-smi did not answer within ${timeoutMs / 1000} s and was stopped. The driver may be hung; ` +
                'close programs using the GPU or restart the computer.',
            ),
          )
        } else if (stopReason === 'abort') {
          reject(new GpuError('failed', 'nvidia-smi was stopped: the reading was cancelled.'))
        } else if (stopReason === 'too_much_output') {
          reject(
            new GpuError(
              'unparseable',
              'nvidia-smi printed far more than a GPU list (over 4 MiB) and was stopped. Check which program is on PATH as nvidia-smi.',
            ),
          )
        } else if (exitCode === 0) {
          resolve(out)
        } else {
          const said = summarise(err) || summarise(out)
          const how =
            exitCode === null
              ? `was stopped by ${exitSignal ?? 'a signal'}`
              : `failed (exit code ${exitCode})`
          reject(
            new GpuError(
              'failed',
              said ? `nvidia-smi ${how}: ${said}` : `nvidia-smi ${how} without saying why.`,
              err.trim() ? err : out,
            ),
          )
        }
      })
    child.on('exit', (code, signal) => {
      exitCode = code
      exitSignal = signal
      afterExit = setTimeout(settle, stopReason ? 50 : 1000)
    })
    child.on('close', (code, signal) => {
      exitCode = code ?? exitCode
      exitSignal = signal ?? exitSignal
      settle()
    })
  })
}

function unwrap<T>(result: ParseResult<T>): T {
  if (!result.ok) throw new GpuError('unparseable', result.error.message)
  return result.value
}

const gpuQueryArgs = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, CSV_FORMAT]
const computeAppsArgs = [`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, CSV_FORMAT]
const computeCapArgs = [`--query-gpu=${COMPUTE_CAP_FIELDS.join(',')}`, CSV_FORMAT]
const indexNameFields = ['index', 'name'] as const

/**
 * One nvidia-smi at a time for everything that shares this object (the GPU page, `gpu list`, the
 * installer): runs queue behind each other instead of piling up on a slow driver.
 */
export class NvidiaSmi {
  private queue: Promise<unknown> = Promise.resolve()
  /** How many nvidia-smi processes this object has started (tests and diagnostics). */
  started = 0

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly timeoutMs = timeoutFromEnv(env),
  ) {}

  run(args: readonly string[], signal?: AbortSignal): Promise<string> {
    const next = this.queue.then(() => {
      this.started++
      return runNvidiaSmi(args, { env: this.env, timeoutMs: this.timeoutMs, signal })
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  /** The GPU list. "No devices were found" (a driver without a GPU) is an empty list. */
  async gpus(signal?: AbortSignal): Promise<ParsedGpuQuery> {
    try {
      return unwrap(parseGpuQuery(await this.run(gpuQueryArgs, signal)))
    } catch (error) {
      if (error instanceof GpuError && error.kind === 'failed' && isNoDevicesMessage(error.output)) {
        return { gpus: [], driverVersion: null }
      }
      throw error
    }
  }

  /** The plain table: driver and CUDA version (the installer needs the latter), GPUs, processes. */
  async table(signal?: AbortSignal): Promise<NvidiaSmiTable> {
    return unwrap(parseNvidiaSmiTable(await this.run([], signal)))
  }

  /**
   * What `gpu list` prints. The CUDA version is only in the table's header; pass `knownCuda` to
   * skip that second run (the monitor caches it per driver version). A table that fails does not
   * hide the GPUs: the CUDA version is then null.
   */
  async snapshot(
    signal?: AbortSignal,
    knownCuda?: { driver_version: string | null; cuda_version: string | null },
  ): Promise<GpuSnapshot & { cuda_from_table: boolean }> {
    const { gpus, driverVersion } = await this.gpus(signal)
    if (knownCuda && (driverVersion === null || knownCuda.driver_version === driverVersion)) {
      return {
        driver_version: driverVersion ?? knownCuda.driver_version,
        cuda_version: knownCuda.cuda_version,
        gpus,
        cuda_from_table: false,
      }
    }
    if (gpus.length === 0)
      return { driver_version: driverVersion, cuda_version: null, gpus, cuda_from_table: false }
    const table = await this.table(signal).catch((error: unknown) => {
      if (signal?.aborted) throw error
      return null
    })
    return {
      driver_version: driverVersion ?? table?.driver_version ?? null,
      cuda_version: table?.cuda_version ?? null,
      gpus,
      cuda_from_table: table !== null,
    }
  }

  /** Processes holding GPU memory (--query-compute-apps); memory is null under Windows' WDDM. */
  async processes(signal?: AbortSignal): Promise<GpuProcess[]> {
    return unwrap(parseComputeApps(await this.run(computeAppsArgs, signal)))
  }

  /**
   * Each GPU's compute capability ("8.9"), for choosing a torch build. Drivers older than the
   * `compute_cap` field reject the query; then the GPUs are listed with a null capability.
   */
  async computeCapabilities(signal?: AbortSignal): Promise<GpuComputeCapability[]> {
    try {
      return unwrap(parseComputeCapabilities(await this.run(computeCapArgs, signal)))
    } catch (error) {
      if (!(error instanceof GpuError) || error.kind !== 'failed') throw error
      if (isNoDevicesMessage(error.output)) return []
      if (invalidQueryField(error.output) !== 'compute_cap') throw error
      const text = await this.run([`--query-gpu=${indexNameFields.join(',')}`, CSV_FORMAT], signal)
      return unwrap(parseComputeCapabilities(text, indexNameFields))
    }
  }
}

/* One-shot helpers for other services (the installer): each makes its own queue. */

export function querySnapshot(options: NvidiaSmiOptions): Promise<GpuSnapshot> {
  return new NvidiaSmi(options.env, options.timeoutMs)
    .snapshot(options.signal)
    .then(({ driver_version, cuda_version, gpus }) => ({ driver_version, cuda_version, gpus }))
}

export function queryProcesses(options: NvidiaSmiOptions): Promise<GpuProcess[]> {
  return new NvidiaSmi(options.env, options.timeoutMs).processes(options.signal)
}

/** The driver version and the highest CUDA version it supports (null where it does not say). */
export async function queryDriverInfo(
  options: NvidiaSmiOptions,
): Promise<{ driver_version: string | null; cuda_version: string | null }> {
  const table = await new NvidiaSmi(options.env, options.timeoutMs).table(options.signal)
  return { driver_version: table.driver_version, cuda_version: table.cuda_version }
}

export function queryComputeCapabilities(options: NvidiaSmiOptions): Promise<GpuComputeCapability[]> {
  return new NvidiaSmi(options.env, options.timeoutMs).computeCapabilities(options.signal)
}
