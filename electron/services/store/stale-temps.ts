import { promises as fs } from 'node:fs'
import path from 'node:path'
import { TEMP_FILE_PATTERN } from './atomic'
import { removeWithRetry } from './fs-retry'

/** Folders of the data folder that hold no atomic writes of ours and may be large (caches, venvs, sources). */
const SKIP = new Set(['cache', 'python', 'venv', 'sd-scripts', 'node_modules', '.git', 'site-packages'])

export interface StaleTempOptions {
  /** How deep below `root` to look (root's own files are depth 0). */
  maxDepth?: number
  now?: number
  /** A temp file this old is removed even if its writer's pid is alive (that pid was reused). */
  maxAgeMs?: number
  /** Younger than this, a temp file may be a write in progress of another process: left alone. */
  minAgeMs?: number
  isAlive?: (pid: number) => boolean
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the temporary files that atomic writes left behind when their process died between writing
 * and renaming (kill -9, power loss). Only our own name pattern, only old ones: older than a minute
 * with its writer gone, or older than an hour whatever the pid says. Gives the removed paths.
 */
export async function cleanStaleTemps(root: string, options: StaleTempOptions = {}): Promise<string[]> {
  const now = options.now ?? Date.now()
  const maxDepth = options.maxDepth ?? 3
  const minAge = options.minAgeMs ?? 60_000
  const maxAge = options.maxAgeMs ?? 60 * 60_000
  const alive = options.isAlive ?? pidAlive
  const removed: string[] = []
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries
    try {
      entries = await fs.readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const full = path.join(dir, e.name)
      if (e.isDirectory()) {
        if (depth < maxDepth && !SKIP.has(e.name)) await walk(full, depth + 1)
        continue
      }
      const m = TEMP_FILE_PATTERN.exec(e.name)
      if (!m || !e.isFile()) continue
      try {
        const age = now - (await fs.lstat(full)).mtimeMs
        const pid = Number(m[1])
        const writerGone = pid !== process.pid && !alive(pid)
        if (age > maxAge || (age > minAge && writerGone)) {
          await removeWithRetry(full)
          removed.push(full)
        }
      } catch {
        // gone meanwhile, or not ours to remove: next start tries again
      }
    }
  }
  await walk(root, 0)
  return removed
}
