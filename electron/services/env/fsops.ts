import { createWriteStream, promises as fs } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'

/** Folder names never copied from a local sd-scripts source: VCS data, environments, caches. */
const SKIP = new Set(['.git', 'venv', '.venv', '__pycache__', '.mypy_cache', '.pytest_cache'])

export async function copyTree(from: string, to: string): Promise<void> {
  const st = await fs.stat(from).catch(() => null)
  if (!st?.isDirectory())
    throw Object.assign(new Error(`Source folder not found: ${from}`), { code: 'ENOENT' })
  await fs.cp(from, to, {
    recursive: true,
    errorOnExist: false,
    force: true,
    filter: (src) => !SKIP.has(path.basename(src)) || path.resolve(src) === path.resolve(from),
  })
}

/** Downloads to a .part file and renames it, so an interrupted download never looks complete. */
export async function download(url: string, to: string, signal?: AbortSignal): Promise<number> {
  await fs.mkdir(path.dirname(to), { recursive: true })
  const res = await fetch(url, { signal, redirect: 'follow' })
  if (!res.ok || !res.body) throw new Error(`Download failed: HTTP ${res.status} for ${url}`)
  const part = `${to}.part`
  await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(part))
  await fs.rename(part, to)
  return (await fs.stat(to)).size
}

/** Total size of the files under a folder (0 when absent); links are not followed. */
export async function dirSize(dir: string): Promise<number> {
  let total = 0
  const queue = [dir]
  while (queue.length) {
    const batch = queue.splice(0, 64)
    await Promise.all(
      batch.map(async (d) => {
        let entries
        try {
          entries = await fs.readdir(d, { withFileTypes: true })
        } catch {
          return
        }
        await Promise.all(
          entries.map(async (e) => {
            const p = path.join(d, e.name)
            if (e.isDirectory()) queue.push(p)
            else if (e.isFile()) {
              // Read the size first: `total += await …` would add to a stale total (lost updates).
              const size = (await fs.lstat(p).catch(() => ({ size: 0 }))).size
              total += size
            }
          }),
        )
      }),
    )
  }
  return total
}
