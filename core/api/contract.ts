import type { z } from 'zod'
import type { EventDef, RequestDef } from './define'
import * as app from './domains/app'
import * as configs from './domains/configs'
import * as dataset from './domains/dataset'
import * as env from './domains/env'
import * as gpu from './domains/gpu'
import * as lora from './domains/lora'
import * as runs from './domains/runs'
import * as tensorboard from './domains/tensorboard'
import * as training from './domains/training'
import * as vram from './domains/vram'

/**
 * The whole API: every request and event stream, by name. Both transports, the router, the renderer
 * client and the CLI are driven by these two objects, so a feature is declared once, in its domain file.
 */
export const requests = {
  ...app.requests,
  ...gpu.requests,
  ...env.requests,
  ...configs.requests,
  ...runs.requests,
  ...vram.requests,
  ...training.requests,
  ...tensorboard.requests,
  ...lora.requests,
  ...dataset.requests,
} satisfies Record<string, RequestDef>

export const events = {
  ...app.events,
  ...gpu.events,
  ...env.events,
  ...configs.events,
  ...runs.events,
  ...vram.events,
  ...training.events,
  ...tensorboard.events,
  ...lora.events,
  ...dataset.events,
} satisfies Record<string, EventDef>

export type Requests = typeof requests
export type Events = typeof events
export type RequestName = keyof Requests & string
export type EventName = keyof Events & string

export type RequestInput<M extends RequestName> = z.input<Requests[M]['input']>
export type ParsedInput<M extends RequestName> = z.output<Requests[M]['input']>
export type RequestOutput<M extends RequestName> = z.output<Requests[M]['output']>
export type EventParams<E extends EventName> = z.input<Events[E]['params']>
export type ParsedParams<E extends EventName> = z.output<Events[E]['params']>
export type EventPayload<E extends EventName> = z.output<Events[E]['payload']>

export const requestNames = Object.keys(requests) as RequestName[]
export const eventNames = Object.keys(events) as EventName[]

export function isRequestName(name: string): name is RequestName {
  return Object.prototype.hasOwnProperty.call(requests, name)
}
export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name)
}
