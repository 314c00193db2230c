import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServices, type Services } from '../../electron/services'
import { startHeadlessServer, type HeadlessServer } from '../../electron/server/server'
import { messageQueue, openSocket, rawRequest, waitFor } from './server-helpers'

const SECRET = 'top-secret-outside-the-static-root'

let services: Services
let server: HeadlessServer
let staticRoot: string
let cookie: string
let origin: string

beforeAll(async () => {
  // A tiny stand-in for out/renderer, with a secret file next to it that must never be served.
  const base = mkdtempSync(path.join(tmpdir(), 'sdxl-server-'))
  staticRoot = path.join(base, 'www')
  mkdirSync(path.join(staticRoot, 'assets'), { recursive: true })
  writeFileSync(path.join(staticRoot, 'index.html'), '<!doctype html><title>app-index</title>')
  writeFileSync(path.join(staticRoot, 'assets', 'app.js'), 'console.log("app-asset")')
  writeFileSync(path.join(base, 'secret.txt'), SECRET)
  try {
    symlinkSync(path.join(base, 'secret.txt'), path.join(staticRoot, 'assets', 'link.txt'))
  } catch {
    // Windows without the symlink privilege: the other traversal checks still run.
  }

  services = createServices({
    dataDir: path.join(base, 'data'),
    mode: 'test',
    env: { PATH: '' },
    version: '0.0.0-test',
  })
  server = await startHeadlessServer({ router: services.router, port: 0, staticRoot })
  cookie = `sdxl_studio_token_${server.port}=${server.token}`
  origin = `http://127.0.0.1:${server.port}`
})

afterAll(async () => {
  await server?.close()
  await services?.dispose()
})

describe('headless server over HTTP', () => {
  it('listens on 127.0.0.1 and prints a URL with a long random token', () => {
    expect(server.host).toBe('127.0.0.1')
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`)
    expect(server.loginUrl).toBe(`${server.url}?token=${server.token}`)
    // 32 random bytes in base64url: 43 characters, ≥128 bits.
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('answers any path without the token with 401 and the login page only', async () => {
    for (const p of ['/', '/assets/app.js', '/runs/42', '/api']) {
      const r = await rawRequest(server.port, p)
      expect(r.status).toBe(401)
      expect(r.body).toContain('<form method="post" action="/login">')
      expect(r.body).toContain('name="token"')
      expect(r.body).not.toContain('<script')
      expect(r.body).not.toContain('app-index')
      expect(r.body).not.toContain('app-asset')
      expect(r.headers['content-security-policy']).toContain("default-src 'none'")
      expect(r.headers['x-content-type-options']).toBe('nosniff')
    }
  })

  it('refuses a wrong token or a wrong cookie with 401', async () => {
    const wrong = await rawRequest(server.port, '/?token=not-the-token')
    expect(wrong.status).toBe(401)
    expect(wrong.body).toContain('not valid')
    expect(wrong.headers['set-cookie']).toBeUndefined()
    const wrongCookie = await rawRequest(server.port, '/', {
      Cookie: `sdxl_studio_token_${server.port}=${server.token}x`,
    })
    expect(wrongCookie.status).toBe(401)
    // A cookie of the right value under another server's name (another port) doesn't count.
    const otherPort = await rawRequest(server.port, '/', { Cookie: `sdxl_studio_token_1=${server.token}` })
    expect(otherPort.status).toBe(401)
  })

  it('trades ?token= for an HttpOnly SameSite=Strict cookie and strips it from the URL', async () => {
    const r = await rawRequest(server.port, `/runs/7?tab=log&token=${server.token}`)
    // 303 See Other: the token URL is only a redirect source, never a history entry of its own.
    expect(r.status).toBe(303)
    expect(r.headers.location).toBe('/runs/7?tab=log')
    const setCookie = r.headers['set-cookie']?.[0] ?? ''
    expect(setCookie).toContain(`sdxl_studio_token_${server.port}=${server.token}`)
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Strict')
    expect(setCookie).toContain('Path=/')
  })

  it('does not turn a crafted path into an open redirect', async () => {
    const r = await rawRequest(server.port, `/\\evil.example/?token=${server.token}`)
    expect(r.status).toBe(303)
    expect(r.headers.location?.startsWith('//')).toBe(false)
  })

  it('serves the app, its assets and client routes with the cookie, with security headers', async () => {
    const index = await rawRequest(server.port, '/', { Cookie: cookie })
    expect(index.status).toBe(200)
    expect(index.body).toContain('app-index')
    expect(index.headers['content-type']).toContain('text/html')
    expect(index.headers['content-security-policy']).toContain("script-src 'self'")
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(index.headers['x-content-type-options']).toBe('nosniff')

    const asset = await rawRequest(server.port, '/assets/app.js', { Cookie: cookie })
    expect(asset.status).toBe(200)
    expect(asset.body).toContain('app-asset')
    expect(asset.headers['content-type']).toContain('text/javascript')

    const route = await rawRequest(server.port, '/runs/42', { Cookie: cookie })
    expect(route.status).toBe(200)
    expect(route.body).toContain('app-index')

    const missing = await rawRequest(server.port, '/assets/missing.js', { Cookie: cookie })
    expect(missing.status).toBe(404)

    const head = await rawRequest(server.port, '/assets/app.js', { Cookie: cookie }, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')

    const post = await rawRequest(server.port, '/', { Cookie: cookie }, 'POST')
    expect(post.status).toBe(405)
  })

  it('never serves a file outside the static root', async () => {
    const attempts = [
      '/../secret.txt',
      '/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets/%00.js',
      '/%E0%A4%A',
      '/assets/link.txt',
    ]
    for (const p of attempts) {
      const r = await rawRequest(server.port, p, { Cookie: cookie })
      expect(r.body, p).not.toContain(SECRET)
      // Either refused outright or normalised by the URL parser to a path inside the root.
      expect([200, 400, 404], p).toContain(r.status)
      if (r.status === 200) expect(r.body, p).toContain('app-index')
    }
  })
})

describe('headless server over WebSocket', () => {
  const apiUrl = () => `ws://127.0.0.1:${server.port}/api`

  it('rejects an upgrade without the cookie or with a wrong one (401)', async () => {
    expect(await openSocket(apiUrl(), { origin })).toEqual({ opened: false, status: 401 })
    expect(
      await openSocket(apiUrl(), { origin, headers: { Cookie: `sdxl_studio_token_${server.port}=nope` } }),
    ).toEqual({ opened: false, status: 401 })
  })

  it('rejects an upgrade whose Origin is missing or not the served origin (403)', async () => {
    for (const bad of [
      'http://evil.example',
      `http://localhost:${server.port}`,
      `http://127.0.0.1:1`,
      'null',
    ]) {
      expect(await openSocket(apiUrl(), { origin: bad, headers: { Cookie: cookie } }), bad).toEqual({
        opened: false,
        status: 403,
      })
    }
    expect(await openSocket(apiUrl(), { headers: { Cookie: cookie } })).toEqual({
      opened: false,
      status: 403,
    })
  })

  it('rejects upgrades on other paths', async () => {
    const r = await openSocket(`ws://127.0.0.1:${server.port}/other`, { origin, headers: { Cookie: cookie } })
    expect(r).toEqual({ opened: false, status: 404 })
  })

  it('answers app.info over the real protocol with the cookie and the right Origin', async () => {
    const r = await openSocket(apiUrl(), { origin, headers: { Cookie: cookie } })
    if (!r.opened) throw new Error(`refused: ${r.status}`)
    const q = messageQueue(r.socket)
    r.socket.send(JSON.stringify({ t: 'req', id: 1, method: 'app.info', input: {} }))
    const res = await q.next((m) => m.t === 'res' && m.id === 1)
    expect(res).toMatchObject({ t: 'res', id: 1, ok: true, result: { name: 'SDXL Studio', mode: 'test' } })
    r.socket.close()
  })

  it('accepts the token as ?token= on the upgrade too (still with the right Origin)', async () => {
    const r = await openSocket(`${apiUrl()}?token=${server.token}`, { origin })
    expect(r.opened).toBe(true)
    if (r.opened) r.socket.close()
  })

  it('answers malformed messages with typed errors and keeps the connection usable', async () => {
    const r = await openSocket(apiUrl(), { origin, headers: { Cookie: cookie } })
    if (!r.opened) throw new Error(`refused: ${r.status}`)
    const q = messageQueue(r.socket)
    r.socket.send('{this is not json')
    const notJson = await q.next((m) => m.t === 'res' && m.id === -1)
    expect(notJson).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    if (notJson.t === 'res' && !notJson.ok) expect(notJson.error.message).toContain('not valid JSON')

    r.socket.send(Buffer.from([1, 2, 3]), { binary: true })
    r.socket.send(JSON.stringify({ t: 'req', id: 'x' }))
    r.socket.send(JSON.stringify({ t: 'req', id: 5, method: 'no.such', input: {} }))
    const unknown = await q.next((m) => m.t === 'res' && m.id === 5)
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
    const errors = q.seen.filter((m) => m.t === 'res' && m.id === -1 && !m.ok)
    expect(errors.length).toBe(3)

    r.socket.send(JSON.stringify({ t: 'req', id: 6, method: 'settings.get', input: {} }))
    expect(await q.next((m) => m.t === 'res' && m.id === 6)).toMatchObject({ ok: true })
    r.socket.close()
  })

  it('stops a connection’s subscriptions when its socket closes', async () => {
    const monitor = services.gpu.monitor
    expect(monitor.listening).toBe(0)
    const r = await openSocket(apiUrl(), { origin, headers: { Cookie: cookie } })
    if (!r.opened) throw new Error(`refused: ${r.status}`)
    const q = messageQueue(r.socket)
    r.socket.send(JSON.stringify({ t: 'sub', id: 10, event: 'gpu.watch', params: {} }))
    // PATH is empty, so the reading is an error reading; what matters is that it streams.
    await q.next((m) => m.t === 'evt' && m.id === 10)
    expect(monitor.listening).toBe(1)
    expect(server.sessionCount).toBeGreaterThanOrEqual(1)
    r.socket.close()
    await waitFor(() => monitor.listening === 0)
    await waitFor(() => server.sessionCount === 0)
  })
})

describe('headless server shutdown', () => {
  it('closes live sessions and stops their subscriptions', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'sdxl-server-close-'))
    const s = createServices({ dataDir: base, mode: 'test', env: { PATH: '' }, version: '0' })
    const srv = await startHeadlessServer({ router: s.router, port: 0, staticRoot })
    const r = await openSocket(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, {
      origin: `http://127.0.0.1:${srv.port}`,
    })
    if (!r.opened) throw new Error(`refused: ${r.status}`)
    const q = messageQueue(r.socket)
    r.socket.send(JSON.stringify({ t: 'sub', id: 1, event: 'gpu.watch', params: {} }))
    await q.next((m) => m.t === 'evt')
    expect(s.gpu.monitor.listening).toBe(1)
    const closed = new Promise<number>((resolve) => r.socket.once('close', (code) => resolve(code)))
    await srv.close()
    expect(await closed).toBe(1001)
    expect(s.gpu.monitor.listening).toBe(0)
    await s.dispose()
    await expect(rawRequest(srv.port, '/')).rejects.toThrow()
  })
})
