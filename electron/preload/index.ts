import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { createMessageClient } from '../../core/api/client'
import type { EventName, RequestName } from '../../core/api/contract'
import { ApiError, type ApiErrorShape } from '../../core/api/errors'
import type { ClientMessage, ServerMessage } from '../../core/api/protocol'
import { IPC_CHANNEL, type PreloadApi } from '../../core/api/bridge'

/**
 * The renderer gets exactly the typed API: call a request, subscribe to an event stream, and the path of
 * a file the user dropped (a page cannot read it otherwise). No ipcRenderer, no Node, nothing else
 * crosses the bridge. Errors cross as plain data because
 * contextBridge drops custom error fields.
 */
const listeners: Array<(m: ServerMessage) => void> = []
ipcRenderer.on(IPC_CHANNEL, (_event, message: ServerMessage) => listeners.forEach((l) => l(message)))

const client = createMessageClient({
  post: (message: ClientMessage) => ipcRenderer.send(IPC_CHANNEL, message),
  onMessage: (listener) => listeners.push(listener),
  onClose: () => undefined,
})

const api: PreloadApi = {
  async call(method: RequestName, input: unknown) {
    try {
      return { ok: true, result: await client.call(method, input as never) }
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError('internal', String(error))
      return { ok: false, error: e.toJSON() }
    }
  },
  subscribe(
    event: EventName,
    params: unknown,
    onData: (d: unknown) => void,
    onEnd: (e?: ApiErrorShape) => void,
  ) {
    const sub = client.subscribe(event, params as never, {
      data: onData,
      end: (error) => onEnd(error?.toJSON()),
    })
    return { close: () => sub.close(), processed: (units: number) => sub.processed(units) }
  },
  pathForFile(file: unknown) {
    try {
      return webUtils.getPathForFile(file as File)
    } catch {
      return ''
    }
  },
}

contextBridge.exposeInMainWorld('sdxlStudio', api)
