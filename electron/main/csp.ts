/**
 * The renderer's Content Security Policy, the same as renderer/index.html's meta tag. The main
 * process also sends it as a response header, so a page that somehow lost the meta tag is still
 * covered. No remote scripts, no eval, no plugins, no framing, no form posts. Connections only to the
 * page's own origin: the desktop page uses IPC and needs none; in headless mode 'self' covers the
 * page's own ws:// or wss:// origin (CSP Level 3), so the API socket works and no other host does.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Adds the CSP to a response's headers, replacing any the response brought (header names vary in case). */
export function withCsp(
  headers: Record<string, string[] | string> | undefined,
  csp: string = RENDERER_CSP,
): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'content-security-policy') continue
    out[name] = Array.isArray(value) ? value : [value]
  }
  out['Content-Security-Policy'] = [csp]
  return out
}
