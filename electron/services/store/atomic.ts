import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { z } from 'zod'
import { removeWithRetry, renameWithRetry } from './fs-retry'
import { readRegularFile } from './regular-file'

/**
 * The temporary file of an atomic write: `.<name>.<pid>.<8 hex>.tmp` beside the target. The pid tells
 * the startup cleanup (stale-temps.ts) whether its writer may still be at work.
 */
export const TEMP_FILE_PATTERN = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/

export function tempFileFor(file: string): string {
  const name = `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  return path.join(path.dirname(file), name)
}

/**
 * Writes a file so that readers see either the old or the new content, never a half-written one:
 * write a temporary file in the same folder, fsync it, rename it over the target, fsync the folder.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file)
  await fs.mkdir(dir, { recursive: true })
  const tmp = tempFileFor(file)
  const handle = await fs.open(tmp, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    // A full disk must not leave a half-written temporary file behind.
    await handle.close().catch(() => undefined)
    await removeWithRetry(tmp)
    throw error
  }
  await handle.close()
  try {
    // An antivirus scanner may hold the new file (or the old target) open for a moment.
    await renameWithRetry(tmp, file)
  } catch (error) {
    await removeWithRetry(tmp).catch(() => undefined)
    throw error
  }
  // Persist the rename itself; not supported on Windows, where rename is already durable enough.
  if (process.platform !== 'win32') {
    const dirHandle = await fs.open(dir, 'r').catch(() => null)
    if (dirHandle) {
      await dirHandle.sync().catch(() => undefined)
      await dirHandle.close()
    }
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`)
}

/** Reads and validates a JSON file; a missing file gives `fallback`, a corrupt one throws with the path. */
export async function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  fallback: () => z.output<S>,
): Promise<z.output<S>> {
  let text: string
  try {
    text = (await readRegularFile(file)).toString('utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback()
    throw error
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new Error(`File is not valid JSON: ${file}. Fix or delete it.`)
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) throw new Error(`File has unexpected content: ${file}. Fix or delete it.`)
  return parsed.data
}
