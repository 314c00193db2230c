import path from 'node:path'
import { RecentLists, type RecentKind } from '../../../core/api/domains/desktop'
import { readJsonFile, writeJsonAtomic } from '../store/atomic'

/** How many entries each list keeps: enough for a menu, short enough to scan. */
export const RECENT_LIMIT = 10

const EMPTY: RecentLists = { configs: [], folders: [] }

/** Windows paths compare without case and with either separator; elsewhere they compare as written. */
export function samePath(a: string, b: string, platform: string = process.platform): boolean {
  if (platform !== 'win32') return path.posix.normalize(a) === path.posix.normalize(b)
  const norm = (p: string) =>
    path.win32
      .normalize(p)
      .replace(/[\\/]+$/, '')
      .toLowerCase()
  return norm(a) === norm(b)
}

function listOf(lists: RecentLists, kind: RecentKind) {
  return kind === 'config' ? lists.configs : lists.folders
}

/**
 * Recently opened configs and image folders (<dataDir>/recent.json), newest first, at most RECENT_LIMIT
 * each. Writes are atomic and serialised, so a crash never leaves half a file and two quick opens never
 * lose one another; an unreadable file is treated as empty lists (recent entries are a convenience).
 */
export class RecentStore {
  readonly file: string
  private queue: Promise<unknown> = Promise.resolve()
  private readonly listeners = new Set<(lists: RecentLists) => void>()

  constructor(
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
    private readonly platform: string = process.platform,
  ) {
    this.file = path.join(dataDir, 'recent.json')
  }

  async get(): Promise<RecentLists> {
    try {
      return await readJsonFile(this.file, RecentLists, () => structuredClone(EMPTY))
    } catch {
      return structuredClone(EMPTY)
    }
  }

  private update(change: (lists: RecentLists) => void): Promise<RecentLists> {
    const next = this.queue.then(async () => {
      const lists = await this.get()
      change(lists)
      lists.configs = lists.configs.slice(0, RECENT_LIMIT)
      lists.folders = lists.folders.slice(0, RECENT_LIMIT)
      await writeJsonAtomic(this.file, RecentLists.parse(lists))
      for (const l of this.listeners) l(structuredClone(lists))
      return lists
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Called after every change is on disk (the desktop app rebuilds its menu). */
  onChange(listener: (lists: RecentLists) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  add(kind: RecentKind, p: string): Promise<RecentLists> {
    return this.update((lists) => {
      const rest = listOf(lists, kind).filter((e) => !samePath(e.path, p, this.platform))
      const entry = { path: p, at: this.now().toISOString() }
      if (kind === 'config') lists.configs = [entry, ...rest]
      else lists.folders = [entry, ...rest]
    })
  }

  remove(kind: RecentKind, p: string): Promise<RecentLists> {
    return this.update((lists) => {
      const rest = listOf(lists, kind).filter((e) => !samePath(e.path, p, this.platform))
      if (kind === 'config') lists.configs = rest
      else lists.folders = rest
    })
  }

  clear(kind?: RecentKind): Promise<RecentLists> {
    return this.update((lists) => {
      if (!kind || kind === 'config') lists.configs = []
      if (!kind || kind === 'folder') lists.folders = []
    })
  }
}
