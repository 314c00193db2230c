/**
 * Collects output and hands it on in batches: at most every `intervalMs` or once `maxBytes` have
 * piled up, so a chatty trainer costs a few messages a second, not thousands. Hyper uses 16 ms / 200 KB;
 * 64 KB is an eighth of the 512k-unit flow window (core/api/flow.ts), so several batches are in flight while
 * the terminal writes one.
 */
export class OutputBatcher {
  private chunks: Buffer[] = []
  private bytes = 0
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly flushTo: (data: Buffer) => void,
    private readonly intervalMs = 16,
    private readonly maxBytes = 64 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.bytes += chunk.length
    if (this.bytes >= this.maxBytes) this.flush()
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.intervalMs)
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.bytes === 0) return
    const data =
      this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.bytes)
    this.chunks = []
    this.bytes = 0
    this.flushTo(data)
  }
}
