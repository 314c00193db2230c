import http, { type IncomingHttpHeaders } from 'node:http'
import { WebSocket } from 'ws'
import type { ServerMessage } from '../../core/api/protocol'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A GET with the path sent byte for byte (no client-side normalisation of '..'). */
export function rawRequest(
  port: number,
  pathAndQuery: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathAndQuery, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

export type WsOutcome = { opened: true; socket: WebSocket } | { opened: false; status: number | null }

/** Opens a WebSocket and reports either the open socket or the HTTP status the server refused with. */
export function openSocket(
  url: string,
  options: { headers?: Record<string, string>; origin?: string },
): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, {
      headers: options.headers ?? {},
      ...(options.origin ? { origin: options.origin } : {}),
    })
    socket.once('open', () => resolve({ opened: true, socket }))
    socket.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? null })
      res.resume()
      socket.terminate()
    })
    socket.once('error', () => resolve({ opened: false, status: null }))
  })
}

/** Collects server messages from a socket; `next(pred)` waits for the first matching one. */
export function messageQueue(socket: WebSocket) {
  const seen: ServerMessage[] = []
  const waiters: Array<{ pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = []
  socket.on('message', (data, isBinary) => {
    expectText(isBinary)
    const msg = JSON.parse(String(data)) as ServerMessage
    seen.push(msg)
    for (const w of [...waiters]) {
      if (w.pred(msg)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(msg)
      }
    }
  })
  return {
    seen,
    next(pred: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
      const already = seen.find(pred)
      if (already) return Promise.resolve(already)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching message in time')), timeoutMs)
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer)
            resolve(m)
          },
        })
      })
    },
  }
}

function expectText(isBinary: boolean): void {
  if (isBinary) throw new Error('server sent a binary frame; the protocol is JSON text')
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}
