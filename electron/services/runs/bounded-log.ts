import { closeSync, openSync, renameSync, statSync, writeSync } from 'node:fs'

/** After a failed rotation, how much more is appended before the next try. */
const ROTATE_RETRY_BYTES = 1024 * 1024

/**
 * The raw console log of a run: bytes exactly as the pty gave them, appended synchronously (so a
 * kill -9 of the app loses nothing already received). Bounded: past `maxBytes` the file is rotated to
 * `<name>.1` (replacing the older one), so a run never takes more than twice the cap on disk.
 */
export class BoundedLog {
  private fd: number | null = null
  private size = 0
  /** A rotation failed (Windows: another program holds the file): not before the log reaches this size. */
  private retryAt = 0

  constructor(
    private readonly file: string,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly rename: (from: string, to: string) => void = renameSync,
  ) {}

  append(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    if (bytes.length === 0) return
    if (this.fd === null) this.open('a')
    if (this.size > 0 && this.size + bytes.length > this.maxBytes && this.size >= this.retryAt) this.rotate()
    writeSync(this.fd as number, bytes)
    this.size += bytes.length
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }

  private open(flags: 'a' | 'w'): void {
    this.fd = openSync(this.file, flags)
    try {
      this.size = statSync(this.file).size
    } catch {
      this.size = 0
    }
  }

  /**
   * Synchronous, in the output path, so a rename that fails (an antivirus scanner or a viewer holding
   * the log on Windows) is not waited for: the log grows a little more and the rotation is tried again
   * a megabyte later. Nothing received is ever dropped.
   */
  private rotate(): void {
    this.close()
    try {
      this.rename(this.file, `${this.file}.1`)
    } catch {
      this.open('a')
      this.retryAt = this.size + ROTATE_RETRY_BYTES
      return
    }
    this.retryAt = 0
    this.open('w')
  }
}
