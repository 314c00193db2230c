import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { ApiError } from '../../../core/api/errors'

const LockFile = z.object({ pid: z.number(), env: z.string(), action: z.string(), startedAt: z.number() })
type LockFile = z.infer<typeof LockFile>

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
        throw new ApiError(
          'conflict',
          `Another ${holder.action} is running (environment "${holder.env}", process ${holder.pid}). Wait for it to finish, or stop it first.`,
          { kind: 'busy', pid: holder.pid, env: holder.env },
        )
      }
      if (holder && holder.pid === process.pid) {
        throw new ApiError(
          'conflict',
          `An ${holder.action} of "${holder.env}" is already running in this app.`,
          {
            kind: 'busy',
            pid: holder.pid,
            env: holder.env,
          },
        )
      }
      // Stale (owner gone) or unreadable: remove and try again.
      await fs.rm(file, { force: true })
    }
  }
  throw new ApiError(
    'conflict',
    `Could not take the install lock ${file}. Delete it if no install is running.`,
  )
}

async function readLock(file: string): Promise<LockFile | null> {
  try {
    const parsed = LockFile.safeParse(JSON.parse(await fs.readFile(file, 'utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
