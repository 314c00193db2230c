import { promises as fs } from 'node:fs'

/**
 * Renames and deletes that wait out a file held open for a moment. On Windows, antivirus scanners,
 * the search indexer and backup tools open new files right after they are written; a rename or delete
 * then fails with EPERM, EBUSY or EACCES for a few hundred milliseconds (graceful-fs, npm and VS Code
 * retry the same way). Elsewhere those codes mean a real permission problem, so only EBUSY (a file in
 * use on a network or FUSE mount) is retried.
 */

export const TRANSIENT_CODES_WINDOWS = ['EPERM', 'EBUSY', 'EACCES'] as const
export const TRANSIENT_CODES_POSIX = ['EBUSY'] as const

export interface FsRetryOptions {
  /** Error codes worth another try; by default the platform's (see above). */
  codes?: readonly string[]
  /** Tries in all, the first included. */
  attempts?: number
  /** Wait before the second try; doubled each time up to maxDelayMs. */
  firstDelayMs?: number
  maxDelayMs?: number
  platform?: NodeJS.Platform
  sleep?: (ms: number) => Promise<void>
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function transientCodes(platform: NodeJS.Platform = process.platform): readonly string[] {
  return platform === 'win32' ? TRANSIENT_CODES_WINDOWS : TRANSIENT_CODES_POSIX
}

/**
 * Runs `op` until it succeeds, fails with a code that is not transient, or has used its tries
 * (50 ms, 100 ms, … up to 1 s apart: about 5 s in all by default); the last error is thrown as it is.
 */
export async function withFsRetry<T>(op: () => Promise<T>, options: FsRetryOptions = {}): Promise<T> {
  const codes = options.codes ?? transientCodes(options.platform)
  const attempts = Number.isFinite(options.attempts) ? Math.max(1, Math.floor(options.attempts as number)) : 9
  const sleep = options.sleep ?? sleepMs
  let delay = Math.max(0, options.firstDelayMs ?? 50)
  for (let attempt = 1; ; attempt++) {
    try {
      return await op()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (attempt >= attempts || !code || !codes.includes(code)) throw error
      await sleep(delay)
      delay = Math.min(delay * 2, options.maxDelayMs ?? 1000)
    }
  }
}

export function renameWithRetry(from: string, to: string, options?: FsRetryOptions): Promise<void> {
  return withFsRetry(() => fs.rename(from, to), options)
}

/** Deletes a file or (recursive) a folder; a missing one is fine. */
export function removeWithRetry(
  target: string,
  options: FsRetryOptions & { recursive?: boolean } = {},
): Promise<void> {
  return withFsRetry(() => fs.rm(target, { force: true, recursive: options.recursive ?? false }), options)
}
