import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { writeJsonAtomic } from './atomic'

/** Where private files are staged: a folder only this user can enter. */
export function privateDir(dataDir: string): string {
  return path.join(dataDir, 'private')
}

/** Creates <dataDir>/private with mode 0700 (and tightens it if it exists); returns its path. */
export async function ensurePrivateDir(dataDir: string): Promise<string> {
  const dir = privateDir(dataDir)
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  if (process.platform !== 'win32') await fs.chmod(dir, 0o700)
  return dir
}

/**
 * Writes JSON that holds secrets (mirror and proxy passwords) so that no other user can read it at
 * any moment: the atomic write happens inside the 0700 private folder, the file is made 0600 there,
 * and only then renamed into place (a rename keeps the mode). On Windows the data folder lives in
 * the user's profile, which other users cannot read; modes do not apply there.
 */
export async function writePrivateJson(dataDir: string, file: string, value: unknown): Promise<void> {
  const dir = await ensurePrivateDir(dataDir)
  const staged = path.join(
    dir,
    `${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.staged`,
  )
  try {
    await writeJsonAtomic(staged, value)
    if (process.platform !== 'win32') await fs.chmod(staged, 0o600)
    await fs.rename(staged, file)
  } catch (error) {
    await fs.rm(staged, { force: true })
    throw error
  }
  // A file written by an older version (mode 0644) is replaced above; this also fixes one restored
  // from a backup when nothing changed since.
  if (process.platform !== 'win32') await fs.chmod(file, 0o600).catch(() => undefined)
}

/** Makes an existing file user-only (0600); absent files are fine. */
export async function restrictFile(file: string): Promise<void> {
  if (process.platform === 'win32') return
  await fs.chmod(file, 0o600).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
}
