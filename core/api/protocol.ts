import { z } from 'zod'
import { ApiErrorShape } from './errors'

/**
 * The wire protocol shared by both transports (Electron IPC and WebSocket). Transports move these
 * messages; only the router gives them meaning.
 */
export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('req'), id: z.number().int(), method: z.string(), input: z.unknown() }),
  z.object({ t: z.literal('sub'), id: z.number().int(), event: z.string(), params: z.unknown() }),
  z.object({ t: z.literal('unsub'), id: z.number().int() }),
  z.object({ t: z.literal('ack'), id: z.number().int(), units: z.number().nonnegative() }),
])
export type ClientMessage = z.infer<typeof ClientMessage>

export type ServerMessage =
  | { t: 'res'; id: number; ok: true; result: unknown }
  | { t: 'res'; id: number; ok: false; error: ApiErrorShape }
  | { t: 'evt'; id: number; data: unknown }
  | { t: 'end'; id: number; error?: ApiErrorShape }

export const ServerMessage: z.ZodType<ServerMessage> = z.union([
  z.object({ t: z.literal('res'), id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.object({ t: z.literal('res'), id: z.number(), ok: z.literal(false), error: ApiErrorShape }),
  z.object({ t: z.literal('evt'), id: z.number(), data: z.unknown() }),
  z.object({ t: z.literal('end'), id: z.number(), error: ApiErrorShape.optional() }),
]) as z.ZodType<ServerMessage>

export type Result<T> = { ok: true; result: T } | { ok: false; error: ApiErrorShape }
