import type { IPty } from 'node-pty'

/**
 * Pausing a pty for flow control without losing the end of its output.
 *
 * node-pty reports a process's exit once the pty's socket closes, but destroys the socket 200 ms after
 * the process ends if it has not closed by then; a paused socket never closes, so whatever the process
 * wrote last (often the error) would be dropped. While paused we therefore check every 50 ms whether the
 * process is still alive, and once it is gone we read again: there is nothing left to hold back, and what
 * remains is at most the kernel's pty buffer.
 */
export class PtyFlow {
  private paused = false
  private exited = false
  private watch: NodeJS.Timeout | null = null

  constructor(
    private readonly term: Pick<IPty, 'pause' | 'resume' | 'pid'>,
    private readonly isAlive: (pid: number) => boolean = processIsAlive,
    private readonly intervalMs = 50,
  ) {}

  pause(): void {
    if (this.paused || this.exited) return
    this.paused = true
    this.term.pause()
    this.watch = setInterval(() => {
      if (!this.isAlive(this.term.pid)) {
        this.exited = true
        this.resume()
      }
    }, this.intervalMs)
  }

  resume(): void {
    if (this.watch) clearInterval(this.watch)
    this.watch = null
    if (!this.paused) return
    this.paused = false
    try {
      this.term.resume()
    } catch {
      // the pty is already closed: nothing left to read
    }
  }

  /** The process has ended (its exit was reported): stop watching. */
  dispose(): void {
    this.exited = true
    this.resume()
  }
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
