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
  /**
   * The file-system path of a File the user dropped or chose in the page (Electron's
   * webUtils.getPathForFile); '' for a File that is not on disk. Typed loosely: core has no DOM types.
   */
  pathForFile(file: unknown): string
}
