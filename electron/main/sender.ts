import { pathToFileURL } from 'node:url'

export interface TrustedOrigins {
  /** Absolute path of the packaged renderer's index.html. */
  rendererIndexFile: string
  /** The electron-vite dev server URL (ELECTRON_RENDERER_URL), only in development. */
  devServerUrl?: string | undefined
}

function parse(url: string): URL | null {
  try {
    return new URL(url)
  } catch {
    return null
  }
}

/**
 * Whether an IPC message comes from our own page: the packaged index.html over file:// (any hash or
 * query; the SPA routes with them) or, in development, the dev server's origin. Anything else (an
 * iframe, a page navigated elsewhere, a data: URL) gets no API.
 */
export function isTrustedSenderUrl(url: string | undefined | null, trusted: TrustedOrigins): boolean {
  if (!url) return false
  const u = parse(url)
  if (!u) return false
  if (u.protocol === 'file:') {
    const ours = pathToFileURL(trusted.rendererIndexFile)
    return u.host === ours.host && decodeURIComponent(u.pathname) === decodeURIComponent(ours.pathname)
  }
  if (trusted.devServerUrl) {
    const dev = parse(trusted.devServerUrl)
    return !!dev && (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === dev.origin
  }
  return false
}
