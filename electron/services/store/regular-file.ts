import { constants, promises as fs } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { ApiError } from '../../../core/api/errors'

/**
 * Opening only regular files. A path a user (or a trainer) gives may name a FIFO, a socket or a
 * device: opening a FIFO for reading waits for a writer, and each such wait holds one of libuv's four
 * file-system threads, so a few of them would stall every file call of the app or the server. The
 * path is checked before opening, and the opened handle again (the path may have been replaced in
 * between); O_NONBLOCK makes the open itself return at once even for a FIFO.
 */

export function notRegularFile(file: string): ApiError {
  return new ApiError(
    'bad_request',
    `Not a regular file: ${file} (a folder, pipe, socket or device). Choose a file.`,
    { kind: 'not_regular_file', path: file },
  )
}

export async function openRegularFile(file: string): Promise<FileHandle> {
  const before = await fs.stat(file)
  if (!before.isFile()) throw notRegularFile(file)
  // O_NONBLOCK does not exist on Windows (no FIFOs in the file system there); it changes nothing for
  // a regular file.
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  try {
    if (!(await handle.stat()).isFile()) throw notRegularFile(file)
    return handle
  } catch (error) {
    await handle.close()
    throw error
  }
}

/** The whole file (or its first `maxBytes`), only if it is a regular file. */
export async function readRegularFile(file: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
  const handle = await openRegularFile(file)
  try {
    const { size } = await handle.stat()
    const want = Math.min(size, maxBytes)
    const buf = Buffer.alloc(want)
    let at = 0
    while (at < want) {
      const { bytesRead } = await handle.read(buf, at, want - at, at)
      if (bytesRead === 0) break
      at += bytesRead
    }
    return buf.subarray(0, at)
  } finally {
    await handle.close()
  }
}
