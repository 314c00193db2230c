import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { z } from 'zod'

/**
 * Writes a file so that readers see either the old or the new content, never a half-written one:
 * write a temporary file in the same folder, fsync it, rename it over the target, fsync the folder.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file)
  await fs.mkdir(dir, { recursive: true })
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await fs.open(tmp, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    // A full disk must not leave a half-written temporary file behind.
    await handle.close().catch(() => undefined)
    await fs.rm(tmp, { force: true })
    throw error
  }
  await handle.close()
  try {
    await fs.rename(tmp, file)
  } catch (error) {
    await fs.rm(tmp, { force: true })
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
    text = await fs.readFile(file, 'utf8')
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
