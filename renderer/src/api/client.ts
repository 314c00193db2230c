import { createMessageClient, type ApiClient } from '../../../core/api/client'
import { ApiError } from '../../../core/api/api-error'
import type { ServerMessage } from '../../../core/api/protocol'
import type { PreloadApi } from '../../../core/api/bridge'
import { reportConnectionLost } from './connection'
import { trackStartedRuns } from '../desktop/started-runs'

declare global {
  interface Window {
    sdxlStudio?: PreloadApi
  }
}

/** True in the desktop app (the preload's API is there); false in a browser (headless mode). */
export function isDesktopApp(): boolean {
  return window.sdxlStudio !== undefined
}

/** In Electron: the preload's API. */
function ipcClient(api: PreloadApi): ApiClient {
  return {
    async call(method, input) {
      const r = await api.call(method, input)
      if (!r.ok) throw ApiError.from(r.error)
      return r.result as never
    },
    subscribe(event, params, handlers) {
      return api.subscribe(
        event,
        params,
        (d) => handlers.data(d as never),
        (e) => handlers.end?.(e ? ApiError.from(e) : undefined),
      )
    },
  }
}

/** In a browser (headless mode): the same protocol over a WebSocket to the serving origin. */
function wsClient(): ApiClient {
  const url = new URL('/api', window.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  const socket = new WebSocket(url)
  const queue: string[] = []
  const messageListeners: Array<(m: ServerMessage) => void> = []
  const closeListeners: Array<(reason: string) => void> = []
  socket.addEventListener('open', () => queue.splice(0).forEach((m) => socket.send(m)))
  socket.addEventListener('message', (e) => {
    const msg = JSON.parse(String(e.data)) as ServerMessage
    messageListeners.forEach((l) => l(msg))
  })
  socket.addEventListener('close', (e) => {
    const reason = e.reason || `closed (${e.code})`
    reportConnectionLost(reason)
    closeListeners.forEach((l) => l(reason))
  })
  return createMessageClient({
    post(message) {
      const text = JSON.stringify(message)
      if (socket.readyState === WebSocket.OPEN) socket.send(text)
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(text)
      // CLOSING/CLOSED: the close listener has already failed every pending call.
    },
    onMessage: (l) => messageListeners.push(l),
    onClose: (l) => closeListeners.push(l),
  })
}

/**
 * The transport's own 'unavailable' errors carry no details; a domain that reports a missing tool
 * with code 'unavailable' (e.g. gpu.list without nvidia-smi) adds details.kind and is not a lost link.
 */
function isConnectionLoss(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === 'unavailable' && error.details === undefined
}

/** Reports connection loss from any call or stream, whichever transport carries it. */
function watchConnection(inner: ApiClient): ApiClient {
  return {
    async call(method, input) {
      try {
        return await inner.call(method, input)
      } catch (error) {
        if (isConnectionLoss(error)) reportConnectionLost(error.message)
        throw error
      }
    },
    subscribe(event, params, handlers) {
      return inner.subscribe(event, params, {
        data: handlers.data,
        end: (error) => {
          if (isConnectionLoss(error)) reportConnectionLost(error.message)
          handlers.end?.(error)
        },
      })
    },
  }
}

let client: ApiClient | null = null

export function getApiClient(): ApiClient {
  client ??= trackStartedRuns(watchConnection(window.sdxlStudio ? ipcClient(window.sdxlStudio) : wsClient()))
  return client
}

/** Any thrown value as an ApiError, so views can show `code` and `message` uniformly. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError('internal', error instanceof Error ? error.message : String(error))
}
