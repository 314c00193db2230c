import { appendFileSync, promises as fs, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { RunEvent } from '../../../core/runs/events'
import { RunRecord } from '../../../core/runs/record'
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../store/atomic'

/** The processes of a live run, so the next start can kill what a crash left behind. */
export const PidsFile = z.object({
  pid: z.number().int(),
  /** Linux start time of `pid`; a pid with another start time is a recycled, unrelated process. */
  start_time: z.string().nullable(),
  owner_pid: z.number().int(),
  /** Linux start time of the owner, so a recycled owner pid does not pass for a live app. */
  owner_start_time: z.string().nullable().default(null),
  watchdog_pid: z.number().int().nullable(),
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
} as const

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
    try {
      return await readJsonFile(this.file(id, 'record'), RunRecord, () => null as unknown as RunRecord)
    } catch {
      return null
    }
  }

  async list(): Promise<RunRecord[]> {
    let names: string[] = []
    try {
      names = await fs.readdir(this.root)
    } catch {
      return []
    }
    const out: RunRecord[] = []
    for (const n of names) {
      if (!/^[\w-]+$/.test(n)) continue
      const r = await this.load(n)
      if (r) out.push(r)
    }
    return out.sort((a, b) => a.created_at.localeCompare(b.created_at))
  }

  async remove(id: string): Promise<void> {
    await this.flush()
    await fs.rm(this.dir(id), { recursive: true, force: true })
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
    else await fs.rm(this.file(id, 'pids'), { force: true })
  }

  async readPids(id: string): Promise<PidsFile | null> {
    try {
      return await readJsonFile(this.file(id, 'pids'), PidsFile, () => null as unknown as PidsFile)
    } catch {
      return null
    }
  }
}
