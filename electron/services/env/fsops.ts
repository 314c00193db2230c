import { promises as fs } from 'node:fs'
import path from 'node:path'

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
