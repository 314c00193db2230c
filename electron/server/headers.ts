import type { ServerResponse } from 'node:http'
import { RENDERER_CSP } from '../main/csp'

/** The app's policy: the same as the desktop window's (renderer/index.html plus header-only directives). */
export const APP_CSP = RENDERER_CSP

/** The login page runs no script at all; its inline <style> is the only inline content. */
export const LOGIN_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

export function setSecurityHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('Content-Security-Policy', csp)
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
}
