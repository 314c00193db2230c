import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
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
  type StopAction,
  type StopMode,
  type UnreadableRun,
} from '../../../core/runs/record'
import type { QueueEdit } from '../../../core/api/domains/runs'
import { runNotice, type RunNotice } from '../../../core/runs/notice'
import { isStateFolderName, joinProgress, resumeCommand, stateFolderOf } from '../../../core/runs/resume'
import { SummaryReducer } from '../../../core/runs/summary'
import { isSameProcess, processStartTime } from './process-identity'
import {
  isAlive,
  killRun,
  runAlive,
  runProcesses,
  signalGroup,
  startWatchdog,
  type RunTarget,
} from './process-tree'
import { buildRunEnv, resolveProgram } from './run-env'
import { RUN_MARKER_VARIABLE, runMarker } from './run-processes-linux'
import { RunProcess } from './run-process'
import { RunStore, type PidsFile } from './run-store'
import { writeJsonAtomic } from '../store/atomic'
import { readRegularFile } from '../store/regular-file'

export interface RunServiceOptions {
  dataDir: string
  env: NodeJS.ProcessEnv
  /** Interrupt → kill grace period; when absent, `stopGraceMs` (the setting), else 10 s. */
  graceMs?: number
  /** The stop grace period as the user set it (read at each stop). */
  stopGraceMs?: () => Promise<number>
  /** How often this process looks for stop requests that other processes left for its runs. */
  requestPollMs?: number
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

/** What a stop did (run.stop). */
export interface StopResult {
  run: RunRecord
  actions: StopAction[]
}

const DEFAULT_GRACE_MS = 10_000
/** How long a stopper waits for the process that owns a run to record what happened. */
const OWNER_WAIT_MS = 5000

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function targetOf(pids: PidsFile): RunTarget {
  return { pid: pids.pid, startTime: pids.start_time, marker: pids.marker }
}

/** A change to a queued run: hold or let go, and/or new settings. */
interface QueueChange {
  paused?: boolean
  edit?: QueueEdit
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
  /** The latest frame of the step being trained: written to events.jsonl when the next step starts, or at the end. */
  stepFrame: ProgressEvent | null
  /** Where that step's frame sits in `pending` (replaced in place by its later frames), or -1. */
  pendingFrameAt: number
  savedSinceStop: boolean
  sampleTimer: NodeJS.Timeout | null
  gpuTimer: NodeJS.Timeout | null
  updateTimer: NodeJS.Timeout | null
  /** A save put off by the once-a-second limit, so the last change reaches the disk too. */
  saveTimer: NodeJS.Timeout | null
  lastSave: number
  target: RunTarget
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

async function readTerminalSize(file: string): Promise<{ cols: number; rows: number } | null> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as { cols?: unknown; rows?: unknown }
    const ok = (n: unknown, min: number, max: number) =>
      typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max
    return ok(v.cols, 20, 1000) && ok(v.rows, 5, 500)
      ? { cols: v.cols as number, rows: v.rows as number }
      : null
  } catch {
    return null
  }
}

function newId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
  return `${t}-${randomBytes(3).toString('hex')}`
}

const now = () => new Date().toISOString()

/** What a run's command (or its input) says about where it saves; see start(). */
function derivedFromCommand(input: RunStartInput): { output_dir: string | null; save_configured: boolean } {
  const outputDir = input.output_dir ?? argValue(input.command, 'output_dir')
  return {
    output_dir: outputDir ? path.resolve(input.cwd, outputDir) : null,
    save_configured:
      input.save_configured ??
      (argValue(input.command, 'save_every_n_epochs') !== null ||
        argValue(input.command, 'save_every_n_steps') !== null),
  }
}

/** The run's `--output_name` (command line, else the config it was made from): names its state folders. */
function outputNameOf(rec: RunRecord): string | null {
  const fromCommand = argValue(rec.command, 'output_name')
  if (fromCommand) return fromCommand
  const config = rec.input.config as { saving?: { output_name?: unknown } } | undefined
  const name = config?.saving?.output_name
  return typeof name === 'string' && name ? name : null
}

/** The step a state folder was saved at (sd-scripts' `train_state.json`); null when it does not say. */
async function stateStep(folder: string): Promise<number | null> {
  try {
    const data = JSON.parse(
      (await readRegularFile(path.join(folder, 'train_state.json'), 64 * 1024)).toString('utf8'),
    ) as unknown
    const step = (data as { current_step?: unknown } | null)?.current_step
    return typeof step === 'number' && Number.isInteger(step) && step >= 0 ? step : null
  } catch {
    return null
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory()
  } catch {
    return false
  }
}

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
  private noticeListeners = new Set<(n: RunNotice) => void>()
  private queueHeld: string | null = null
  private ready: Promise<void>
  private disposed = false
  private launches = new Set<Promise<void>>()
  /** Our own start time: with our pid it names this process in records and pid files. */
  // (Read on first use: on Windows it takes a PowerShell call, which `run list` should not pay.)
  private selfStartTime: Promise<string | null> | null = null
  private get selfStart(): Promise<string | null> {
    return (this.selfStartTime ??= processStartTime(process.pid))
  }
  private requestTimer: NodeJS.Timeout | null = null
  /**
   * Active runs of other live processes (the app, a server, a CLI): they hold their GPUs for our queue
   * until their record on disk says they ended, which the poll checks every second.
   */
  private foreign = new Map<string, RunRecord>()
  /** Runs whose stop request (from another process) has been acted on here. */
  private requestsHandled = new Set<string>()
  /** The size of the terminal that last showed a run: new runs start with it (see resize). */
  private terminal: { cols: number; rows: number } | null = null
  private readonly terminalFile: string

  constructor(private readonly options: RunServiceOptions) {
    this.store = new RunStore(options.dataDir)
    this.terminalFile = path.join(this.store.root, 'terminal-size.json')
    this.ready = this.recover()
  }

  /** Whether another live process (the app, a server, a CLI `run start`) owns this run. */
  private async ownedElsewhere(rec: RunRecord, pids: PidsFile | null): Promise<boolean> {
    const owner = rec.owner_pid
    if (owner === null || owner === process.pid || !isAlive(owner)) return false
    const recorded = rec.owner_start_time ?? pids?.owner_start_time ?? null
    if (recorded === null) return true
    const now = await processStartTime(owner)
    // A start time we cannot read now is no proof of a recycled pid: trust that the owner lives.
    return now === null || now === recorded
  }

  /** Startup: runs left active by a dead app become failed; their leftover processes are killed. */
  private async recover(): Promise<void> {
    const queueFile = path.join(this.store.root, 'queue.json')
    for (const rec of await this.store.list()) {
      if (!ACTIVE_STATES.includes(rec.state) && rec.state !== 'queued') {
        this.records.set(rec.id, rec)
        continue
      }
      const pids = await this.store.readPids(rec.id)
      // Another live app process (e.g. a CLI `run start`) owns it: leave it alone. Its queued runs are
      // its own to start; a queued run of a dead owner is taken over.
      if (await this.ownedElsewhere(rec, pids)) {
        if (rec.state !== 'queued') this.foreign.set(rec.id, rec)
        continue
      }
      this.records.set(rec.id, rec)
      if (rec.state === 'queued') {
        if (rec.owner_pid !== process.pid) {
          rec.owner_pid = process.pid
          rec.owner_start_time = await this.selfStart
          await this.store.save(rec)
        }
        continue
      }
      await this.recoverCrashed(rec, pids)
    }
    this.terminal = await readTerminalSize(this.terminalFile)
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
    if (this.queue.length > 0 || this.foreign.size > 0) this.startPolling()
  }

  /** A run left active by a dead owner: what is left of it is killed, and it is recorded as failed. */
  private async recoverCrashed(rec: RunRecord, pids: PidsFile | null): Promise<void> {
    // Identity-checked: a recycled pid is never killed (the marker finds the run's own processes).
    if (pids) await killRun(targetOf(pids))
    await this.store.writePids(rec.id, null)
    Object.assign(rec, {
      state: 'failed',
      reason: 'The app exited while this run was training; the trainer was stopped.',
      ended_at: rec.ended_at ?? now(),
      pid: null,
    })
    await this.store.save(rec)
  }

  async whenReady(): Promise<void> {
    await this.ready
  }

  onUpdate(listener: (u: RunUpdate) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A run of this process finished or failed (for desktop and browser notifications). */
  onNotice(listener: (n: RunNotice) => void): () => void {
    this.noticeListeners.add(listener)
    return () => this.noticeListeners.delete(listener)
  }

  private publish(rec: RunRecord, events: RunEvent[] = []): void {
    const u = { run: structuredClone(rec), events }
    for (const l of this.listeners) l(u)
  }

  async list(): Promise<RunRecord[]> {
    return (await this.listAll()).runs
  }

  /**
   * Every run, newest first: ours from memory, those of other processes from disk, and the run folders
   * whose record is damaged or missing (named with the file), which never hide the others.
   */
  async listAll(): Promise<{ runs: RunRecord[]; unreadable: UnreadableRun[] }> {
    await this.ready
    const runs = new Map(this.records)
    const unreadable: UnreadableRun[] = []
    let names: string[] = []
    try {
      names = await fs.readdir(this.store.root)
    } catch {
      // no runs yet
    }
    for (const n of names) {
      if (!/^[\w-]+$/.test(n) || runs.has(n)) continue
      const r = await this.store.read(n)
      if (r && 'record' in r) runs.set(n, r.record)
      else if (r) unreadable.push(r.unreadable)
    }
    const sorted = [...runs.values()].sort((a, b) => b.created_at.localeCompare(a.created_at))
    unreadable.sort((a, b) => (b.modified_at ?? '').localeCompare(a.modified_at ?? ''))
    return { runs: sorted, unreadable }
  }

  async get(id: string): Promise<RunRecord> {
    await this.ready
    const mine = this.records.get(id)
    if (mine) return mine
    const r = await this.store.read(id)
    if (r && 'record' in r) return r.record
    if (r)
      throw new ApiError('domain', r.unreadable.message, {
        kind: 'run_record_unreadable',
        ...r.unreadable,
      })
    throw new ApiError('not_found', `No run with id ${id}. List runs with "run list".`)
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
    const derived = derivedFromCommand(input)
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
      display_command: displayCommand(input.command, process.platform === 'win32' ? 'windows' : 'posix'),
      cwd: input.cwd,
      env: input.env ?? {},
      gpus: input.gpus ?? null,
      ...derived,
      stop_on_failure: input.stop_on_failure ?? false,
      stop_requested: null,
      pid: null,
      // The process that queues a run starts it; another process takes it over only once this one is gone.
      owner_pid: process.pid,
      owner_start_time: await this.selfStart,
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
      segments: [],
      resume_from: null,
      step_offset: 0,
      saved_states: [],
      paused: false,
    }
    await this.store.create(rec)
    this.records.set(id, rec)
    this.queue.push(id)
    await this.saveQueue()
    this.publish(rec)
    this.schedule()
    this.startPolling()
    return structuredClone(rec)
  }

  async rerun(id: string): Promise<RunRecord> {
    const old = await this.get(id)
    return this.start(old.input, id)
  }

  /** A state folder the run saved (sd-scripts `--save_state`): Resume offers it. */
  private noteState(rec: RunRecord, e: Extract<RunEvent, { type: 'state_saved' }>): void {
    const folder = stateFolderOf(e, rec.output_dir, outputNameOf(rec))
    if (!folder) return
    const full = path.resolve(rec.cwd, folder)
    rec.saved_states = [...rec.saved_states.filter((f) => f !== full), full]
  }

  /**
   * The state a run resumes from by default: the newest of those it saved that still exists; else the
   * newest state folder in its output folder (a run made before the app listed its states, or a state
   * named by a config the app could not read).
   */
  private async newestState(rec: RunRecord): Promise<string | null> {
    for (const f of [...rec.saved_states].reverse()) if (await isDirectory(f)) return f
    if (!rec.output_dir) return null
    let names: string[]
    try {
      names = await fs.readdir(rec.output_dir)
    } catch {
      return null
    }
    let best: { dir: string; mtime: number } | null = null
    for (const n of names.filter(isStateFolderName)) {
      const dir = path.join(rec.output_dir, n)
      try {
        const st = await fs.stat(dir)
        if (st.isDirectory() && (!best || st.mtimeMs > best.mtime)) best = { dir, mtime: st.mtimeMs }
      } catch {
        // gone meanwhile
      }
    }
    return best?.dir ?? null
  }

  /**
   * Resumes an ended run from a saved state (sd-scripts `--resume`): the same command with `--resume
   * <state>`, queued as the next part of the same record. The part that ended is kept in `segments`;
   * progress, loss and samples go on in the same record.
   */
  async resume(id: string, state?: string): Promise<RunRecord> {
    await this.ready
    if (this.disposed)
      throw new ApiError('unavailable', 'The app is shutting down; resume the run after restart.')
    const rec = this.records.get(id) ?? (await this.get(id))
    if (!ENDED_STATES.includes(rec.state))
      throw new ApiError(
        'conflict',
        `Run ${rec.name} is ${rec.state}; only a stopped, failed or finished run can be resumed.`,
      )
    let folder: string | null
    if (state !== undefined) {
      folder = path.resolve(rec.output_dir ?? rec.cwd, state)
      if (!(await isDirectory(folder)))
        throw new ApiError(
          'not_found',
          `No saved state at ${folder}. Choose one of the state folders the run saved (named …-state in ${rec.output_dir ?? rec.cwd}).`,
          { kind: 'state_missing', path: folder },
        )
    } else folder = await this.newestState(rec)
    if (!folder)
      throw new ApiError(
        'domain',
        `Run ${rec.name} saved no training state to resume from${rec.output_dir ? ` (none in ${rec.output_dir})` : ''}. Turn on "save state" (save_state) with a save every N epochs or steps, and start the run again; it can then be resumed from its last save.`,
        { kind: 'no_saved_state' },
      )
    const step = await stateStep(folder)
    rec.segments.push({
      started_at: rec.started_at,
      ended_at: rec.ended_at,
      state: rec.state,
      reason: rec.reason,
      exit_code: rec.exit_code,
      command: rec.command,
      resume_from: rec.resume_from,
      last_step: rec.summary.last_step,
      last_avr_loss: rec.summary.last_avr_loss,
    })
    rec.command = resumeCommand(rec.input.command, folder)
    Object.assign(rec, {
      display_command: displayCommand(rec.command),
      resume_from: folder,
      // Without train_state.json (older sd-scripts), the step the run had reached.
      step_offset: step ?? rec.summary.last_step ?? 0,
      state: 'queued',
      reason: null,
      exit_code: null,
      started_at: null,
      ended_at: null,
      stop_requested: null,
      pid: null,
      failure: null,
      it_per_s: null,
      remaining_s: null,
      gpu_memory_mib: null,
      paused: false,
      owner_pid: process.pid,
      owner_start_time: await this.selfStart,
      summary: { ...rec.summary, error: null },
    } satisfies Partial<RunRecord>)
    await this.store.clearStopRequest(id)
    this.requestsHandled.delete(id)
    this.records.set(id, rec)
    await this.store.save(rec)
    this.queue.push(id)
    await this.saveQueue()
    this.publish(rec)
    this.schedule()
    this.startPolling()
    return structuredClone(rec)
  }

  /** Holds a queued run (it keeps its place; runs behind it may start) or lets it go again. */
  setPaused(id: string, paused: boolean): Promise<RunRecord> {
    return this.changeQueued(id, { paused })
  }

  /** Changes a queued run before it starts; the command is checked as at the start. */
  edit(change: QueueEdit): Promise<RunRecord> {
    return this.changeQueued(change.id, { edit: change })
  }

  /**
   * A change to a queued run. Ours: applied here. In the queue of another live process (the app, a
   * server, a CLI `run start`): asked of it through a request file, which it applies within a second.
   */
  private async changeQueued(id: string, change: QueueChange): Promise<RunRecord> {
    await this.ready
    const mine = this.records.get(id)
    if (mine && mine.state === 'queued' && this.queue.includes(id)) return this.applyQueueChange(mine, change)
    const rec = mine ?? (await this.get(id))
    if (rec.state !== 'queued')
      throw new ApiError('conflict', `Run ${rec.name} is ${rec.state}, no longer queued.`)
    if (!(await this.ownedElsewhere(rec, null)))
      throw new ApiError(
        'conflict',
        `Run ${rec.name} is queued by an SDXL Studio process that is gone; it is taken over when the app starts again.`,
      )
    await this.store.writeQueueRequest(id, { ...change, by_pid: process.pid, at: now() })
    for (let waited = 0; waited < OWNER_WAIT_MS; waited += 200) {
      await sleep(200)
      const left = await this.store.readQueueRequest(id)
      if (!left) return (await this.store.load(id)) ?? rec
      if (left.error) {
        await this.store.clearQueueRequest(id)
        throw new ApiError('bad_request', left.error)
      }
    }
    await this.store.clearQueueRequest(id)
    throw new ApiError(
      'unavailable',
      `The SDXL Studio process that holds run ${rec.name} in its queue (pid ${rec.owner_pid ?? '?'}) did not answer. Try again, or change it there.`,
    )
  }

  private async applyQueueChange(rec: RunRecord, change: QueueChange): Promise<RunRecord> {
    if (change.paused !== undefined) rec.paused = change.paused
    const e = change.edit
    if (e) {
      const input = RunStartInput.parse({
        ...rec.input,
        ...(e.command ? { command: e.command } : {}),
        ...(e.gpus ? { gpus: e.gpus } : {}),
        ...(e.stop_on_failure !== undefined ? { stop_on_failure: e.stop_on_failure } : {}),
        ...(e.name ? { name: e.name } : {}),
      })
      if (e.command) {
        const env = buildRunEnv(this.options.env, { gpus: input.gpus, extra: input.env })
        resolveProgram(input.command[0] as string, input.cwd, env)
      }
      // A resumed part keeps resuming from its state, whatever the new command says.
      const command = rec.resume_from ? resumeCommand(input.command, rec.resume_from) : input.command
      Object.assign(rec, {
        input,
        name: input.name ?? rec.name,
        command,
        display_command: displayCommand(command),
        gpus: input.gpus ?? null,
        stop_on_failure: input.stop_on_failure ?? false,
        ...derivedFromCommand(input),
      } satisfies Partial<RunRecord>)
    }
    await this.store.save(rec)
    this.publish(rec)
    this.schedule()
    return structuredClone(rec)
  }

  private conflicts(a: RunRecord, b: RunRecord): boolean {
    if (!a.gpus || !b.gpus || a.gpus.length === 0 || b.gpus.length === 0) return true
    return a.gpus.some((g) => (b.gpus as number[]).includes(g))
  }

  /** Starts every queued run whose GPUs are free, in queue order. */
  private schedule(): void {
    if (this.disposed || this.queueHeld) return
    const active = [...this.records.values(), ...this.foreign.values()].filter((r) =>
      ACTIVE_STATES.includes(r.state),
    )
    const waiting: RunRecord[] = []
    for (const id of [...this.queue]) {
      const rec = this.records.get(id)
      if (!rec || rec.state !== 'queued') {
        this.queue = this.queue.filter((q) => q !== id)
        continue
      }
      // A paused run keeps its place and holds nothing: runs behind it may start.
      if (rec.paused) continue
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
    rec.owner_start_time = await this.selfStart
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
      // Every process of the run inherits it, so a stop finds even those that left its session.
      env[RUN_MARKER_VARIABLE] = rec.id
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
          marker: runMarker(rec.id),
          ...(this.terminal ?? {}),
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
      // A resumed run goes on from its earlier parts (steps, loss, checkpoints).
      reducer: rec.segments.length ? SummaryReducer.from(rec.summary) : new SummaryReducer(),
      pending: [],
      lastTrainStep: null,
      stepFrame: null,
      pendingFrameAt: -1,
      savedSinceStop: false,
      sampleTimer: null,
      gpuTimer: null,
      updateTimer: null,
      saveTimer: null,
      lastSave: 0,
      target: await proc.target(),
    }
    this.live.set(rec.id, live)
    rec.pid = proc.pid
    rec.state = rec.stop_requested === 'now' ? 'stopping' : 'running'
    const selfStart = await this.selfStart
    const watchdog =
      this.options.watchdog === false ? null : startWatchdog(process.pid, selfStart, live.target)
    await this.store.writePids(rec.id, {
      pid: proc.pid,
      start_time: live.target.startTime,
      owner_pid: process.pid,
      owner_start_time: selfStart,
      watchdog_pid: watchdog,
      marker: live.target.marker,
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
    if (rec.stop_requested === 'now') proc.interrupt(await this.graceMs())
    const exit = await proc.exited
    // `run stop` from another process leaves a note before it interrupts the group.
    if (!rec.stop_requested && (await this.store.readStopRequest(rec.id))?.mode === 'now')
      rec.stop_requested = 'now'
    if (live.gpuTimer) clearInterval(live.gpuTimer)
    if (live.sampleTimer) clearInterval(live.sampleTimer)
    if (live.updateTimer) clearTimeout(live.updateTimer)
    if (live.saveTimer) clearTimeout(live.saveTimer)
    // The final step's last frame (its final loss) has no next step to flush it.
    if (live.stepFrame) this.store.appendEvents(rec.id, [live.stepFrame])
    live.stepFrame = null
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
    const notice = runNotice(rec)
    if (notice) for (const l of this.noticeListeners) l(notice)
    if (end.state === 'failed' && rec.stop_on_failure) this.queueHeld = rec.id
    this.schedule()
  }

  private onEvents(rec: RunRecord, events: RunEvent[]): void {
    const live = this.live.get(rec.id)
    const keep: RunEvent[] = []
    let checkpointDone = false
    for (const raw of events) {
      // A resumed part counts its steps from 0: they go on from where its state was saved.
      const e =
        raw.type === 'progress' && rec.step_offset > 0
          ? joinProgress(raw, rec.step_offset, rec.summary.total_steps)
          : raw
      live?.reducer.add(e)
      if (e.type === 'state_saved') this.noteState(rec, e)
      if (e.type === 'progress') {
        if (e.bar === 'train') {
          rec.it_per_s = e.it_per_s
          rec.remaining_s = e.remaining_s
          if (live) {
            // One frame per step goes to events.jsonl (a redraw storm must not fill the disk): the step's
            // last, which carries its own avr_loss (the first still shows the previous step's).
            const newStep = live.lastTrainStep !== e.step
            if (newStep && live.stepFrame) keep.push(live.stepFrame)
            live.stepFrame = e
            live.lastTrainStep = e.step
            // Subscribers see the step's latest frame, once per update (replaced in place: a fast
            // trainer sends thousands of frames between two updates).
            if (!newStep && live.pendingFrameAt >= 0) live.pending[live.pendingFrameAt] = e
            else live.pendingFrameAt = live.pending.push(e) - 1
            if (newStep && live.savedSinceStop) checkpointDone = true
            continue
          }
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
      live.pending.push(...keep.filter((e) => e.type !== 'progress'))
      this.saveSoon(rec, live)
      if (!live.updateTimer) live.updateTimer = setTimeout(() => this.flushUpdate(rec), UPDATE_EVERY_MS)
      // "Stop after the next saved checkpoint": the save is done once training output resumes.
      if (checkpointDone && rec.state === 'running') {
        rec.state = 'stopping'
        rec.reason = `Stopping after saving ${rec.summary.saved_checkpoints.at(-1) ?? 'a checkpoint'}.`
        void this.graceMs().then((graceMs) => live.proc.interrupt(graceMs))
        void this.store.save(rec)
      }
    }
  }

  /**
   * Saves the record at most once a second while it trains; a change within that second is saved at its
   * end, so another process reading the record (`run list` in another shell) sees the last step too.
   */
  private saveSoon(rec: RunRecord, live: Live): void {
    const wait = live.lastSave + SAVE_EVERY_MS - Date.now()
    if (wait <= 0) {
      live.lastSave = Date.now()
      void this.store.save(rec)
    } else if (!live.saveTimer) {
      live.saveTimer = setTimeout(() => {
        live.saveTimer = null
        if (!live.proc.done) this.saveSoon(rec, live)
      }, wait)
    }
  }

  private flushUpdate(rec: RunRecord): void {
    const live = this.live.get(rec.id)
    if (!live) return
    if (live.updateTimer) clearTimeout(live.updateTimer)
    live.updateTimer = null
    const events = live.pending
    live.pending = []
    live.pendingFrameAt = -1
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
    const pids = new Set([live.proc.pid, ...(await runProcesses(live.target))])
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
    // From the run's first start: the memory chart of a resumed run goes on across its parts.
    const first = rec.segments[0]?.started_at ?? rec.started_at
    const started = first ? Date.parse(first) : Date.now()
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

  private async graceMs(): Promise<number> {
    if (this.options.graceMs !== undefined) return this.options.graceMs
    try {
      return (await this.options.stopGraceMs?.()) ?? DEFAULT_GRACE_MS
    } catch {
      // Unreadable settings must not keep a run from stopping.
      return DEFAULT_GRACE_MS
    }
  }

  /**
   * Stops a run. Queued: it leaves the queue. Running here: Ctrl-C to the trainer's group, then a kill
   * of everything of the run after the grace period (returns at once, state "stopping"). Run by another
   * process: the same from here (see stopElsewhere), waiting for the end. `after_checkpoint` arms a
   * stop once the next checkpoint is saved.
   */
  async stop(id: string, mode: StopMode = 'now', options: { graceMs?: number } = {}): Promise<StopResult> {
    const rec = await this.get(id)
    if (ENDED_STATES.includes(rec.state)) return { run: rec, actions: [] }
    if (mode === 'after_checkpoint' && !rec.save_configured) {
      throw new ApiError(
        'bad_request',
        'This run saves no checkpoints before the end (no --save_every_n_epochs / --save_every_n_steps), so "stop after the next checkpoint" would never stop. Stop now instead (nothing is saved), or let it finish.',
      )
    }
    const graceMs = options.graceMs ?? (await this.graceMs())
    if (rec.state === 'queued' && this.queue.includes(id)) {
      this.queue = this.queue.filter((q) => q !== id)
      await this.finish(rec, {
        state: 'stopped',
        reason: 'Removed from the queue before it started.',
        exit: null,
      })
      return { run: structuredClone(rec), actions: [{ kind: 'removed_from_queue' }] }
    }
    const live = this.live.get(id)
    if (!live) return this.stopElsewhere(rec, mode, graceMs)
    return { run: structuredClone(rec), actions: await this.stopLive(rec, live, mode, graceMs, true) }
  }

  private async stopLive(
    rec: RunRecord,
    live: Live,
    mode: StopMode,
    graceMs: number,
    signal: boolean,
  ): Promise<StopAction[]> {
    const actions: StopAction[] = []
    if (mode === 'now') {
      rec.stop_requested = 'now'
      rec.state = 'stopping'
      live.proc.interrupt(graceMs, signal)
      actions.push(
        { kind: 'interrupted', pid: live.proc.pid },
        { kind: 'kill_scheduled', after_s: graceMs / 1000 },
      )
    } else {
      rec.stop_requested ??= mode
      actions.push({ kind: 'waiting_for_checkpoint' })
    }
    await this.store.save(rec)
    this.publish(rec)
    return actions
  }

  /**
   * `run stop` for a run that another process (the app, a headless server, a CLI `run start`) runs.
   * It leaves a stop request in the run folder, which the owner acts on within a second (it writes
   * Ctrl-C to the console on Windows, arms "after checkpoint", drops a queued run, and records the end).
   * For "now" it does not rely on the owner: on Unix it sends SIGINT to the trainer's group itself,
   * waits the grace period, then kills every process of the run (pid + start time checked first), and
   * records the end itself when the owner is gone.
   */
  private async stopElsewhere(rec: RunRecord, mode: StopMode, graceMs: number): Promise<StopResult> {
    const id = rec.id
    const actions: StopAction[] = []
    let pids = await this.store.readPids(id)
    const ownerAlive = await this.ownedElsewhere(rec, pids)
    // The request file also tells the owner to record the end as a stop; it is reported as an action
    // where the owner has to act (a queued run, after checkpoint, Ctrl-C on Windows).
    const ask = async (report: boolean) => {
      await this.store.writeStopRequest(id, { mode, by_pid: process.pid, grace_ms: graceMs, at: now() })
      if (report && ownerAlive && rec.owner_pid !== null)
        actions.push({ kind: 'asked_owner', owner_pid: rec.owner_pid })
    }
    if (mode === 'after_checkpoint') {
      if (!ownerAlive)
        throw new ApiError(
          'conflict',
          `Run ${id} is ${rec.state} but the process that ran it is gone, so it cannot stop after a checkpoint. Stop it now.`,
        )
      await ask(true)
      actions.push({ kind: 'waiting_for_checkpoint' })
      return { run: rec, actions }
    }
    await ask(rec.state === 'queued' || process.platform === 'win32')
    if (rec.state === 'queued') {
      const ended = ownerAlive ? await this.waitForRecordEnd(id, OWNER_WAIT_MS) : null
      if (ended) return { run: ended, actions: [...actions, { kind: 'removed_from_queue' }] }
      if (ownerAlive) return { run: (await this.store.load(id)) ?? rec, actions }
      return {
        run: await this.recordEnd(rec, 'Removed from the queue before it started.'),
        actions: [{ kind: 'removed_from_queue' }],
      }
    }
    // A run that is starting has no pid file yet: give its owner a moment to write it.
    for (let waited = 0; !pids && ownerAlive && waited < OWNER_WAIT_MS; waited += 200) {
      await sleep(200)
      pids = await this.store.readPids(id)
    }
    const target = pids ? targetOf(pids) : null
    if (!target || !(await runAlive(target))) {
      const ended = ownerAlive ? await this.waitForRecordEnd(id, OWNER_WAIT_MS) : null
      if (ended) return { run: ended, actions }
      if (ownerAlive)
        throw new ApiError(
          'conflict',
          `Run ${id} is ${rec.state} but no process of it is alive yet. Try again.`,
        )
      actions.push({ kind: 'nothing_alive' })
      return { run: await this.recordEnd(rec), actions }
    }
    const started = Date.now()
    const elapsed = () => Math.round((Date.now() - started) / 100) / 10
    if (process.platform !== 'win32') {
      if (await isSameProcess(target.pid, target.startTime)) signalGroup(target.pid, 'SIGINT')
      actions.push({ kind: 'interrupted', pid: target.pid })
    }
    // Windows: only the owner can write Ctrl-C to the trainer's console; without an owner, kill at once.
    const wait = process.platform === 'win32' && !ownerAlive ? 0 : graceMs
    let alive = true
    while (alive && Date.now() - started < wait) {
      await sleep(Math.min(250, wait))
      alive = await runAlive(target)
    }
    const killed = alive ? await killRun(target) : []
    // (Nothing left to kill: it ended between the last look and the kill.)
    if (killed.length) actions.push({ kind: 'killed', after_s: elapsed(), pids: killed })
    else actions.push({ kind: 'ended', after_s: elapsed() })
    if (ownerAlive) {
      // The owner records the end (as a stop: the request file says so); a slow one is not overwritten.
      const ended = await this.waitForRecordEnd(id, OWNER_WAIT_MS)
      return { run: ended ?? (await this.store.load(id)) ?? rec, actions }
    }
    // The owner is gone: the record is ours to close.
    return { run: await this.recordEnd(rec), actions }
  }

  /** Polls the record on disk until another process records the run's end; null if it does not in time. */
  private async waitForRecordEnd(id: string, ms: number): Promise<RunRecord | null> {
    for (let waited = 0; waited <= ms; waited += 200) {
      const r = await this.store.load(id)
      if (r && ENDED_STATES.includes(r.state)) return r
      await sleep(200)
    }
    return null
  }

  /** Records the end of a run whose owner is gone, as its owner would have. */
  private async recordEnd(rec: RunRecord, reason?: string): Promise<RunRecord> {
    const latest = (await this.store.load(rec.id)) ?? rec
    if (ENDED_STATES.includes(latest.state)) return latest
    Object.assign(latest, {
      state: 'stopped',
      stop_requested: 'now',
      reason:
        reason ??
        'Stopped by the user. sd-scripts saves nothing when interrupted; only checkpoints already saved remain.',
      ended_at: now(),
      pid: null,
      gpu_memory_mib: null,
    } satisfies Partial<RunRecord>)
    await this.store.writePids(rec.id, null)
    await this.store.save(latest)
    this.records.set(latest.id, latest)
    this.publish(latest)
    return structuredClone(latest)
  }

  /**
   * While this process owns runs (queued or live), it looks for stop requests other processes left for
   * them (see stopElsewhere). The timer does not keep a CLI process alive.
   */
  private startPolling(): void {
    if (this.requestTimer || this.disposed) return
    let busy = false
    this.requestTimer = setInterval(() => {
      if (busy) return
      busy = true
      void Promise.all([this.checkForeign(), this.checkRequests()]).finally(() => {
        busy = false
        // A run waiting for another process's GPU keeps this process (e.g. a CLI `run start`) alive.
        if (this.queue.length > 0) this.requestTimer?.ref()
        else this.requestTimer?.unref()
      })
    }, this.options.requestPollMs ?? 1000)
    this.requestTimer.unref()
  }

  /** Other processes' runs that ended free their GPUs; one whose owner died is recovered here. */
  private async checkForeign(): Promise<void> {
    let freed = false
    for (const [id, old] of this.foreign) {
      const rec = await this.store.load(id)
      const pids = await this.store.readPids(id)
      if (rec && ACTIVE_STATES.includes(rec.state) && (await this.ownedElsewhere(rec, pids))) {
        this.foreign.set(id, rec)
        continue
      }
      this.foreign.delete(id)
      freed = true
      // Its owner died without recording the end (its watchdog has killed the trainer meanwhile).
      if (rec && ACTIVE_STATES.includes(rec.state) && rec.owner_pid === old.owner_pid) {
        this.records.set(id, rec)
        await this.recoverCrashed(rec, pids)
        this.publish(rec)
      }
    }
    if (freed) this.schedule()
  }

  private async checkRequests(): Promise<void> {
    for (const id of [...this.queue]) {
      const change = await this.store.readQueueRequest(id)
      const rec = this.records.get(id)
      if (!change || change.error || !rec || rec.state !== 'queued') continue
      try {
        await this.applyQueueChange(rec, change)
        await this.store.clearQueueRequest(id)
      } catch (error) {
        await this.store.writeQueueRequest(id, { ...change, error: (error as Error).message })
      }
    }
    const owned = [...this.queue, ...this.live.keys()].filter((id) => !this.requestsHandled.has(id))
    for (const id of owned) {
      const request = await this.store.readStopRequest(id)
      if (!request || this.requestsHandled.has(id)) continue
      this.requestsHandled.add(id)
      const rec = this.records.get(id)
      const live = this.live.get(id)
      if (!rec) continue
      if (rec.state === 'queued' && this.queue.includes(id)) {
        await this.stop(id, 'now').catch(() => undefined)
      } else if (live) {
        // Unix: the requester has sent SIGINT itself; Windows: only we can write Ctrl-C to the console.
        // The requester kills after the grace period and reports it; our own kill comes later, only in
        // case the requester is gone by then.
        const backupMs = request.grace_ms + OWNER_WAIT_MS
        await this.stopLive(rec, live, request.mode, backupMs, process.platform === 'win32')
      }
    }
  }

  async delete(id: string): Promise<void> {
    await this.ready
    const found = this.records.get(id) ? null : await this.store.read(id)
    if (found && 'unreadable' in found) {
      // A damaged record can still belong to a live run: its pid file says so.
      const pids = await this.store.readPids(id)
      if (pids && (await runAlive(targetOf(pids))))
        throw new ApiError(
          'conflict',
          `Run ${id} still has live processes (pid ${pids.pid}) although its record is damaged. Stop them first.`,
        )
      await this.store.remove(id)
      return
    }
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

  /**
   * The viewer's terminal size. Rich and tqdm lay out their lines for the pty's width when they print
   * (tqdm fixes a bar's width when the bar starts), so a pty wider than the viewer's terminal makes it
   * wrap log lines and repeat bars on new lines. The running pty follows the viewer, and the size is
   * kept (also on disk) so runs started later begin at the width they will be shown at.
   */
  async resize(id: string, cols: number, rows: number): Promise<void> {
    const rec = await this.get(id)
    if (ENDED_STATES.includes(rec.state))
      throw new ApiError('conflict', `Run ${id} has ended; its terminal cannot be resized.`)
    const size = { cols: Math.round(cols), rows: Math.round(rows) }
    this.live.get(id)?.proc.resize(size.cols, size.rows)
    if (this.terminal?.cols === size.cols && this.terminal.rows === size.rows) return
    this.terminal = size
    await fs.mkdir(this.store.root, { recursive: true })
    await writeJsonAtomic(this.terminalFile, size).catch(() => undefined)
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
    if (this.requestTimer) clearInterval(this.requestTimer)
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
