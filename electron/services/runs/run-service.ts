import { randomBytes } from 'node:crypto'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import type { GpuMemoryEvent, ProgressEvent, RunEvent } from '../../../core/runs/events'
import {
  ACTIVE_STATES,
  argValue,
  displayCommand,
  ENDED_STATES,
  RunStartInput,
  type RunRecord,
  type StopMode,
} from '../../../core/runs/record'
import { SummaryReducer } from '../../../core/runs/summary'
import { descendants, isAlive, killTree, processStartTime, signalGroup, startWatchdog } from './process-tree'
import { buildRunEnv, resolveProgram } from './run-env'
import { RunProcess } from './run-process'
import { RunStore } from './run-store'
import { writeFileAtomic, writeJsonAtomic } from '../store/atomic'

export interface RunServiceOptions {
  dataDir: string
  env: NodeJS.ProcessEnv
  /** Interrupt → kill grace period. */
  graceMs?: number
  logMaxBytes?: number
  /** Start the detached crash watchdog per run (default true). */
  watchdog?: boolean
  /** How often the sample folder is looked at while a run trains. */
  samplePollMs?: number
  /** GPU processes and their memory (nvidia-smi); gives each run its peak GPU memory. */
  gpuProcesses?: () => Promise<
    Array<{ pid: number; used_memory_mib: number | null; gpu_index?: number | null }>
  >
  gpuPollMs?: number
}

/** What run.progress subscribers get: the record as it is now and the events since the last update. */
export interface RunUpdate {
  run: RunRecord
  events: RunEvent[]
}

interface Live {
  proc: RunProcess
  reducer: SummaryReducer
  pending: RunEvent[]
  lastTrainStep: number | null
  savedSinceStop: boolean
  sampleTimer: NodeJS.Timeout | null
  gpuTimer: NodeJS.Timeout | null
  updateTimer: NodeJS.Timeout | null
  lastSave: number
  /** The per-GPU memory of the last sample (JSON), so a shift between GPUs is recorded too. */
  lastPerGpu?: string
}

/** A run's GPU memory per nvidia-smi index; undefined when no process's GPU is known. */
export function memoryPerGpu(
  processes: ReadonlyArray<{ used_memory_mib: number | null; gpu_index?: number | null }>,
): Record<string, number> | undefined {
  const out: Record<string, number> = {}
  let known = false
  for (const p of processes) {
    if (p.gpu_index === undefined || p.gpu_index === null) continue
    known = true
    out[String(p.gpu_index)] = (out[String(p.gpu_index)] ?? 0) + (p.used_memory_mib ?? 0)
  }
  return known ? out : undefined
}

const SAVE_EVERY_MS = 1000
const UPDATE_EVERY_MS = 200

function newId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
  return `${t}-${randomBytes(3).toString('hex')}`
}

const now = () => new Date().toISOString()

/**
 * Runs, their records and the queue. Runs wait in one queue; a run starts when no running run shares
 * a GPU with it (no GPUs given = all of them) and no run queued before it wants one of its GPUs.
 */
export class RunService {
  readonly store: RunStore
  private records = new Map<string, RunRecord>()
  private live = new Map<string, Live>()
  private queue: string[] = []
  private listeners = new Set<(u: RunUpdate) => void>()
  private queueHeld: string | null = null
  private ready: Promise<void>
  private disposed = false
  private launches = new Set<Promise<void>>()

  constructor(private readonly options: RunServiceOptions) {
    this.store = new RunStore(options.dataDir)
    this.ready = this.recover()
  }

  /** Startup: runs left active by a dead app become failed; their leftover processes are killed. */
  private async recover(): Promise<void> {
    const queueFile = path.join(this.store.root, 'queue.json')
    for (const rec of await this.store.list()) {
      this.records.set(rec.id, rec)
      if (!ACTIVE_STATES.includes(rec.state)) continue
      const owner = rec.owner_pid
      const pids = await this.store.readPids(rec.id)
      const ownerStart = owner !== null ? processStartTime(owner) : null
      const sameOwner = !pids?.owner_start_time || !ownerStart || pids.owner_start_time === ownerStart
      // Another live app process (e.g. a CLI `run start`) owns it: leave it alone.
      if (owner !== null && owner !== process.pid && isAlive(owner) && sameOwner) continue
      if (pids && isAlive(pids.pid)) {
        const st = processStartTime(pids.pid)
        if (pids.start_time === null || st === null || st === pids.start_time) await killTree(pids.pid)
      }
      await this.store.writePids(rec.id, null)
      Object.assign(rec, {
        state: 'failed',
        reason: 'The app exited while this run was training; the trainer was stopped.',
        ended_at: rec.ended_at ?? now(),
        pid: null,
      })
      await this.store.save(rec)
    }
    try {
      const saved = JSON.parse(await fs.readFile(queueFile, 'utf8')) as unknown
      if (Array.isArray(saved)) this.queue = saved.filter((id): id is string => typeof id === 'string')
    } catch {
      // no queue yet
    }
    const queued = [...this.records.values()].filter((r) => r.state === 'queued').map((r) => r.id)
    this.queue = [
      ...this.queue.filter((id) => queued.includes(id)),
      ...queued.filter((id) => !this.queue.includes(id)),
    ]
  }

  async whenReady(): Promise<void> {
    await this.ready
  }

  onUpdate(listener: (u: RunUpdate) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private publish(rec: RunRecord, events: RunEvent[] = []): void {
    const u = { run: structuredClone(rec), events }
    for (const l of this.listeners) l(u)
  }

  async list(): Promise<RunRecord[]> {
    await this.ready
    return [...this.records.values()].sort((a, b) => b.created_at.localeCompare(a.created_at))
  }

  async get(id: string): Promise<RunRecord> {
    await this.ready
    const rec = this.records.get(id) ?? (await this.store.load(id))
    if (!rec) throw new ApiError('not_found', `No run with id ${id}. List runs with "run list".`)
    return rec
  }

  queueOrder(): string[] {
    return [...this.queue]
  }

  /** Records a run and queues it; it starts as soon as its GPUs are free. */
  async start(raw: RunStartInput, rerunOf: string | null = null): Promise<RunRecord> {
    await this.ready
    if (this.disposed)
      throw new ApiError('unavailable', 'The app is shutting down; start the run again after restart.')
    const input = RunStartInput.parse(raw)
    const env = buildRunEnv(this.options.env, {
      gpus: input.gpus,
      extra: input.env,
      offline: input.offline,
      hfHome: input.hf_home,
    })
    // Fail now, with a message, rather than as a dead pty later.
    resolveProgram(input.command[0] as string, input.cwd, env)
    const outputDir = input.output_dir ?? argValue(input.command, 'output_dir')
    const saveConfigured =
      input.save_configured ??
      (argValue(input.command, 'save_every_n_epochs') !== null ||
        argValue(input.command, 'save_every_n_steps') !== null)
    const id = newId()
    const rec: RunRecord = {
      id,
      name: input.name ?? path.basename(input.command[1] ?? input.command[0] ?? 'run'),
      state: 'queued',
      reason: null,
      exit_code: null,
      created_at: now(),
      started_at: null,
      ended_at: null,
      command: input.command,
      display_command: displayCommand(input.command),
      cwd: input.cwd,
      env: input.env ?? {},
      gpus: input.gpus ?? null,
      output_dir: outputDir ? path.resolve(input.cwd, outputDir) : null,
      save_configured: saveConfigured,
      stop_on_failure: input.stop_on_failure ?? false,
      stop_requested: null,
      pid: null,
      owner_pid: null,
      summary: new SummaryReducer().get(),
      it_per_s: null,
      remaining_s: null,
      failure: null,
      samples: [],
      gpu_memory_mib: null,
      peak_gpu_memory_mib: null,
      predicted_peak_mib: input.predicted_peak_mib ?? null,
      rerun_of: rerunOf,
      input,
    }
    await this.store.create(rec)
    this.records.set(id, rec)
    this.queue.push(id)
    await this.saveQueue()
    this.publish(rec)
    this.schedule()
    return structuredClone(rec)
  }

  async rerun(id: string): Promise<RunRecord> {
    const old = await this.get(id)
    return this.start(old.input, id)
  }

  private conflicts(a: RunRecord, b: RunRecord): boolean {
    if (!a.gpus || !b.gpus || a.gpus.length === 0 || b.gpus.length === 0) return true
    return a.gpus.some((g) => (b.gpus as number[]).includes(g))
  }

  /** Starts every queued run whose GPUs are free, in queue order. */
  private schedule(): void {
    if (this.disposed || this.queueHeld) return
    const active = [...this.records.values()].filter((r) => ACTIVE_STATES.includes(r.state))
    const waiting: RunRecord[] = []
    for (const id of [...this.queue]) {
      const rec = this.records.get(id)
      if (!rec || rec.state !== 'queued') {
        this.queue = this.queue.filter((q) => q !== id)
        continue
      }
      const blocked = [...active, ...waiting].some((o) => this.conflicts(rec, o))
      if (blocked) {
        waiting.push(rec)
        continue
      }
      this.queue = this.queue.filter((q) => q !== id)
      active.push(rec)
      const p = this.launch(rec)
      this.launches.add(p)
      void p.finally(() => this.launches.delete(p))
    }
    void this.saveQueue()
  }

  private async saveQueue(): Promise<void> {
    await fs.mkdir(this.store.root, { recursive: true })
    await writeJsonAtomic(path.join(this.store.root, 'queue.json'), this.queue).catch(() => undefined)
  }

  private async launch(rec: RunRecord): Promise<void> {
    rec.state = 'starting'
    rec.started_at = now()
    rec.owner_pid = process.pid
    await this.store.save(rec)
    this.publish(rec)
    let proc: RunProcess
    try {
      const env = buildRunEnv(this.options.env, {
        gpus: rec.input.gpus,
        extra: rec.input.env,
        offline: rec.input.offline,
        hfHome: rec.input.hf_home,
      })
      const program = resolveProgram(rec.command[0] as string, rec.cwd, env)
      proc = new RunProcess(
        {
          program,
          args: rec.command.slice(1),
          cwd: rec.cwd,
          env,
          logFile: this.store.file(rec.id, 'log'),
          logMaxBytes: this.options.logMaxBytes,
          graceMs: this.options.graceMs,
        },
        (events) => this.onEvents(rec, events),
      )
    } catch (error) {
      await this.finish(rec, {
        state: 'failed',
        reason: `Could not start: ${(error as Error).message}`,
        exit: null,
      })
      return
    }
    const live: Live = {
      proc,
      reducer: new SummaryReducer(),
      pending: [],
      lastTrainStep: null,
      savedSinceStop: false,
      sampleTimer: null,
      gpuTimer: null,
      updateTimer: null,
      lastSave: 0,
    }
    this.live.set(rec.id, live)
    rec.pid = proc.pid
    rec.state = rec.stop_requested === 'now' ? 'stopping' : 'running'
    const watchdog = this.options.watchdog === false ? null : startWatchdog(process.pid, proc.pid)
    await this.store.writePids(rec.id, {
      pid: proc.pid,
      start_time: processStartTime(proc.pid),
      owner_pid: process.pid,
      owner_start_time: processStartTime(process.pid),
      watchdog_pid: watchdog,
    })
    await this.store.save(rec)
    this.publish(rec)
    if (rec.output_dir) {
      live.sampleTimer = setInterval(() => void this.scanSamples(rec), this.options.samplePollMs ?? 1500)
    }
    if (this.options.gpuProcesses) {
      live.gpuTimer = setInterval(() => void this.sampleGpu(rec, live), this.options.gpuPollMs ?? 2000)
      void this.sampleGpu(rec, live)
    }
    if (rec.stop_requested === 'now') proc.interrupt()
    const exit = await proc.exited
    // `run stop` from another process leaves a note before it interrupts the group.
    if (!rec.stop_requested && existsSync(this.store.file(rec.id, 'stopRequest'))) rec.stop_requested = 'now'
    if (live.gpuTimer) clearInterval(live.gpuTimer)
    if (live.sampleTimer) clearInterval(live.sampleTimer)
    if (live.updateTimer) clearTimeout(live.updateTimer)
    await this.scanSamples(rec)
    this.flushUpdate(rec)
    this.live.delete(rec.id)
    await this.store.writePids(rec.id, null)
    await this.finish(rec, {
      ...this.outcome(rec, exit.exitCode, exit.signal, proc.interrupted),
      exit: exit.exitCode,
    })
  }

  private outcome(
    rec: RunRecord,
    exitCode: number | null,
    signal: number | null,
    interrupted: boolean,
  ): { state: 'finished' | 'failed' | 'stopped'; reason: string | null } {
    // A "stop after checkpoint" that never had to interrupt (training ended first) is a normal end.
    if (rec.stop_requested === 'now' || (rec.stop_requested && interrupted)) {
      const last = rec.summary.saved_checkpoints.at(-1)
      return {
        state: 'stopped',
        reason:
          rec.stop_requested === 'after_checkpoint' && last
            ? `Stopped after saving ${last}.`
            : rec.stop_requested === 'now' && rec.reason?.includes('app quit')
              ? rec.reason
              : 'Stopped by the user. sd-scripts saves nothing when interrupted; only checkpoints already saved remain.',
      }
    }
    const f = rec.failure
    if (exitCode === 0 && !signal) {
      if (f?.kind === 'no_data') return { state: 'failed', reason: f.message }
      return { state: 'finished', reason: null }
    }
    if (rec.summary.error === 'oom')
      return {
        state: 'failed',
        reason:
          'CUDA out of memory. Lower the batch size or resolution, enable gradient checkpointing and latent/text-encoder caching, or use a smaller network dim.',
      }
    if (f) return { state: 'failed', reason: f.message }
    return {
      state: 'failed',
      reason: signal
        ? `The trainer was killed by signal ${signal}.`
        : `The trainer exited with code ${exitCode}.`,
    }
  }

  private async finish(
    rec: RunRecord,
    end: { state: 'finished' | 'failed' | 'stopped'; reason: string | null; exit: number | null },
  ): Promise<void> {
    rec.state = end.state
    rec.reason = end.reason
    rec.exit_code = end.exit
    rec.ended_at = now()
    rec.pid = null
    rec.gpu_memory_mib = null
    await this.store.save(rec)
    this.publish(rec)
    if (end.state === 'failed' && rec.stop_on_failure) this.queueHeld = rec.id
    this.schedule()
  }

  private onEvents(rec: RunRecord, events: RunEvent[]): void {
    const live = this.live.get(rec.id)
    const keep: RunEvent[] = []
    let checkpointDone = false
    for (const e of events) {
      live?.reducer.add(e)
      if (e.type === 'progress') {
        if (e.bar === 'train') {
          rec.it_per_s = e.it_per_s
          rec.remaining_s = e.remaining_s
          // Only new steps go to events.jsonl: a redraw storm must not fill the disk.
          if (live && live.lastTrainStep === e.step) continue
          if (live) live.lastTrainStep = e.step
          if (live?.savedSinceStop) checkpointDone = true
        }
      } else if (
        e.type === 'failure' &&
        (rec.failure === null || e.kind === 'oom' || rec.failure.kind === 'traceback')
      ) {
        rec.failure = { kind: e.kind, message: e.message }
      } else if (
        e.type === 'checkpoint' &&
        e.action === 'saved' &&
        rec.stop_requested === 'after_checkpoint' &&
        live
      ) {
        live.savedSinceStop = true
      } else if (e.type === 'epoch' && live?.savedSinceStop) {
        // (After the final save, "model saved." ends training anyway: nothing to interrupt.)
        checkpointDone = true
      }
      keep.push(e)
    }
    if (live) rec.summary = live.reducer.get()
    this.store.appendEvents(rec.id, keep)
    if (live) {
      live.pending.push(...keep.filter((e) => e.type !== 'progress' || (e as ProgressEvent).bar === 'train'))
      if (Date.now() - live.lastSave > SAVE_EVERY_MS) {
        live.lastSave = Date.now()
        void this.store.save(rec)
      }
      if (!live.updateTimer) live.updateTimer = setTimeout(() => this.flushUpdate(rec), UPDATE_EVERY_MS)
      // "Stop after the next saved checkpoint": the save is done once training output resumes.
      if (checkpointDone && rec.state === 'running') {
        rec.state = 'stopping'
        rec.reason = `Stopping after saving ${rec.summary.saved_checkpoints.at(-1) ?? 'a checkpoint'}.`
        live.proc.interrupt()
        void this.store.save(rec)
      }
    }
  }

  private flushUpdate(rec: RunRecord): void {
    const live = this.live.get(rec.id)
    if (!live) return
    if (live.updateTimer) clearTimeout(live.updateTimer)
    live.updateTimer = null
    const events = live.pending
    live.pending = []
    this.publish(rec, events)
  }

  /** Peak GPU memory of the run's processes (the launcher's child is the one that holds it). */
  private gpuFailed = false
  private async sampleGpu(rec: RunRecord, live: Live): Promise<void> {
    if (this.gpuFailed || live.proc.done || !this.options.gpuProcesses) return
    let list
    try {
      list = await this.options.gpuProcesses()
    } catch {
      // No nvidia-smi (or it failed): stop asking for the rest of the session.
      this.gpuFailed = true
      return
    }
    const pids = new Set([live.proc.pid, ...(await descendants(live.proc.pid))])
    const mine = list.filter((p) => pids.has(p.pid))
    const used = mine.reduce((n, p) => n + (p.used_memory_mib ?? 0), 0)
    const perGpu = memoryPerGpu(mine)
    if (live.proc.done) return
    const perGpuKey = JSON.stringify(perGpu ?? null)
    if (used === rec.gpu_memory_mib && perGpuKey === live.lastPerGpu) return
    live.lastPerGpu = perGpuKey
    rec.gpu_memory_mib = used
    if (used > (rec.peak_gpu_memory_mib ?? 0)) rec.peak_gpu_memory_mib = used
    // Only changes are kept: a flat stretch is one point, drawn as a step until the next.
    const started = rec.started_at ? Date.parse(rec.started_at) : Date.now()
    const sample: GpuMemoryEvent = {
      type: 'gpu_memory',
      elapsed_s: Math.max(0, Math.round((Date.now() - started) / 100) / 10),
      used_mib: used,
      ...(perGpu ? { per_gpu: perGpu } : {}),
    }
    this.store.appendEvents(rec.id, [sample])
    this.publish(rec, [sample])
  }

  private async scanSamples(rec: RunRecord): Promise<void> {
    if (!rec.output_dir) return
    let names: string[]
    try {
      names = await fs.readdir(path.join(rec.output_dir, 'sample'))
    } catch {
      return
    }
    const fresh = names.filter((n) => /\.(png|jpe?g|webp)$/i.test(n) && !rec.samples.includes(n)).sort()
    if (fresh.length === 0) return
    rec.samples.push(...fresh)
    await this.store.save(rec)
    this.publish(rec)
  }

  async stop(id: string, mode: StopMode = 'now'): Promise<RunRecord> {
    const rec = await this.get(id)
    if (ENDED_STATES.includes(rec.state)) return rec
    if (rec.state === 'queued') {
      this.queue = this.queue.filter((q) => q !== id)
      await this.finish(rec, {
        state: 'stopped',
        reason: 'Removed from the queue before it started.',
        exit: null,
      })
      return rec
    }
    if (mode === 'after_checkpoint' && !rec.save_configured) {
      throw new ApiError(
        'bad_request',
        'This run saves no checkpoints before the end (no --save_every_n_epochs / --save_every_n_steps), so "stop after the next checkpoint" would never stop. Stop now instead (nothing is saved), or let it finish.',
      )
    }
    const live = this.live.get(id)
    if (!live) {
      // Owned by another app process (e.g. a CLI): interrupt its group through the pid record.
      if (mode === 'after_checkpoint')
        throw new ApiError(
          'conflict',
          `Run ${id} is run by another SDXL Studio process; "stop after checkpoint" works only there. Stop it now, or use that window.`,
        )
      const pids = await this.store.readPids(id)
      if (pids && isAlive(pids.pid)) {
        await writeFileAtomic(this.store.file(id, 'stopRequest'), `${process.pid}\n`)
        if (process.platform === 'win32') await killTree(pids.pid)
        else signalGroup(pids.pid, 'SIGINT')
        return rec
      }
      throw new ApiError('conflict', `Run ${id} is ${rec.state} but no process of it is alive.`)
    }
    rec.stop_requested = mode
    if (mode === 'now') {
      rec.state = 'stopping'
      live.proc.interrupt()
    }
    await this.store.save(rec)
    this.publish(rec)
    return structuredClone(rec)
  }

  async delete(id: string): Promise<void> {
    const rec = await this.get(id)
    if (ACTIVE_STATES.includes(rec.state))
      throw new ApiError('conflict', `Run ${rec.name} is ${rec.state}. Stop it before deleting its record.`)
    this.queue = this.queue.filter((q) => q !== id)
    this.records.delete(id)
    await this.store.remove(id)
    await this.saveQueue()
  }

  async reorder(ids: string[]): Promise<string[]> {
    await this.ready
    const set = new Set(this.queue)
    if (ids.length !== set.size || !ids.every((id) => set.has(id)))
      throw new ApiError(
        'bad_request',
        `Give every queued run exactly once. Queued now: ${this.queue.join(', ') || 'none'}.`,
      )
    this.queue = [...ids]
    await this.saveQueue()
    this.schedule()
    return this.queueOrder()
  }

  /** Lets the queue go on after a run with stop_on_failure failed. */
  resumeQueue(): void {
    this.queueHeld = null
    this.schedule()
  }

  get heldBy(): string | null {
    return this.queueHeld
  }

  subscribeOutput(id: string, listener: (data: string) => void) {
    const live = this.live.get(id)
    return live ? { proc: live.proc, ...live.proc.subscribe(listener) } : null
  }

  /** Bytes read from the run's pty so far (null when not running here): for flow-control checks. */
  bytesRead(id: string): number | null {
    return this.live.get(id)?.proc.bytesIn ?? null
  }

  /** Waits until the run has ended (for the CLI and tests). */
  async waitFor(id: string): Promise<RunRecord> {
    const rec = await this.get(id)
    if (ENDED_STATES.includes(rec.state)) return rec
    return new Promise((resolve) => {
      const off = this.onUpdate((u) => {
        if (u.run.id === id && ENDED_STATES.includes(u.run.state)) {
          off()
          resolve(u.run)
        }
      })
    })
  }

  /** App quit: no trainer survives. Interrupt all, kill what is left after a short grace. */
  async dispose(graceMs = 3000): Promise<void> {
    this.disposed = true
    const running = [...this.live.entries()]
    for (const [id, live] of running) {
      const rec = this.records.get(id)
      if (rec) {
        rec.stop_requested = 'now'
        rec.reason = 'Stopped because the app quit. sd-scripts saves nothing when interrupted.'
      }
      live.proc.interrupt()
    }
    const timer = setTimeout(() => {
      for (const [, live] of running) void live.proc.kill()
    }, graceMs)
    await Promise.all(running.map(([, l]) => l.proc.exited))
    clearTimeout(timer)
    // launch() records each end (state, pids file) after the exit.
    await Promise.all([...this.launches])
    await this.store.flush()
  }
}
