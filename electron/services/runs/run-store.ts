import { appendFileSync, promises as fs, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { RunEvent } from '../../../core/runs/events'
import { QueueEdit } from '../../../core/api/domains/runs'
import { RunRecord, type UnreadableRun } from '../../../core/runs/record'
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../store/atomic'
import { removeWithRetry } from '../store/fs-retry'
import { readRegularFile } from '../store/regular-file'

/** The processes of a live run, so the next start can kill what a crash left behind. */
export const PidsFile = z.object({
  pid: z.number().int(),
  /** Start time of `pid` (process-identity.ts); a pid with another start time is a recycled, unrelated process. */
  start_time: z.string().nullable(),
  owner_pid: z.number().int(),
  /** Start time of the owner, so a recycled owner pid does not pass for a live app. */
  owner_start_time: z.string().nullable().default(null),
  watchdog_pid: z.number().int().nullable(),
  /** `SDXL_STUDIO_RUN_ID=<id>` in the run's environment (run-processes-linux.ts); absent in older files. */
  marker: z.string().nullable().default(null),
})
export type PidsFile = z.infer<typeof PidsFile>

export const RUN_FILES = {
  record: 'summary.json',
  command: 'command.json',
  commandText: 'command.txt',
  config: 'config.json',
  dataset: 'dataset.toml',
  log: 'console.log',
  events: 'events.jsonl',
  pids: 'pids.json',
  stopRequest: 'stop-request',
  queueRequest: 'queue-request.json',
} as const

/** A run folder younger than this with no record yet may be one that another process is creating. */
const CREATING_MS = 60_000

/**
 * `run stop` from another process: what it asks of the process that owns the run (which looks for
 * this file while it runs or queues the run). Older versions wrote only a pid: that reads as "now".
 */
export const StopRequest = z.object({
  mode: z.enum(['now', 'after_checkpoint']),
  by_pid: z.number().int(),
  grace_ms: z.number().nonnegative(),
  at: z.string(),
})
export type StopRequest = z.infer<typeof StopRequest>

/**
 * A change to a queued run asked by another process (`queue pause` / `queue edit` in another shell):
 * the process whose queue holds the run applies it within a second and removes the file, or writes
 * back why it could not (`error`).
 */
export const QueueRequest = z.object({
  paused: z.boolean().optional(),
  edit: QueueEdit.optional(),
  by_pid: z.number().int(),
  at: z.string(),
  error: z.string().optional(),
})
export type QueueRequest = z.infer<typeof QueueRequest>

/**
 * One folder per run under <dataDir>/runs/<id>/. JSON documents are written atomically; the log and
 * the events are append-only (a torn last line after a crash is skipped when read).
 */
export class RunStore {
  readonly root: string
  private writes = new Map<string, Promise<void>>()
  private latest = new Map<string, RunRecord>()

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'runs')
  }

  dir(id: string): string {
    if (!/^[\w-]+$/.test(id)) throw new Error(`Invalid run id: ${id}`)
    return path.join(this.root, id)
  }

  file(id: string, name: keyof typeof RUN_FILES): string {
    return path.join(this.dir(id), RUN_FILES[name])
  }

  async create(record: RunRecord): Promise<void> {
    const dir = this.dir(record.id)
    await fs.mkdir(dir, { recursive: true })
    await writeJsonAtomic(this.file(record.id, 'command'), record.command)
    await writeFileAtomic(this.file(record.id, 'commandText'), `${record.display_command}\n`)
    if (record.input.config !== undefined)
      await writeJsonAtomic(this.file(record.id, 'config'), record.input.config)
    if (record.input.dataset_toml !== undefined)
      await writeFileAtomic(this.file(record.id, 'dataset'), record.input.dataset_toml)
    await this.save(record)
  }

  /** Atomic; saves are serialised per run and coalesced (only the newest waiting record is written). */
  save(record: RunRecord): Promise<void> {
    const id = record.id
    this.latest.set(id, structuredClone(record))
    const running = this.writes.get(id)
    if (running) return running
    const loop = (async () => {
      while (this.latest.has(id)) {
        const rec = this.latest.get(id) as RunRecord
        this.latest.delete(id)
        await writeJsonAtomic(this.file(id, 'record'), rec).catch(() => undefined)
      }
    })().finally(() => this.writes.delete(id))
    this.writes.set(id, loop)
    return loop
  }

  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes.values()])
  }

  async load(id: string): Promise<RunRecord | null> {
    const r = await this.read(id)
    return r && 'record' in r ? r.record : null
  }

  /** One run's record, or what is wrong with it. */
  async read(
    id: string,
    now = Date.now(),
  ): Promise<{ record: RunRecord } | { unreadable: UnreadableRun } | null> {
    const file = this.file(id, 'record')
    let text: string
    try {
      text = (await readRegularFile(file)).toString('utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      let modified: number | null = null
      try {
        modified = (await fs.stat(this.dir(id))).mtimeMs
      } catch {
        return null // no such run
      }
      // A folder without its record: a run being created right now, or one whose creation crashed.
      if (code === 'ENOENT' && now - modified < CREATING_MS) return null
      return {
        unreadable: {
          id,
          file,
          problem: code === 'ENOENT' ? 'missing' : 'unreadable',
          modified_at: new Date(modified).toISOString(),
          message:
            code === 'ENOENT'
              ? `Run folder ${this.dir(id)} has no record (summary.json). Delete the run, or restore the file.`
              : `Cannot read ${file}: ${(error as Error).message}.`,
        },
      }
    }
    const damaged = async (problem: 'invalid_json' | 'unexpected_content', message: string) => ({
      unreadable: {
        id,
        file,
        problem,
        modified_at: await fs.stat(file).then(
          (st) => new Date(st.mtimeMs).toISOString(),
          () => null,
        ),
        message,
      },
    })
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      return damaged(
        'invalid_json',
        `Run record is not valid JSON: ${file}. Delete the run, or fix the file.`,
      )
    }
    const parsed = RunRecord.safeParse(raw)
    if (!parsed.success || parsed.data.id !== id)
      return damaged(
        'unexpected_content',
        `Run record has unexpected content: ${file}. Delete the run, or fix the file.`,
      )
    return { record: parsed.data }
  }

  /**
   * Every run folder: the records that read, oldest first, and the folders whose record is damaged or
   * missing (each named with its file, so one bad file never hides the others).
   */
  async scan(): Promise<{ records: RunRecord[]; unreadable: UnreadableRun[] }> {
    let names: string[] = []
    try {
      names = await fs.readdir(this.root)
    } catch {
      return { records: [], unreadable: [] }
    }
    const records: RunRecord[] = []
    const unreadable: UnreadableRun[] = []
    for (const n of names) {
      if (!/^[\w-]+$/.test(n)) continue
      const r = await this.read(n)
      if (r && 'record' in r) records.push(r.record)
      else if (r) unreadable.push(r.unreadable)
    }
    records.sort((a, b) => a.created_at.localeCompare(b.created_at))
    return { records, unreadable }
  }

  async list(): Promise<RunRecord[]> {
    return (await this.scan()).records
  }

  /** The command a run folder recorded (command.json), even when its record is damaged; null if none. */
  async command(id: string): Promise<string[] | null> {
    try {
      return await readJsonFile(
        this.file(id, 'command'),
        z.array(z.string()),
        () => null as unknown as string[],
      )
    } catch {
      return null
    }
  }

  async remove(id: string): Promise<void> {
    await this.flush()
    await removeWithRetry(this.dir(id), { recursive: true })
  }

  private eventBytes = new Map<string, number>()

  /**
   * Appends events as JSON lines. Bounded: past `maxEventBytes` progress frames are no longer kept
   * (the loss curve already has plenty of points); everything else still is.
   */
  appendEvents(id: string, events: RunEvent[], maxEventBytes = 64 * 1024 * 1024): void {
    if (events.length === 0) return
    let size = this.eventBytes.get(id)
    if (size === undefined) {
      try {
        size = statSync(this.file(id, 'events')).size
      } catch {
        size = 0
      }
    }
    const keep = size > maxEventBytes ? events.filter((e) => e.type !== 'progress') : events
    if (keep.length === 0) return
    const text = keep.map((e) => `${JSON.stringify(e)}\n`).join('')
    appendFileSync(this.file(id, 'events'), text)
    this.eventBytes.set(id, size + Buffer.byteLength(text))
  }

  readEvents(id: string): RunEvent[] {
    let text = ''
    try {
      text = readFileSync(this.file(id, 'events'), 'utf8')
    } catch {
      return []
    }
    const out: RunEvent[] = []
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const parsed = RunEvent.safeParse(JSON.parse(line))
        if (parsed.success) out.push(parsed.data)
      } catch {
        // a torn last line from a crash
      }
    }
    return out
  }

  async writePids(id: string, pids: PidsFile | null): Promise<void> {
    if (pids) await writeJsonAtomic(this.file(id, 'pids'), pids)
    else await removeWithRetry(this.file(id, 'pids'))
  }

  async writeStopRequest(id: string, request: StopRequest): Promise<void> {
    await writeJsonAtomic(this.file(id, 'stopRequest'), request)
  }

  async writeQueueRequest(id: string, request: QueueRequest): Promise<void> {
    await writeJsonAtomic(this.file(id, 'queueRequest'), request)
  }

  /** The queue change waiting for this run; null when none (or it cannot be read). */
  async readQueueRequest(id: string): Promise<QueueRequest | null> {
    return readJsonFile(this.file(id, 'queueRequest'), QueueRequest.nullable(), () => null).catch(() => null)
  }

  async clearQueueRequest(id: string): Promise<void> {
    await removeWithRetry(this.file(id, 'queueRequest'))
  }

  /** A resumed run starts clean: a stop request of its earlier part must not stop the next one. */
  async clearStopRequest(id: string): Promise<void> {
    await removeWithRetry(this.file(id, 'stopRequest'))
  }

  /** The stop request another process left for this run, if any (an old pid-only file reads as "now"). */
  async readStopRequest(id: string): Promise<StopRequest | null> {
    let text: string
    try {
      text = await fs.readFile(this.file(id, 'stopRequest'), 'utf8')
    } catch {
      return null
    }
    try {
      return StopRequest.parse(JSON.parse(text))
    } catch {
      return { mode: 'now', by_pid: Number.parseInt(text, 10) || 0, grace_ms: 10_000, at: '' }
    }
  }

  async readPids(id: string): Promise<PidsFile | null> {
    try {
      return await readJsonFile(this.file(id, 'pids'), PidsFile, () => null as unknown as PidsFile)
    } catch {
      return null
    }
  }
}
