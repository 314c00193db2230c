import { createReadStream } from 'node:fs'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { rendererDir } from '../services/app-files'
import type { Router } from '../services/router'
import type { RouterSession } from '../services/router'
import { chooseEncoding, createCompressedCache, isCompressible } from './compression'
import { APP_CSP, LOGIN_CSP, setSecurityHeaders } from './headers'
import { LOGIN_PATH, loginPage, readLoginForm } from './pages'
import { contentTypeFor, lookupStatic } from './static-files'
import { generateToken, parseCookies, tokensEqual } from './token'
import { attachSession } from './ws-session'

export const DEFAULT_PORT = 7860
export const DEFAULT_HOST = '127.0.0.1'
export const API_PATH = '/api'

/** The built renderer: out/renderer in a checkout, the unpacked copy in an installed app. */
export function defaultStaticRoot(): string {
  return rendererDir()
}

export interface HeadlessServerOptions {
  router: Router
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** Folder served over HTTP (the built renderer); tests point it at a temporary folder. */
  staticRoot?: string
  /** Only tests pass one; normally a fresh random token per start. */
  token?: string
  /** WebSocket keep-alive ping interval; dead peers are dropped so their subscriptions stop. */
  pingIntervalMs?: number
}

export interface HeadlessServer {
  url: string
  /** The URL with ?token=, to open in a browser. */
  loginUrl: string
  token: string
  port: number
  host: string
  /** Live WebSocket sessions (for tests and diagnostics). */
  readonly sessionCount: number
  close(): Promise<void>
}

/** Hosts that only this machine can reach. Anything else gets a warning at start. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return host === '::' ? '[::1]' : '127.0.0.1'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/**
 * Serves the built renderer and the API (WebSocket at /api) to a browser. Every request needs the
 * per-start token, as ?token= once (turned into an HttpOnly cookie) or as that cookie afterwards;
 * without it only the login page is served, with status 401.
 */
export async function startHeadlessServer(options: HeadlessServerOptions): Promise<HeadlessServer> {
  const host = options.host ?? DEFAULT_HOST
  const token = options.token ?? generateToken()
  const staticRoot = options.staticRoot ?? defaultStaticRoot()
  const sessions = new Map<WebSocket, RouterSession>()
  const compressed = createCompressedCache()
  let cookieName = 'sdxl_studio_token'

  const authorized = (req: IncomingMessage, url: URL): 'cookie' | 'query' | null => {
    // The query wins so a valid ?token= is always stripped from the address bar.
    if (tokensEqual(url.searchParams.get('token'), token)) return 'query'
    if (tokensEqual(parseCookies(req.headers.cookie).get(cookieName), token)) return 'cookie'
    return null
  }

  const sendLogin = (res: ServerResponse, wrongToken: boolean) => {
    setSecurityHeaders(res, LOGIN_CSP)
    res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' })
    res.end(loginPage({ wrongToken }))
  }

  const sendPlain = (
    res: ServerResponse,
    status: number,
    text: string,
    extra: Record<string, string> = {},
  ) => {
    setSecurityHeaders(res, LOGIN_CSP)
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      ...extra,
    })
    res.end(`${text}\n`)
  }

  /** Trades the token for the cookie and sends the browser to `location`, a path on this server. */
  const sendLoggedIn = (res: ServerResponse, location: string) => {
    setSecurityHeaders(res, LOGIN_CSP)
    // 303: the browser follows with a GET, and the address that carried the token (a ?token= URL,
    // or the form post) is a redirect source, never an entry of its own in the tab's history.
    res.writeHead(303, {
      Location: location,
      'Set-Cookie': `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      'Cache-Control': 'no-store',
    })
    res.end()
  }

  const handleLoginPost = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A form from another site must not log a browser in (nor probe tokens): same origin only.
    if (isCrossSiteForm(req)) return sendPlain(res, 403, 'Forbidden')
    const form = await readLoginForm(req)
    if (form.kind === 'too_large') return sendPlain(res, 413, 'The login form is too large')
    if (form.kind === 'bad_type') {
      return sendPlain(res, 415, 'Send the login form as application/x-www-form-urlencoded')
    }
    if (!tokensEqual(form.token, token)) return sendLogin(res, true)
    return sendLoggedIn(res, '/')
  }

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = parseRequestUrl(req.url)
    if (!url) return sendPlain(res, 400, 'Bad request path')
    if (req.method === 'POST' && url.pathname === LOGIN_PATH) return handleLoginPost(req, res)
    const auth = authorized(req, url)
    if (!auth) return sendLogin(res, url.searchParams.has('token'))
    if (auth === 'query') {
      // Take the token out of the address bar (and history, and logs); keep the rest of the address.
      url.searchParams.delete('token')
      const query = url.searchParams.toString()
      return sendLoggedIn(res, `${url.pathname.replace(/^\/+/, '/')}${query ? `?${query}` : ''}`)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendPlain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' })
    }
    if (url.pathname === API_PATH)
      return sendPlain(res, 426, 'The API is a WebSocket: connect with ws://', { Upgrade: 'websocket' })
    const found = await lookupStatic(staticRoot, url.pathname)
    if (found.kind === 'bad_path') return sendPlain(res, 400, 'Bad request path')
    if (found.kind === 'not_found') {
      return sendPlain(
        res,
        404,
        url.pathname === '/'
          ? `The renderer is not built (no index.html in ${staticRoot}). Run: npm run build`
          : 'Not found',
      )
    }
    const headers: Record<string, string> = {
      'Content-Type': contentTypeFor(found.file),
      // Hashed asset names change with every build; the HTML must always be revalidated.
      'Cache-Control': found.file.endsWith('.html') ? 'no-store' : 'private, max-age=3600',
    }
    let body: Buffer | null = null
    if (isCompressible(found.file, found.size)) {
      // Caches must keep the encodings apart, whichever this answer uses.
      headers.Vary = 'Accept-Encoding'
      const encoding = chooseEncoding(req.headers['accept-encoding'])
      if (encoding) {
        body = await compressed.get(found.file, found.size, found.mtimeMs, encoding)
        headers['Content-Encoding'] = encoding
      }
    }
    headers['Content-Length'] = String(body ? body.length : found.size)
    setSecurityHeaders(res, APP_CSP)
    res.writeHead(200, headers)
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    if (body) {
      res.end(body)
      return
    }
    const stream = createReadStream(found.file)
    stream.on('error', () => res.destroy())
    stream.pipe(res)
  }

  const server = http.createServer((req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendPlain(res, 500, `Internal error: ${error instanceof Error ? error.message : String(error)}`)
      else res.destroy()
    })
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 })

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const url = parseRequestUrl(req.url)
    if (!url || url.pathname !== API_PATH) return refuseUpgrade(socket, 404, 'Not Found')
    if (!authorized(req, url)) return refuseUpgrade(socket, 401, 'Unauthorized')
    if (!sameOrigin(req)) return refuseUpgrade(socket, 403, 'Forbidden')
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = attachSession(ws, options.router)
      sessions.set(ws, session)
      let alive = true
      ws.on('pong', () => (alive = true))
      const ping = setInterval(() => {
        if (!alive) return ws.terminate()
        alive = false
        ws.ping()
      }, options.pingIntervalMs ?? 30_000)
      ws.on('close', () => {
        clearInterval(ping)
        session.close()
        sessions.delete(ws)
      })
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  // Cookies ignore ports: name ours per port so two servers on one host don't overwrite each other.
  cookieName = `sdxl_studio_token_${port}`
  const base = `http://${urlHost(host)}:${port}`

  let closing: Promise<void> | null = null
  return {
    url: `${base}/`,
    loginUrl: `${base}/?token=${token}`,
    token,
    port,
    host,
    get sessionCount() {
      return sessions.size
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const [ws, session] of sessions) {
          session.close()
          ws.close(1001, 'Server shutting down')
        }
        sessions.clear()
        server.close(() => resolve())
        // Browsers keep idle HTTP connections open; end them so close() finishes promptly.
        server.closeIdleConnections()
        setTimeout(() => {
          for (const ws of wss.clients) ws.terminate()
          server.closeAllConnections()
        }, 1000).unref()
      }).then(() => new Promise<void>((resolve) => wss.close(() => resolve())))
      return closing
    },
  }
}

function parseRequestUrl(raw: string | undefined): URL | null {
  try {
    return new URL(raw ?? '/', 'http://server.invalid')
  } catch {
    return null
  }
}

/**
 * A browser always sends Origin on WebSocket upgrades; it must name this server exactly as the
 * browser reached it (the Host header), so pages from other sites can't open our API even if a
 * cookie would ride along.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  const host = req.headers.host
  if (!origin || !host) return false
  let parsed: URL
  try {
    parsed = new URL(origin)
  } catch {
    return false
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false
  const expectedPort = parsed.port || (parsed.protocol === 'https:' ? '443' : '80')
  const hostUrl = parseHost(host, parsed.protocol)
  if (!hostUrl) return false
  const hostPort = hostUrl.port || (parsed.protocol === 'https:' ? '443' : '80')
  return parsed.hostname.toLowerCase() === hostUrl.hostname.toLowerCase() && expectedPort === hostPort
}

/**
 * Whether a form post comes from another site. Browsers say so in Sec-Fetch-Site; our pages send no
 * referrer, which makes a browser send `Origin: null` for their own forms, so Origin decides only
 * when it names a real origin. Clients that send neither (curl, a script) are not browsers: allowed.
 */
export function isCrossSiteForm(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined) return site !== 'same-origin' && site !== 'none'
  const origin = req.headers.origin
  if (origin === undefined || origin === 'null') return false
  return !sameOrigin(req)
}

function parseHost(host: string, protocol: string): URL | null {
  try {
    const u = new URL(`${protocol}//${host}`)
    return u.pathname === '/' && !u.username && !u.password ? u : null
  } catch {
    return null
  }
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  socket.once('finish', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}
