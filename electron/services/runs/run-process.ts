import type * as pty from 'node-pty'
import { spawnPty } from '../pty'
import { PtyFlow } from '../pty-flow'
import type { RunEvent } from '../../../core/runs/events'
import { ProgressParser } from '../../../core/runs/progress-parser'
import { Utf8StreamDecoder } from '../../../core/runs/utf8'
import { BoundedLog } from './bounded-log'
import { OutputBatcher } from './output-batcher'
import { isAlive, killTree, signalGroup } from './process-tree'

export interface RunProcessOptions {
  program: string
  args: string[]
  cwd: string
  env: Record<string, string>
  logFile: string
  logMaxBytes?: number
  cols?: number
  rows?: number
  /** How long an interrupt may take before the tree is killed. */
  graceMs?: number
}

export interface RunExit {
  exitCode: number | null
  signal: number | null
}

/** How much decoded output is kept in memory for a terminal that opens mid-run. */
const REPLAY_CHARS = 256 * 1024

/**
 * One trainer under a pseudo-terminal, from spawn to exit. Output pipeline: pty bytes → raw log (as
 * received) → batched → UTF-8 decoded → subscribers (terminal) and the parser (events). Subscribers
 * can hold the pty (flow control); the trainer then blocks on its own writes, as in a real terminal.
 */
export class RunProcess {
  readonly pid: number
  private readonly term: pty.IPty
  private readonly flow: PtyFlow
  private readonly log: BoundedLog
  private readonly decoder = new Utf8StreamDecoder()
  private readonly parser = new ProgressParser({ keepText: false })
  private readonly batcher: OutputBatcher
  private readonly outputListeners = new Set<(data: string) => void>()
  private readonly holds = new Set<object>()
  private replay: string[] = []
  private replayChars = 0
  private killTimer: NodeJS.Timeout | null = null
  private exitInfo: RunExit | null = null
  readonly exited: Promise<RunExit>
  bytesIn = 0
  /** An interrupt was sent (a stop), as opposed to the trainer ending by itself. */
  interrupted = false

  constructor(
    private readonly options: RunProcessOptions,
    private readonly onEvents: (events: RunEvent[]) => void,
  ) {
    this.log = new BoundedLog(options.logFile, options.logMaxBytes)
    this.batcher = new OutputBatcher((data) => this.flush(data))
    this.term = spawnPty(options.program, options.args, {
      name: 'xterm-256color',
      cols: options.cols ?? 160,
      rows: options.rows ?? 40,
      cwd: options.cwd,
      env: options.env,
      encoding: null,
    })
    this.pid = this.term.pid
    this.flow = new PtyFlow(this.term)
    this.term.onData((data: string | Buffer) => {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
      this.bytesIn += buf.length
      this.batcher.push(buf)
    })
    this.exited = new Promise<RunExit>((resolve) => {
      this.term.onExit(({ exitCode, signal }) => {
        this.flow.dispose()
        this.batcher.flush()
        const tail = this.decoder.end()
        if (tail) this.deliver(tail)
        const last = this.parser.end()
        if (last.length) this.onEvents(last)
        this.log.close()
        if (this.killTimer) clearTimeout(this.killTimer)
        this.exitInfo = { exitCode: signal ? null : exitCode, signal: signal || null }
        // Whatever the trainer left in its group (an orphaned launcher child) goes with it.
        if (process.platform !== 'win32') signalGroup(this.pid, 'SIGKILL')
        resolve(this.exitInfo)
      })
    })
  }

  get done(): boolean {
    return this.exitInfo !== null
  }

  private flush(data: Buffer): void {
    this.log.append(data)
    const text = this.decoder.write(data)
    if (text) this.deliver(text)
  }

  private deliver(text: string): void {
    this.replay.push(text)
    this.replayChars += text.length
    while (this.replayChars > REPLAY_CHARS && this.replay.length > 1) {
      this.replayChars -= (this.replay.shift() as string).length
    }
    for (const l of this.outputListeners) l(text)
    const events = this.parser.feed(text)
    if (events.length) this.onEvents(events)
  }

  /** Recent output (for a terminal opened mid-run), then live batches until unsubscribed. */
  subscribe(listener: (data: string) => void): { replay: string; close: () => void } {
    this.outputListeners.add(listener)
    return { replay: this.replay.join(''), close: () => this.outputListeners.delete(listener) }
  }

  /** A consumer is behind (true) or caught up (false); the pty reads only while nobody holds it. */
  hold(owner: object, paused: boolean): void {
    const before = this.holds.size
    if (paused) this.holds.add(owner)
    else this.holds.delete(owner)
    if (this.done) return
    if (before === 0 && this.holds.size > 0) this.flow.pause()
    else if (before > 0 && this.holds.size === 0) this.flow.resume()
  }

  write(data: string): void {
    if (!this.done) this.term.write(data)
  }

  resize(cols: number, rows: number): void {
    if (!this.done) this.term.resize(cols, rows)
  }

  /**
   * Interrupt the whole group (sd-scripts has no handler: Python raises KeyboardInterrupt, and
   * accelerate's launcher does not forward signals, so the child must get it directly), then kill
   * the tree if it is still there after the grace period.
   */
  interrupt(): void {
    if (this.done) return
    this.interrupted = true
    // Held output would keep a dying trainer blocked on its writes.
    this.holds.clear()
    this.term.resume()
    if (process.platform === 'win32') this.term.write('\x03')
    else signalGroup(this.pid, 'SIGINT')
    if (!this.killTimer) this.killTimer = setTimeout(() => void this.kill(), this.options.graceMs ?? 10_000)
  }

  async kill(): Promise<void> {
    if (this.done && !isAlive(this.pid)) return
    await killTree(this.pid)
    try {
      this.term.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
}
