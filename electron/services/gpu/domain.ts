import type { GpuReading } from '../../../core/gpu/types'
import { ApiError } from '../../../core/api/errors'
import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { GpuError, NvidiaSmi } from './nvidia-smi'

/**
 * Polls nvidia-smi every `intervalMs`, only while someone listens. A tick that comes while the
 * previous reading is still running is skipped, so a slow or hung driver never piles up processes;
 * when the last listener leaves, the timer stops and a reading in flight is killed.
 */
export class GpuMonitor {
  private listeners = new Set<(reading: GpuReading) => void>()
  private timer: NodeJS.Timeout | null = null
  private inFlight: Promise<void> | null = null
  private abort: AbortController | null = null
  /** The CUDA version per driver version: it only changes with the driver, so read the table once. */
  private cuda: { driver_version: string | null; cuda_version: string | null } | null = null
  last: GpuReading | null = null
  /** Ticks skipped because a reading was still running (tests and diagnostics). */
  skippedTicks = 0

  constructor(
    readonly smi: NvidiaSmi,
    readonly intervalMs = 1000,
  ) {}

  /** One reading: the GPU list, then per-process memory (its failure leaves the list intact). */
  async read(signal?: AbortSignal): Promise<GpuReading> {
    const at = Date.now()
    try {
      const { cuda_from_table, ...snapshot } = await this.smi.snapshot(signal, this.cuda ?? undefined)
      if (cuda_from_table)
        this.cuda = { driver_version: snapshot.driver_version, cuda_version: snapshot.cuda_version }
      const processes = snapshot.gpus.length === 0 ? [] : await this.smi.processes(signal).catch(() => [])
      return { ok: true, at, snapshot, processes }
    } catch (error) {
      const kind = error instanceof GpuError ? error.kind : 'failed'
      return {
        ok: false,
        at,
        error: { kind, message: error instanceof Error ? error.message : String(error) },
      }
    }
  }

  subscribe(listener: (reading: GpuReading) => void): () => void {
    this.listeners.add(listener)
    // A reading from an earlier watch may be stale; only a recent one is worth showing at once.
    if (this.last && Date.now() - this.last.at < 2 * this.intervalMs) listener(this.last)
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs)
      this.tick()
    }
    let active = true
    return () => {
      if (!active) return
      active = false
      this.listeners.delete(listener)
      if (this.listeners.size === 0) this.stop()
    }
  }

  get listening(): number {
    return this.listeners.size
  }

  /** Whether a reading (an nvidia-smi process) is running now. */
  get busy(): boolean {
    return this.inFlight !== null
  }

  private tick(): void {
    if (this.inFlight) {
      this.skippedTicks++
      return
    }
    const abort = new AbortController()
    this.abort = abort
    this.inFlight = this.read(abort.signal).then((reading) => {
      this.inFlight = null
      this.abort = null
      if (abort.signal.aborted) return
      this.last = reading
      for (const l of [...this.listeners]) l(reading)
    })
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.abort?.abort()
  }

  /** Stops polling and waits until no nvidia-smi started by this monitor is left running. */
  async dispose(): Promise<void> {
    this.listeners.clear()
    this.stop()
    await this.inFlight
  }
}

export function createGpuDomain(options: ServiceOptions) {
  const smi = new NvidiaSmi(options.env)
  const monitor = new GpuMonitor(smi)
  /** This machine's GPU indexes: the live reading when recent, else one nvidia-smi call; undefined without a driver. */
  async function indexes(): Promise<number[] | undefined> {
    const last = monitor.last
    if (last?.ok && Date.now() - last.at < 5000) return last.snapshot.gpus.map((g) => g.index)
    try {
      return (await smi.snapshot()).gpus.map((g) => g.index)
    } catch {
      return undefined
    }
  }
  const requests = {
    'gpu.list': async () => {
      try {
        const { cuda_from_table: _, ...snapshot } = await smi.snapshot()
        return snapshot
      } catch (error) {
        if (error instanceof GpuError) {
          throw new ApiError(error.kind === 'timeout' ? 'timeout' : 'unavailable', error.message, {
            kind: error.kind,
          })
        }
        throw error
      }
    },
  } satisfies Partial<RequestHandlers>
  const subscriptions = {
    'gpu.watch': (_params, sink) => monitor.subscribe((reading) => sink.emit(reading)),
  } satisfies Partial<SubscriptionHandlers>
  return { requests, subscriptions, monitor, smi, indexes, dispose: () => monitor.dispose() }
}
