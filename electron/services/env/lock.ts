import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import type { EnvCode } from '../../../core/env/messages'
import { envError } from './env-error'

const LockFile = z.object({ pid: z.number(), env: z.string(), action: z.string(), startedAt: z.number() })
type LockFile = z.infer<typeof LockFile>

/** What is running, in words: its action (an install, a repair, an update), here or in another process. */
function busyCode(action: string, here: boolean): EnvCode {
  const known = action === 'repair' || action === 'update' ? action : 'install'
  return `env_busy_${here ? 'here_' : ''}${known}` as EnvCode
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Only one install or repair at a time, across the app, headless mode and the CLI: an exclusive lock
 * file with the owner's pid. A lock whose pid is gone (the app was killed) is stale and taken over.
 */
export async function acquireInstallLock(
  dataDir: string,
  env: string,
  action: string,
): Promise<() => Promise<void>> {
  const file = path.join(dataDir, 'env-install.lock')
  await fs.mkdir(dataDir, { recursive: true })
  const mine: LockFile = { pid: process.pid, env, action, startedAt: Date.now() }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(file, 'wx')
      await handle.writeFile(JSON.stringify(mine))
      await handle.close()
      return async () => {
        const current = await readLock(file)
        if (current?.pid === process.pid && current.startedAt === mine.startedAt)
          await fs.rm(file, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = await readLock(file)
      if (holder && pidAlive(holder.pid) && holder.pid !== process.pid) {
        throw envError(
          'conflict',
          busyCode(holder.action, false),
          { env: holder.env, pid: String(holder.pid) },
          { kind: 'busy', pid: holder.pid, env: holder.env },
        )
      }
      if (holder && holder.pid === process.pid) {
        throw envError(
          'conflict',
          busyCode(holder.action, true),
          { env: holder.env },
          { kind: 'busy', pid: holder.pid, env: holder.env },
        )
      }
      // Stale (owner gone) or unreadable: remove and try again.
      await fs.rm(file, { force: true })
    }
  }
  throw envError('conflict', 'env_lock_stuck', { file })
}

async function readLock(file: string): Promise<LockFile | null> {
  try {
    const parsed = LockFile.safeParse(JSON.parse(await fs.readFile(file, 'utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
