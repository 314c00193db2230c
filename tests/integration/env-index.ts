import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, promises as fs, readdirSync, renameSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import path from 'node:path'
import { UV_VERSION } from '../../core/env/uv-wheel'
import { ensureSharedCache, realPython } from './env-helpers'

/**
 * The real uv wheel for this machine (Linux x86_64/aarch64, glibc), downloaded from PyPI once into
 * the shared test cache (by pip, which checks it against PyPI), so tests serve it from a local index.
 */
export function cachedUvWheel(): string {
  const dir = path.join(ensureSharedCache(), `uv-wheel-${UV_VERSION}`)
  const find = () => (existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.whl')) : undefined)
  const have = find()
  if (have) return path.join(dir, have)
  const tmp = mkdtempSync(path.join(ensureSharedCache(), 'uv-wheel-tmp-'))
  const machine = process.arch === 'arm64' ? 'aarch64' : 'x86_64'
  execFileSync(
    realPython(),
    [
      ...['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary', ':all:'],
      ...['--platform', `manylinux_2_17_${machine}`, '--index-url', 'https://pypi.org/simple'],
      ...['-d', tmp, `uv==${UV_VERSION}`],
    ],
    { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '' }, stdio: 'pipe' },
  )
  try {
    renameSync(tmp, dir)
  } catch {
    // another test file won the race; use theirs
    rmSync(tmp, { recursive: true, force: true })
  }
  return path.join(dir, find()!)
}

export interface RecordedRequest {
  method: string
  path: string
  /** The decoded "user:password" of a Basic Authorization header, if any. */
  auth: string | null
  accept: string
}

export interface LocalIndex {
  /** http://127.0.0.1:<port>/simple */
  url: string
  /** The Python download mirror (UV_PYTHON_INSTALL_MIRROR): every request answers 404 and is recorded. */
  pythonMirror: string
  requests: RecordedRequest[]
  close(): Promise<void>
}

const basic = (req: http.IncomingMessage): string | null => {
  const h = req.headers.authorization
  if (!h?.startsWith('Basic ')) return null
  return Buffer.from(h.slice(6), 'base64').toString('utf8')
}

/**
 * A PyPI-like simple index on 127.0.0.1: `/simple/uv/` lists the cached uv wheel (PEP 691 JSON when
 * asked for it, else PEP 503 HTML, with its sha256), `/files/<wheel>` serves it; other projects'
 * pages are fetched from pypi.org and passed through (their files stay on PyPI's file host), so a
 * real install works against it. With `auth` ("user:password") every index request without those
 * credentials gets 401, like a private mirror. `/pbs/...` records Python download requests.
 * `tamper` serves a wheel whose bytes differ from the listed hash. `local` serves some projects from
 * PyPI-style folders on disk (project → folder with index.html and the files it links) instead.
 */
export async function startLocalIndex(
  opts: { auth?: string; tamper?: boolean; html?: boolean; local?: Record<string, string> } = {},
): Promise<LocalIndex> {
  const wheel = cachedUvWheel()
  const wheelName = path.basename(wheel)
  const body = await fs.readFile(wheel)
  const sha = createHash('sha256').update(body).digest('hex')
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()

  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    requests.push({
      method: req.method ?? '',
      path: p,
      auth: basic(req),
      accept: String(req.headers.accept ?? ''),
    })
    if (p.startsWith('/pbs/')) {
      res.writeHead(404).end('no Python builds here')
      return
    }
    if (opts.auth && basic(req) !== opts.auth) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mirror"' }).end('credentials needed')
      return
    }
    if (p === '/simple/uv/' || p === '/simple/uv') {
      const json = /application\/vnd\.pypi\.simple\.v1\+json/.test(String(req.headers.accept)) && !opts.html
      if (json) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.pypi.simple.v1+json' })
        res.end(
          JSON.stringify({
            meta: { 'api-version': '1.1' },
            name: 'uv',
            files: [{ filename: wheelName, url: `../../files/${wheelName}`, hashes: { sha256: sha } }],
          }),
        )
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' })
        res.end(`<html><body><a href="/files/${wheelName}#sha256=${sha}">${wheelName}</a></body></html>`)
      }
      return
    }
    if (p === `/files/${wheelName}`) {
      const out = opts.tamper ? Buffer.concat([body, Buffer.from('tampered')]) : body
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': out.length })
      res.end(out)
      return
    }
    const onDisk = /^\/simple\/([^/]+)\/([^/]*)$/.exec(p)
    const folder = onDisk?.[1] ? opts.local?.[onDisk[1]] : undefined
    if (onDisk && folder) {
      const file = path.join(folder, onDisk[2] || 'index.html')
      fs.readFile(file).then(
        (data) =>
          res
            .writeHead(200, { 'Content-Type': onDisk[2] ? 'application/octet-stream' : 'text/html' })
            .end(data),
        () => res.writeHead(404).end('not found'),
      )
      return
    }
    const project = /^\/simple\/([^/]+)\/?$/.exec(p)
    if (project) {
      // Pass the real page through (absolute links to PyPI's file host).
      https
        .get(`https://pypi.org/simple/${project[1]}/`, { headers: { accept: 'text/html' } }, (up) => {
          res.writeHead(up.statusCode ?? 502, { 'Content-Type': up.headers['content-type'] ?? 'text/html' })
          up.pipe(res)
        })
        .on('error', (e) => res.writeHead(502).end(String(e)))
      return
    }
    res.writeHead(404).end('not found')
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: `${base}/simple`,
    pythonMirror: `${base}/pbs`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

export interface ProxyRecord {
  method: string
  /** The request target: an absolute URL for plain HTTP, host:port for CONNECT. */
  target: string
  /** The decoded "user:password" of Proxy-Authorization, if any. */
  auth: string | null
}

/**
 * A forward HTTP proxy on 127.0.0.1 that records what goes through it. Plain-HTTP requests to
 * `serveHost` are answered from `files` (path → body); CONNECT tunnels are refused with 502 after
 * being recorded (nothing here can reach the internet). With `auth`, requests without those
 * Proxy-Authorization credentials get 407.
 */
export async function startProxy(opts: {
  auth?: string
  serveHost?: string
  files?: Record<string, Buffer>
}): Promise<{ url: string; records: ProxyRecord[]; close(): Promise<void> }> {
  const records: ProxyRecord[] = []
  const sockets = new Set<Socket>()
  const proxyAuth = (h: string | undefined) =>
    h?.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : null
  const server = http.createServer((req, res) => {
    const auth = proxyAuth(req.headers['proxy-authorization'])
    records.push({ method: req.method ?? '', target: req.url ?? '', auth })
    if (opts.auth && auth !== opts.auth) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"' }).end()
      return
    }
    let url: URL
    try {
      url = new URL(req.url ?? '')
    } catch {
      res.writeHead(400).end('absolute URL expected')
      return
    }
    const file = url.hostname === opts.serveHost ? opts.files?.[url.pathname] : undefined
    if (!file) {
      res.writeHead(404).end('not here')
      return
    }
    res.writeHead(200, { 'Content-Length': file.length, 'Content-Type': 'application/octet-stream' })
    res.end(file)
  })
  server.on('connect', (req, socket) => {
    records.push({
      method: 'CONNECT',
      target: req.url ?? '',
      auth: proxyAuth(req.headers['proxy-authorization']),
    })
    socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A folder with nothing in it, for HOME or PYENV_ROOT when a test must see no Python at all. */
export function emptyDir(root: string, name: string): string {
  const d = path.join(root, name)
  mkdirSync(d, { recursive: true })
  return d
}
