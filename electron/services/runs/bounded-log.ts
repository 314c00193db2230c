import { closeSync, openSync, renameSync, statSync, writeSync } from 'node:fs'

/**
 * The raw console log of a run: bytes exactly as the pty gave them, appended synchronously (so a
 * kill -9 of the app loses nothing already received). Bounded: past `maxBytes` the file is rotated to
 * `<name>.1` (replacing the older one), so a run never takes more than twice the cap on disk.
 */
export class BoundedLog {
  private fd: number | null = null
  private size = 0

  constructor(
    private readonly file: string,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  append(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    if (bytes.length === 0) return
    if (this.fd === null) this.open()
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate()
    writeSync(this.fd as number, bytes)
    this.size += bytes.length
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }

  private open(): void {
    this.fd = openSync(this.file, 'a')
    try {
      this.size = statSync(this.file).size
    } catch {
      this.size = 0
    }
  }

  private rotate(): void {
    this.close()
    renameSync(this.file, `${this.file}.1`)
    this.fd = openSync(this.file, 'w')
    this.size = 0
  }
}
