import type {
  EventName,
  EventParams,
  EventPayload,
  RequestInput,
  RequestName,
  RequestOutput,
} from './contract'
import { ApiError, type ApiErrorShape } from './api-error'
import { AckBatcher } from './flow'
import type { ClientMessage, ServerMessage } from './protocol'

export interface Subscription {
  close(): void
  /** For flow-controlled streams: tell the producer that `units` have been processed (e.g. written to xterm). */
  processed(units: number): void
}

export interface SubscribeHandlers<D> {
  data: (payload: D) => void
  end?: (error?: ApiError) => void
}

/** The one interface the renderer (and tests) use, whichever transport carries it. */
export interface ApiClient {
  call<M extends RequestName>(method: M, input: RequestInput<M>): Promise<RequestOutput<M>>
  subscribe<E extends EventName>(
    event: E,
    params: EventParams<E>,
    handlers: SubscribeHandlers<EventPayload<E>>,
  ): Subscription
}

/** A transport that moves protocol messages (WebSocket, or Electron IPC through the preload). */
export interface MessagePort {
  post(message: ClientMessage): void
  onMessage(listener: (message: ServerMessage) => void): void
  /** Called when the connection is lost; pending calls fail and subscriptions end. */
  onClose(listener: (reason: string) => void): void
}

/**
 * Client over any message port: correlates responses by id and routes events to subscribers.
 */
export function createMessageClient(port: MessagePort): ApiClient {
  let nextId = 1
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: ApiError) => void }>()
  const subs = new Map<number, SubscribeHandlers<unknown>>()

  port.onMessage((msg) => {
    if (msg.t === 'res') {
      const p = pending.get(msg.id)
      if (!p) return
      pending.delete(msg.id)
      if (msg.ok) p.resolve(msg.result)
      else p.reject(ApiError.from(msg.error))
    } else if (msg.t === 'evt') {
      subs.get(msg.id)?.data(msg.data)
    } else if (msg.t === 'end') {
      const s = subs.get(msg.id)
      subs.delete(msg.id)
      s?.end?.(msg.error ? ApiError.from(msg.error as ApiErrorShape) : undefined)
    }
  })
  port.onClose((reason) => {
    const error = new ApiError('unavailable', `Connection to SDXL Studio lost: ${reason}`)
    for (const p of pending.values()) p.reject(error)
    pending.clear()
    for (const s of subs.values()) s.end?.(error)
    subs.clear()
  })

  return {
    call(method, input) {
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        port.post({ t: 'req', id, method, input })
      })
    },
    subscribe(event, params, handlers) {
      const id = nextId++
      subs.set(id, handlers as SubscribeHandlers<unknown>)
      port.post({ t: 'sub', id, event, params })
      const acks = new AckBatcher((units) => port.post({ t: 'ack', id, units }))
      return {
        close() {
          if (subs.delete(id)) port.post({ t: 'unsub', id })
        },
        processed(units) {
          acks.processed(units)
        },
      }
    },
  }
}
