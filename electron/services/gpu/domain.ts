import type { GpuReading } from '../../../core/gpu/types'
import { ApiError } from '../../../core/api/errors'
import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { GpuError, queryProcesses, querySnapshot } from './nvidia-smi'

/**
 * Polls nvidia-smi once a second, only while someone listens, and never starts a query while the
 * previous one is still running (a hung driver must not pile up processes).
 */
export class GpuMonitor {
  private listeners = new Set<(reading: GpuReading) => void>()
  private timer: NodeJS.Timeout | null = null
  private inFlight = false
  last: GpuReading | null = null

  constructor(
    private readonly options: ServiceOptions,
    private readonly intervalMs = 1000,
  ) {}

  async read(): Promise<GpuReading> {
    const at = Date.now()
    try {
      const snapshot = await querySnapshot({ env: this.options.env })
      const processes = await queryProcesses({ env: this.options.env }).catch(() => [])
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
    if (this.last) listener(this.last)
    if (!this.timer) {
      void this.tick()
      this.timer = setInterval(() => void this.tick(), this.intervalMs)
    }
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer)
        this.timer = null
      }
    }
  }

  get listening(): number {
    return this.listeners.size
  }

  private async tick(): Promise<void> {
    if (this.inFlight) return
    this.inFlight = true
    try {
      const reading = await this.read()
      this.last = reading
      for (const l of this.listeners) l(reading)
    } finally {
      this.inFlight = false
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.listeners.clear()
  }
}

export function createGpuDomain(options: ServiceOptions) {
  const monitor = new GpuMonitor(options)
  const requests = {
    'gpu.list': async () => {
      try {
        return await querySnapshot({ env: options.env })
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
  return { requests, subscriptions, monitor, dispose: () => monitor.dispose() }
}
