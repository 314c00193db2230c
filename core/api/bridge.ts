import type { EventName, RequestName } from './contract'
import type { ApiErrorShape } from './errors'

export const IPC_CHANNEL = 'sdxl-studio:api'

/** What the preload exposes as window.sdxlStudio. */
export interface PreloadApi {
  call(
    method: RequestName,
    input: unknown,
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: ApiErrorShape }>
  subscribe(
    event: EventName,
    params: unknown,
    onData: (data: unknown) => void,
    onEnd: (error?: ApiErrorShape) => void,
  ): { close(): void; processed(units: number): void }
}
