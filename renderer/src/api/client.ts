import { createMessageClient, type ApiClient } from '../../../core/api/client'
import { ApiError } from '../../../core/api/errors'
import type { ServerMessage } from '../../../core/api/protocol'
import type { PreloadApi } from '../../../core/api/bridge'

declare global {
  interface Window {
    sdxlStudio?: PreloadApi
  }
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
  socket.addEventListener('close', (e) => closeListeners.forEach((l) => l(e.reason || `closed (${e.code})`)))
  return createMessageClient({
    post(message) {
      const text = JSON.stringify(message)
      if (socket.readyState === WebSocket.OPEN) socket.send(text)
      else queue.push(text)
    },
    onMessage: (l) => messageListeners.push(l),
    onClose: (l) => closeListeners.push(l),
  })
}

let client: ApiClient | null = null

export function getApiClient(): ApiClient {
  client ??= window.sdxlStudio ? ipcClient(window.sdxlStudio) : wsClient()
  return client
}
