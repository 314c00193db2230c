/**
 * Credit-based flow control for high-volume streams (terminal output).
 * The producer counts what it sends; the consumer acknowledges what it has *processed* (for a terminal:
 * what xterm has parsed, as VS Code does), not what it has received. Above the high watermark the
 * producer is paused; it resumes once the unacknowledged amount falls below the low watermark.
 */
// VS Code uses 100k/5k with small chunks. Our producer sends 64 KB batches (electron/services/runs/
// output-batcher.ts): with 100k/5k only one batch fits in flight, so the pty waited for every round trip
// (14-17 MB/s end to end in Chromium). 512k/128k keeps several batches in flight while the terminal
// parses, and still bounds what is buffered to half a megabyte (20-25 MB/s; docs/runs.md).
export const FLOW_HIGH_WATERMARK = 512_000
export const FLOW_LOW_WATERMARK = 128_000
/** Consumers acknowledge in chunks of this size; it must not exceed the low watermark or a paused stream never resumes. */
export const FLOW_ACK_CHUNK = 5_000

export class FlowGate {
  private unacknowledged = 0
  private paused = false

  constructor(
    private readonly onChange: (paused: boolean) => void,
    private readonly high = FLOW_HIGH_WATERMARK,
    private readonly low = FLOW_LOW_WATERMARK,
  ) {
    if (low > high) throw new RangeError('low watermark must not exceed the high watermark')
  }

  get isPaused(): boolean {
    return this.paused
  }

  get pending(): number {
    return this.unacknowledged
  }

  sent(units: number): void {
    this.unacknowledged += units
    if (!this.paused && this.unacknowledged > this.high) {
      this.paused = true
      this.onChange(true)
    }
  }

  acknowledged(units: number): void {
    this.unacknowledged = Math.max(0, this.unacknowledged - Math.max(0, units))
    if (this.paused && this.unacknowledged < this.low) {
      this.paused = false
      this.onChange(false)
    }
  }

  /** The consumer went away: nothing will be acknowledged any more, so never stay paused. */
  reset(): void {
    this.unacknowledged = 0
    if (this.paused) {
      this.paused = false
      this.onChange(false)
    }
  }
}

/** Client side: batches acknowledgements so one is sent per FLOW_ACK_CHUNK units processed. */
export class AckBatcher {
  private pendingUnits = 0
  constructor(
    private readonly sendAck: (units: number) => void,
    private readonly chunk = FLOW_ACK_CHUNK,
  ) {}

  processed(units: number): void {
    this.pendingUnits += units
    if (this.pendingUnits >= this.chunk) this.flush()
  }

  flush(): void {
    if (this.pendingUnits > 0) {
      const units = this.pendingUnits
      this.pendingUnits = 0
      this.sendAck(units)
    }
  }
}
