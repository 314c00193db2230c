import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { TraceLine, type TraceJob } from '../../../core/vram/trace'
import { resourceFile } from '../app-files'
import { processStartTime } from '../runs/process-identity'
import { killTree, signalGroup, startWatchdog } from '../runs/process-tree'

/**
 * Runs resources/vram/trace_sdxl.py (sd-scripts' model code on PyTorch's meta device, CPU only) for
 * one or more jobs, and returns one validated line per job. The Python process is its own process
 * group, watched by the watchdog (it dies with us), and killed on timeout or abort; its temporary job
 * file is removed in every case.
 */

export interface TraceRunOptions {
  /** A Python with torch (and sd-scripts' requirements: transformers, diffusers, accelerate...). */
  python: string
  /** The sd-scripts checkout whose model code is traced. */
  sdScriptsDir: string
  jobs: TraceJob[]
  /** The SDPA kernel a GPU would pick: flash (RTX 30xx and newer) or efficient (older cards). */
  kernel?: 'flash' | 'efficient'
  /** Whole run; default 15 minutes (a trace takes 0.5 to 3 minutes of one CPU core per job). */
  timeoutMs?: number
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
  /** Called with each line of the tracer's stderr (progress, warnings). */
  onLog?: (line: string) => void
  /** Called with each job's result as soon as it is out (a long batch keeps what is done). */
  onResult?: (line: TraceLine) => void
  /** The tracer script; default resources/vram/trace_sdxl.py of this app. */
  script?: string
}

export class TraceRunError extends Error {
  constructor(
    message: string,
    readonly kind: 'python_missing' | 'sd_scripts_missing' | 'failed' | 'timeout' | 'aborted',
    readonly stderrTail = '',
  ) {
    super(message)
    this.name = 'TraceRunError'
  }
}

export function traceScript(env: NodeJS.ProcessEnv = process.env): string {
  return resourceFile(env, 'vram', 'trace_sdxl.py')
}

const STDERR_TAIL = 4000

export async function runTrace(opts: TraceRunOptions): Promise<TraceLine[]> {
  if (!existsSync(opts.python)) {
    throw new TraceRunError(
      `The Python for the trace does not exist: ${opts.python}. Choose an environment's Python (its venv's bin/python or Scripts\\python.exe).`,
      'python_missing',
    )
  }
  if (!existsSync(path.join(opts.sdScriptsDir, 'library', 'sdxl_original_unet.py'))) {
    throw new TraceRunError(
      `Not an sd-scripts folder: ${opts.sdScriptsDir} (library/sdxl_original_unet.py is missing). Point to the kohya-ss/sd-scripts checkout of the environment.`,
      'sd_scripts_missing',
    )
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sdxl-vram-trace-'))
  try {
    const jobsFile = path.join(dir, 'jobs.json')
    await writeFile(jobsFile, JSON.stringify(opts.jobs), 'utf8')
    const args = [
      opts.script ?? traceScript(opts.env),
      '--sd-scripts',
      opts.sdScriptsDir,
      '--jobs',
      jobsFile,
      '--kernel',
      opts.kernel ?? 'flash',
    ]
    return await spawnTracer(opts, args)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function spawnTracer(opts: TraceRunOptions, args: string[]): Promise<TraceLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.python, args, {
      env: { ...(opts.env ?? process.env), PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
      // Its own process group on Unix, so a kill reaches anything it starts.
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    })
    // The watchdog knows both processes by pid and start time (a recycled pid is never killed); it
    // starts once the start times are read, unless the tracer has already ended by then.
    let watchdog: number | null = null
    const pid = child.pid
    if (pid)
      void Promise.all([processStartTime(process.pid), processStartTime(pid)]).then(([self, started]) => {
        if (!settled) watchdog = startWatchdog(process.pid, self, { pid, startTime: started, marker: null })
      })
    const lines: TraceLine[] = []
    let out = ''
    let errTail = ''
    let partial = ''
    let settled = false
    let stopReason: 'timeout' | 'aborted' | null = null

    const stop = (reason: 'timeout' | 'aborted') => {
      if (stopReason || settled) return
      stopReason = reason
      if (child.pid) void killTree(child.pid)
    }
    const timer = setTimeout(() => stop('timeout'), opts.timeoutMs ?? 15 * 60_000)
    const onAbort = () => stop('aborted')
    if (opts.signal?.aborted) onAbort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })

    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      if (watchdog) signalGroup(watchdog, 'SIGTERM')
      fn()
    }

    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      let nl: number
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl).trim()
        out = out.slice(nl + 1)
        if (!line.startsWith('{')) continue
        try {
          const parsed = TraceLine.safeParse(JSON.parse(line))
          if (parsed.success) {
            lines.push(parsed.data)
            opts.onResult?.(parsed.data)
          } else errTail = `${errTail}\nunexpected tracer output: ${line.slice(0, 300)}`.slice(-STDERR_TAIL)
        } catch {
          errTail = `${errTail}\nunreadable tracer output: ${line.slice(0, 300)}`.slice(-STDERR_TAIL)
        }
      }
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      errTail = (errTail + chunk).slice(-STDERR_TAIL)
      if (!opts.onLog) return
      partial += chunk
      const parts = partial.split(/\r?\n/)
      partial = parts.pop() ?? ''
      for (const p of parts) if (p.trim()) opts.onLog(p)
    })
    child.on('error', (error) =>
      finish(() =>
        reject(
          new TraceRunError(
            `The trace's Python could not start: ${opts.python} (${error.message}).`,
            'python_missing',
          ),
        ),
      ),
    )
    child.on('close', (code) =>
      finish(() => {
        if (stopReason === 'timeout') {
          reject(
            new TraceRunError(
              `The trace did not finish within ${Math.round((opts.timeoutMs ?? 900_000) / 1000)} s and was stopped. The CPU may be busy; try again when it is idle.`,
              'timeout',
              errTail,
            ),
          )
          return
        }
        if (stopReason === 'aborted') {
          reject(new TraceRunError('The trace was cancelled.', 'aborted', errTail))
          return
        }
        // A job that failed is reported in its own line (exit code 1); a run with no lines at all failed.
        if (lines.length === 0) {
          reject(
            new TraceRunError(
              `The trace failed (exit code ${code ?? 'none'}): ${lastLines(errTail)}`,
              'failed',
              errTail,
            ),
          )
          return
        }
        resolve(lines)
      }),
    )
  })
}

function lastLines(text: string, n = 6): string {
  const lines = text.trim().split(/\r?\n/).filter(Boolean)
  return lines.slice(-n).join(' | ') || 'no output'
}
