import { randomBytes } from 'node:crypto'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import type { LoraJob } from '../../../core/api/domains/lora'
import { ApiError } from '../../../core/api/errors'
import { planTool, type ToolInput } from '../../../core/lora/tools'
import { displayCommand } from '../../../core/runs/record'
import { readTail } from '../runs/domain'
import { isAlive, killTree, processStartTime, startWatchdog } from '../runs/process-tree'
import { buildRunEnv, resolveProgram } from '../runs/run-env'
import { RunProcess } from '../runs/run-process'
import { z } from 'zod'
import { readJsonFile, writeJsonAtomic } from '../store/atomic'
import { LoraJob as LoraJobSchema } from '../../../core/api/domains/lora'
import { readLora } from './read-lora'

export interface ToolEnvironment {
  name: string
  python: string
  sd_scripts_dir: string
  hf_home: string | null
}

export interface JobUpdate {
  job: LoraJob
  /** Console output since the last update. */
  output: string
}

/** The running script's process, so the next start can stop what a crash left behind. */
const PidFile = z.object({ pid: z.number().int(), start_time: z.string().nullable() })

const KEEP_JOBS = 50
const UPDATE_EVERY_MS = 200
const now = () => new Date().toISOString()

function newId(): string {
  return `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`
}

/**
 * The script writes next to the output under a temporary name; the finished file is renamed into
 * place, so a stop, a crash or a full disk never leaves a half-written LoRA under the chosen name
 * (nor destroys the file an overwrite would replace).
 */
export function partialPath(output: string, id: string): string {
  return path.join(
    path.dirname(output),
    `.${path.basename(output, '.safetensors')}.partial-${id}.safetensors`,
  )
}

interface Live {
  proc: RunProcess
  pending: string
  timer: NodeJS.Timeout | null
  failure: string | null
  partial: string
}

/**
 * LoRA tool jobs: one runs at a time (the scripts hold whole models in memory), the others wait in
 * order. Each job is a folder <dataDir>/lora-jobs/<id>/ with job.json and console.log.
 */
export class LoraJobs {
  readonly root: string
  private jobs = new Map<string, LoraJob>()
  private queue: Array<{ id: string; env: ToolEnvironment }> = []
  private live = new Map<string, Live>()
  private listeners = new Set<(u: JobUpdate) => void>()
  private ready: Promise<void>
  private running: Promise<void> | null = null
  private disposed = false

  constructor(private readonly options: { dataDir: string; env: NodeJS.ProcessEnv; graceMs?: number }) {
    this.root = path.join(options.dataDir, 'lora-jobs')
    this.ready = this.load()
  }

  private dir(id: string): string {
    if (!/^[\w-]+$/.test(id)) throw new ApiError('bad_request', `Invalid job id: ${id}`)
    return path.join(this.root, id)
  }

  private logFile(id: string): string {
    return path.join(this.dir(id), 'console.log')
  }

  /** Jobs from earlier sessions; one left running or queued by an app that is gone did not finish. */
  private async load(): Promise<void> {
    let names: string[] = []
    try {
      names = await fs.readdir(this.root)
    } catch {
      return
    }
    for (const n of names) {
      if (!/^[\w-]+$/.test(n)) continue
      const job = await readJsonFile(
        path.join(this.root, n, 'job.json'),
        LoraJobSchema.nullable(),
        () => null,
      ).catch(() => null)
      if (!job) continue
      if (job.state === 'running' || job.state === 'queued') {
        const pids = await readJsonFile(
          path.join(this.root, n, 'pid.json'),
          PidFile.nullable(),
          () => null,
        ).catch(() => null)
        if (
          pids &&
          isAlive(pids.pid) &&
          (pids.start_time === null || processStartTime(pids.pid) === pids.start_time)
        )
          await killTree(pids.pid)
        Object.assign(job, {
          state: 'failed',
          reason: 'The app exited while this tool was running; it was stopped.',
          ended_at: job.ended_at ?? now(),
        })
        await this.save(job)
      }
      this.jobs.set(job.id, job)
    }
  }

  private async save(job: LoraJob): Promise<void> {
    await writeJsonAtomic(path.join(this.dir(job.id), 'job.json'), job)
  }

  onUpdate(listener: (u: JobUpdate) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private publish(job: LoraJob, output = ''): void {
    const u = { job: structuredClone(job), output }
    for (const l of this.listeners) l(u)
  }

  async list(): Promise<LoraJob[]> {
    await this.ready
    return [...this.jobs.values()].sort((a, b) => b.created_at.localeCompare(a.created_at))
  }

  async get(id: string): Promise<LoraJob> {
    await this.ready
    const job = this.jobs.get(id)
    if (!job) throw new ApiError('not_found', `No LoRA tool job with id ${id}.`)
    return job
  }

  async log(id: string, max = 256 * 1024): Promise<{ text: string; truncated: boolean }> {
    await this.get(id)
    return readTail(this.logFile(id), max)
  }

  /** Records the job and queues it; it starts when no other tool job runs. Inputs are checked by the caller. */
  async start(input: ToolInput, env: ToolEnvironment): Promise<LoraJob> {
    await this.ready
    if (this.disposed) throw new ApiError('unavailable', 'The app is shutting down.')
    const id = newId()
    const plan = planTool(input)
    const partial = partialPath(plan.output, id)
    const args = plan.args.map((a) => (a === plan.output ? partial : a))
    const script = path.join(env.sd_scripts_dir, ...plan.script.split('/'))
    const command = [env.python, script, ...args]
    const job: LoraJob = {
      id,
      tool: input.tool,
      state: 'queued',
      reason: null,
      exit_code: null,
      created_at: now(),
      started_at: null,
      ended_at: null,
      command,
      display_command: displayCommand(command),
      cwd: env.sd_scripts_dir,
      output: plan.output,
      progress: null,
      result: null,
      input,
    }
    await fs.mkdir(this.dir(id), { recursive: true })
    await this.save(job)
    this.jobs.set(id, job)
    this.queue.push({ id, env })
    this.publish(job)
    await this.prune()
    this.next()
    return structuredClone(job)
  }

  private next(): void {
    if (this.running || this.disposed) return
    const item = this.queue.shift()
    if (!item) return
    this.running = this.run(item.id, item.env).finally(() => {
      this.running = null
      this.next()
    })
  }

  private async run(id: string, env: ToolEnvironment): Promise<void> {
    const job = this.jobs.get(id)
    if (!job || job.state !== 'queued') return
    const partial = job.command.find((a) => a.includes('.partial-')) ?? partialPath(job.output, id)
    let proc: RunProcess
    try {
      // PYTHONPATH: the scripts import sd-scripts' `library`, which an install outside ours may not have installed.
      const pythonPath = [env.sd_scripts_dir, this.options.env.PYTHONPATH]
        .filter(Boolean)
        .join(path.delimiter)
      const runEnv = buildRunEnv(this.options.env, {
        extra: { PYTHONPATH: pythonPath },
        ...(env.hf_home ? { hfHome: env.hf_home } : {}),
      })
      const program = resolveProgram(job.command[0] as string, job.cwd, runEnv)
      proc = new RunProcess(
        {
          program,
          args: job.command.slice(1),
          cwd: job.cwd,
          env: runEnv,
          logFile: this.logFile(id),
          graceMs: this.options.graceMs,
        },
        (events) => {
          const l = this.live.get(id)
          for (const e of events) {
            if (e.type === 'progress') job.progress = { step: e.step, total: e.total, desc: e.desc }
            else if (e.type === 'failure' && l && (l.failure === null || e.kind !== 'traceback'))
              l.failure = e.message
          }
        },
      )
    } catch (error) {
      await this.end(job, 'failed', `Could not start: ${(error as Error).message}`, null)
      return
    }
    const l: Live = { proc, pending: '', timer: null, failure: null, partial }
    this.live.set(id, l)
    proc.subscribe((text) => {
      l.pending += text
      if (!l.timer) l.timer = setTimeout(() => this.flush(job, l), UPDATE_EVERY_MS)
    })
    startWatchdog(process.pid, proc.pid)
    await writeJsonAtomic(path.join(this.dir(id), 'pid.json'), {
      pid: proc.pid,
      start_time: processStartTime(proc.pid),
    })
    job.state = 'running'
    job.started_at = now()
    await this.save(job)
    this.publish(job)
    const exit = await proc.exited
    this.flush(job, l)
    this.live.delete(id)
    await fs.rm(path.join(this.dir(id), 'pid.json'), { force: true })
    if (proc.interrupted) {
      await fs.rm(partial, { force: true })
      await this.end(job, 'stopped', 'Stopped by the user; nothing was written.', exit.exitCode)
      return
    }
    if (exit.exitCode !== 0 || !existsSync(partial)) {
      await fs.rm(partial, { force: true })
      const why =
        l.failure ??
        (exit.exitCode === 0
          ? 'The script ended without writing the output file.'
          : exit.signal
            ? `The script was killed by signal ${exit.signal}.`
            : `The script exited with code ${exit.exitCode}.`)
      await this.end(job, 'failed', `${why} See the log.`, exit.exitCode)
      return
    }
    try {
      await fs.rename(partial, job.output)
    } catch (error) {
      await fs.rm(partial, { force: true })
      await this.end(
        job,
        'failed',
        `Could not move the result to ${job.output}: ${(error as Error).message}`,
        0,
      )
      return
    }
    const mergedIntoModel = job.input.tool === 'merge' && job.input.mode === 'checkpoint'
    if (!mergedIntoModel)
      job.result = await readLora(job.output)
        .then((r) => r.info)
        .catch(() => null)
    await this.end(job, 'finished', null, 0)
  }

  private flush(job: LoraJob, l: Live): void {
    if (l.timer) clearTimeout(l.timer)
    l.timer = null
    const out = l.pending
    l.pending = ''
    this.publish(job, out)
  }

  private async end(job: LoraJob, state: LoraJob['state'], reason: string | null, exit: number | null) {
    job.state = state
    job.reason = reason
    job.exit_code = exit
    job.ended_at = now()
    await this.save(job)
    this.publish(job)
  }

  async stop(id: string): Promise<LoraJob> {
    const job = await this.get(id)
    if (job.state === 'queued') {
      this.queue = this.queue.filter((q) => q.id !== id)
      await this.end(job, 'stopped', 'Removed before it started.', null)
    } else if (job.state === 'running') {
      const l = this.live.get(id)
      if (!l) throw new ApiError('conflict', `Job ${id} is run by another SDXL Studio process.`)
      l.proc.interrupt()
    }
    return structuredClone(job)
  }

  /** Waits until the job has ended (for the CLI and tests). */
  async waitFor(id: string): Promise<LoraJob> {
    const job = await this.get(id)
    if (job.state !== 'queued' && job.state !== 'running') return job
    return new Promise((resolve) => {
      const off = this.onUpdate((u) => {
        if (u.job.id === id && u.job.state !== 'queued' && u.job.state !== 'running') {
          off()
          resolve(u.job)
        }
      })
    })
  }

  /** Keeps the newest KEEP_JOBS ended jobs. */
  private async prune(): Promise<void> {
    const ended = [...this.jobs.values()]
      .filter((j) => j.state !== 'queued' && j.state !== 'running')
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
    for (const j of ended.slice(KEEP_JOBS)) {
      this.jobs.delete(j.id)
      await fs.rm(this.dir(j.id), { recursive: true, force: true })
    }
  }

  /** App quit: the running script is interrupted (killed after a grace), queued jobs are dropped. */
  async dispose(): Promise<void> {
    this.disposed = true
    for (const q of this.queue.splice(0)) {
      const job = this.jobs.get(q.id)
      if (job) await this.end(job, 'stopped', 'The app quit before it started.', null)
    }
    for (const l of this.live.values()) l.proc.interrupt()
    const timer = setTimeout(() => {
      for (const l of this.live.values()) void l.proc.kill()
    }, 3000)
    await this.running
    clearTimeout(timer)
  }
}
