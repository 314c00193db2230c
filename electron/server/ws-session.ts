import type { WebSocket, RawData } from 'ws'
import type { ServerMessage } from '../../core/api/protocol'
import { RouterSession, type Router } from '../services/router'

/** A client that stops reading while we keep queueing is cut off instead of growing memory forever. */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024

/**
 * Binds one WebSocket to one RouterSession: JSON text in, JSON text out. Anything that is not a
 * JSON text message gets a typed error reply; nothing a client sends can throw out of here.
 */
export function attachSession(socket: WebSocket, router: Router): RouterSession {
  const send = (message: ServerMessage) => {
    if (socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.close(1013, 'Client is not reading its messages; reconnect')
      return
    }
    socket.send(JSON.stringify(message))
  }
  const session = new RouterSession(router, send, { transport: 'ws' })
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      send(badRequest('Binary messages are not supported: send JSON text'))
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(rawToString(data))
    } catch (error) {
      send(badRequest(`Malformed message: not valid JSON (${(error as Error).message})`))
      return
    }
    session.receive(parsed).catch((error: unknown) => {
      send(badRequest(`Could not handle message: ${error instanceof Error ? error.message : String(error)}`))
    })
  })
  socket.on('close', () => session.close())
  socket.on('error', () => session.close())
  return session
}

function badRequest(message: string): ServerMessage {
  return { t: 'res', id: -1, ok: false, error: { code: 'bad_request', message } }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
