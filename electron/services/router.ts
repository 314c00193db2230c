import type { z } from 'zod'
import {
  events,
  isEventName,
  isRequestName,
  requests,
  type EventName,
  type EventPayload,
  type ParsedInput,
  type ParsedParams,
  type RequestName,
  type RequestOutput,
} from '../../core/api/contract'
import { ApiError, describeZodError, type ApiErrorShape } from '../../core/api/errors'
import { FlowGate } from '../../core/api/flow'
import { ClientMessage, type Result, type ServerMessage } from '../../core/api/protocol'

/** Who is calling; transports fill it in. Handlers may use it for logging or per-caller policy. */
export interface CallContext {
  transport: 'ipc' | 'ws' | 'cli' | 'test'
}

type Awaitable<T> = T | Promise<T>

export type RequestHandlers = {
  [M in RequestName]: (
    input: ParsedInput<M>,
    ctx: CallContext,
  ) => Awaitable<z.input<(typeof requests)[M]['output']>>
}

/** What a subscription handler gets to push data to one subscriber. */
export interface EventSink<D> {
  /** Send one payload; `units` counts toward flow control (e.g. characters of terminal output). */
  emit(data: D, units?: number): void
  /** The stream is over (normally, or with an error). */
  end(error?: ApiError): void
  /** For flow-controlled streams: called with true when the consumer is behind and the producer should pause. */
  onPressure(listener: (paused: boolean) => void): void
}

export type SubscriptionHandlers = {
  [E in EventName]: (
    params: ParsedParams<E>,
    sink: EventSink<EventPayload<E>>,
    ctx: CallContext,
  ) => Awaitable<(() => void) | void>
}

export interface Router {
  call<M extends RequestName>(method: M, input: unknown, ctx: CallContext): Promise<Result<RequestOutput<M>>>
  /** Untyped entry point for transports: unknown method names become a typed error. */
  callByName(method: string, input: unknown, ctx: CallContext): Promise<Result<unknown>>
  subscriptions: SubscriptionHandlers
}

export function toErrorShape(error: unknown): ApiErrorShape {
  if (error instanceof ApiError) return error.toJSON()
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'internal', message: `Internal error: ${message}` }
}

export function createRouter(handlers: RequestHandlers, subscriptions: SubscriptionHandlers): Router {
  async function callByName(method: string, input: unknown, ctx: CallContext): Promise<Result<unknown>> {
    if (!isRequestName(method)) {
      return { ok: false, error: { code: 'unknown_method', message: `Unknown method: ${method}` } }
    }
    const def = requests[method]
    const parsed = def.input.safeParse(input ?? {})
    if (!parsed.success) {
      return {
        ok: false,
        error: {
          code: 'bad_request',
          message: `Invalid input for ${method}: ${describeZodError(parsed.error)}`,
          details: parsed.error.issues,
        },
      }
    }
    try {
      const handler = handlers[method] as (input: unknown, ctx: CallContext) => Awaitable<unknown>
      const raw = await handler(parsed.data, ctx)
      const out = def.output.safeParse(raw)
      if (!out.success) {
        return {
          ok: false,
          error: {
            code: 'internal',
            message: `Invalid output from ${method}: ${describeZodError(out.error)}`,
          },
        }
      }
      return { ok: true, result: out.data }
    } catch (error) {
      return { ok: false, error: toErrorShape(error) }
    }
  }
  return {
    call: (method, input, ctx) => callByName(method, input, ctx) as never,
    callByName,
    subscriptions,
  }
}

interface ActiveSubscription {
  close: () => void
  gate?: FlowGate
}

/**
 * One connection (a window over IPC, a browser over WebSocket): receives client messages, answers
 * them through `send`, and owns the subscriptions it opened, so closing it stops them all.
 */
export class RouterSession {
  private readonly subs = new Map<number, ActiveSubscription>()
  private closed = false

  constructor(
    private readonly router: Router,
    private readonly send: (message: ServerMessage) => void,
    private readonly ctx: CallContext,
  ) {}

  async receive(raw: unknown): Promise<void> {
    if (this.closed) return
    const parsed = ClientMessage.safeParse(raw)
    if (!parsed.success) {
      const id = typeof raw === 'object' && raw && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1
      this.send({
        t: 'res',
        id,
        ok: false,
        error: { code: 'bad_request', message: `Malformed message: ${describeZodError(parsed.error)}` },
      })
      return
    }
    const msg = parsed.data
    switch (msg.t) {
      case 'req': {
        const result = await this.router.callByName(msg.method, msg.input, this.ctx)
        if (!this.closed)
          this.send(result.ok ? { t: 'res', id: msg.id, ...result } : { t: 'res', id: msg.id, ...result })
        return
      }
      case 'sub':
        await this.subscribe(msg.id, msg.event, msg.params)
        return
      case 'unsub':
        this.unsubscribe(msg.id)
        return
      case 'ack':
        this.subs.get(msg.id)?.gate?.acknowledged(msg.units)
        return
    }
  }

  private async subscribe(id: number, name: string, params: unknown): Promise<void> {
    if (this.subs.has(id)) {
      this.send({
        t: 'end',
        id,
        error: { code: 'conflict', message: `Subscription id ${id} is already in use` },
      })
      return
    }
    if (!isEventName(name)) {
      this.send({ t: 'end', id, error: { code: 'unknown_method', message: `Unknown event stream: ${name}` } })
      return
    }
    const def = events[name]
    const parsed = def.params.safeParse(params ?? {})
    if (!parsed.success) {
      this.send({
        t: 'end',
        id,
        error: {
          code: 'bad_request',
          message: `Invalid parameters for ${name}: ${describeZodError(parsed.error)}`,
        },
      })
      return
    }
    let ended = false
    const pressureListeners: Array<(paused: boolean) => void> = []
    const gate =
      'flow' in def && def.flow ? new FlowGate((p) => pressureListeners.forEach((l) => l(p))) : undefined
    let cleanup: (() => void) | void = undefined
    const entry: ActiveSubscription = {
      gate,
      close: () => {
        if (ended) return
        ended = true
        gate?.reset()
        this.subs.delete(id)
        if (typeof cleanup === 'function') cleanup()
      },
    }
    this.subs.set(id, entry)
    const sink: EventSink<unknown> = {
      emit: (data, units = 0) => {
        if (ended || this.closed) return
        this.send({ t: 'evt', id, data })
        if (units > 0) gate?.sent(units)
      },
      end: (error) => {
        if (ended) return
        entry.close()
        if (!this.closed) this.send(error ? { t: 'end', id, error: error.toJSON() } : { t: 'end', id })
      },
      onPressure: (listener) => {
        pressureListeners.push(listener)
      },
    }
    try {
      const handler = this.router.subscriptions[name] as (
        params: unknown,
        sink: EventSink<unknown>,
        ctx: CallContext,
      ) => Awaitable<(() => void) | void>
      cleanup = await handler(parsed.data, sink, this.ctx)
      // The subscriber may have gone (unsub or close) while the handler was starting.
      if (ended && typeof cleanup === 'function') cleanup()
    } catch (error) {
      ended = true
      this.subs.delete(id)
      this.send({ t: 'end', id, error: toErrorShape(error) })
    }
  }

  private unsubscribe(id: number): void {
    this.subs.get(id)?.close()
  }

  /** The connection is gone: stop every subscription it held. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const sub of [...this.subs.values()]) sub.close()
  }

  get subscriptionCount(): number {
    return this.subs.size
  }
}
