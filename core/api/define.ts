import type { z } from 'zod'

/** A request: validated input, typed output. */
export interface RequestDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  kind: 'request'
  input: I
  output: O
  /** One line for docs and the CLI's help. */
  summary: string
}

/**
 * An event stream: subscribe with params, receive payloads until unsubscribed or ended.
 * `flow: true` streams are credit-based: the consumer acknowledges what it has processed and the
 * producer is paused above a high watermark of unacknowledged units (see core/api/flow.ts).
 */
export interface EventDef<P extends z.ZodType = z.ZodType, D extends z.ZodType = z.ZodType> {
  kind: 'event'
  params: P
  payload: D
  summary: string
  flow?: boolean
}

export function request<I extends z.ZodType, O extends z.ZodType>(
  input: I,
  output: O,
  summary: string,
): RequestDef<I, O> {
  return { kind: 'request', input, output, summary }
}

export function event<P extends z.ZodType, D extends z.ZodType>(
  params: P,
  payload: D,
  summary: string,
  options: { flow?: boolean } = {},
): EventDef<P, D> {
  return { kind: 'event', params, payload, summary, ...options }
}
