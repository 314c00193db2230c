import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServices, type Services } from '../../electron/services'
import { chooseEncoding } from '../../electron/server/compression'
import { startHeadlessServer, type HeadlessServer } from '../../electron/server/server'

let services: Services
let server: HeadlessServer
let base: string
let cookie: string
let origin: string
const bigJs = `${'export const line = "SDXL Studio renderer chunk";\n'.repeat(2000)}// end\n`
const smallJs = 'console.log(1)\n'
const png = Buffer.alloc(4096, 7)

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function request(
  method: string,
  pathAndQuery: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method, path: pathAndQuery, headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const form = (token: string) => `token=${encodeURIComponent(token)}`
const FORM = 'application/x-www-form-urlencoded'

/** POSTs the login form (the real token unless a body is given), as a form, with these headers on top. */
function login(headers: Record<string, string>, body: string = form(server.token)): Promise<Reply> {
  return request('POST', '/login', { 'Content-Type': FORM, ...headers }, body)
}

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'sdxl-server-login-'))
  const www = path.join(base, 'www')
  mkdirSync(path.join(www, 'assets'), { recursive: true })
  writeFileSync(
    path.join(www, 'index.html'),
    `<!doctype html><title>app-index</title>${'<p>x</p>'.repeat(300)}`,
  )
  writeFileSync(path.join(www, 'assets', 'big.js'), bigJs)
  writeFileSync(path.join(www, 'assets', 'small.js'), smallJs)
  writeFileSync(path.join(www, 'assets', 'pic.png'), png)
  services = createServices({
    dataDir: path.join(base, 'data'),
    mode: 'test',
    env: { PATH: '' },
    version: '0',
  })
  server = await startHeadlessServer({ router: services.router, port: 0, staticRoot: www })
  cookie = `sdxl_studio_token_${server.port}=${server.token}`
  origin = `http://127.0.0.1:${server.port}`
})

afterAll(async () => {
  await server?.close()
  await services?.dispose()
  if (base) rmSync(base, { recursive: true, force: true })
})

describe('login by POST (the token never travels in an address)', () => {
  it('the login page posts the form to /login', async () => {
    const page = await request('GET', '/')
    expect(page.status).toBe(401)
    expect(page.body.toString()).toContain('<form method="post" action="/login">')
    expect(page.body.toString()).not.toContain('method="get"')
  })

  it('the right token: the cookie and a 303 to the app, with nothing cached', async () => {
    const r = await login({ Origin: origin })
    expect(r.status).toBe(303)
    expect(r.headers.location).toBe('/')
    expect(r.headers['set-cookie']?.[0]).toContain(
      `sdxl_studio_token_${server.port}=${server.token}; HttpOnly; SameSite=Strict`,
    )
    expect(r.headers['cache-control']).toBe('no-store')
    expect(r.headers['referrer-policy']).toBe('no-referrer')
    // A form post without Origin (older browsers, curl) works too.
    const noOrigin = await login({ 'Content-Type': `${FORM}; charset=UTF-8` })
    expect(noOrigin.status).toBe(303)
  })

  it('a wrong, empty, missing, huge or Cyrillic token: the login page again, with the notice, no cookie', async () => {
    for (const body of [
      form('not-the-token'),
      form(''),
      'other=1',
      form('токен'),
      form(`${server.token}x`),
      form('-1'),
      form('1e-4'),
    ]) {
      const r = await login({ Origin: origin }, body)
      expect(r.status, body).toBe(401)
      expect(r.headers['set-cookie'], body).toBeUndefined()
      expect(r.body.toString(), body).toContain('not valid')
    }
  })

  it('refuses a post from another site, another content type, or an oversized form', async () => {
    const foreign = await login({ Origin: 'https://evil.example' })
    expect(foreign.status).toBe(403)
    expect(foreign.headers['set-cookie']).toBeUndefined()
    const crossSite = await login({ Origin: 'null', 'Sec-Fetch-Site': 'cross-site' })
    expect(crossSite.status).toBe(403)
    // Our own page's form: no referrer, so the browser says Origin: null, and Sec-Fetch-Site same-origin.
    const own = await login({ Origin: 'null', 'Sec-Fetch-Site': 'same-origin' })
    expect(own.status).toBe(303)
    const json = await request(
      'POST',
      '/login',
      { 'Content-Type': 'application/json' },
      JSON.stringify({ token: server.token }),
    )
    expect(json.status).toBe(415)
    const huge = await login({}, `token=${'a'.repeat(100_000)}`)
    expect(huge.status).toBe(413)
    // The server is still fine afterwards.
    expect((await request('GET', '/', { Cookie: cookie })).status).toBe(200)
  })

  it('GET /login is not a way in: without the cookie it is the login page', async () => {
    const r = await request('GET', `/login?token=nope`)
    expect(r.status).toBe(401)
    // Other methods on /login with the cookie are refused like anywhere else.
    expect((await request('PUT', '/login', { Cookie: cookie })).status).toBe(405)
  })
})

describe('gzip and brotli for the renderer', () => {
  it('chooses by Accept-Encoding: q-values, *, brotli on a tie, identity when nothing fits', () => {
    expect(chooseEncoding('gzip, deflate, br, zstd')).toBe('br')
    expect(chooseEncoding('gzip')).toBe('gzip')
    expect(chooseEncoding('br;q=0.5, gzip;q=0.8')).toBe('gzip')
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip')
    expect(chooseEncoding('*')).toBe('br')
    expect(chooseEncoding('*;q=0, gzip;q=0.1')).toBe('gzip')
    expect(chooseEncoding(['gzip', 'br'])).toBe('br')
    for (const none of [
      undefined,
      '',
      'identity',
      'deflate',
      'br;q=0, gzip;q=0',
      '*;q=0',
      'gzip;q=-1',
      'gzip;q=1.5',
      'gzip;q=abc',
      'гзип',
      ',,,',
      'x'.repeat(5000),
    ]) {
      expect(chooseEncoding(none), String(none).slice(0, 40)).toBeNull()
    }
  })

  it('serves a large script compressed, with Vary and the compressed length, and the same bytes inside', async () => {
    const br = await request('GET', '/assets/big.js', {
      Cookie: cookie,
      'Accept-Encoding': 'gzip, deflate, br',
    })
    expect(br.status).toBe(200)
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers.vary).toBe('Accept-Encoding')
    expect(Number(br.headers['content-length'])).toBe(br.body.length)
    expect(br.body.length).toBeLessThan(bigJs.length / 10)
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(bigJs)

    const gz = await request('GET', '/assets/big.js', { Cookie: cookie, 'Accept-Encoding': 'gzip' })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(zlib.gunzipSync(gz.body).toString()).toBe(bigJs)

    const plain = await request('GET', '/assets/big.js', { Cookie: cookie })
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.headers.vary).toBe('Accept-Encoding')
    expect(plain.body.toString()).toBe(bigJs)

    const head = await request('HEAD', '/assets/big.js', { Cookie: cookie, 'Accept-Encoding': 'br' })
    expect(head.headers['content-encoding']).toBe('br')
    expect(head.headers['content-length']).toBe(br.headers['content-length'])
    expect(head.body.length).toBe(0)

    const html = await request('GET', '/', { Cookie: cookie, 'Accept-Encoding': 'br' })
    expect(html.headers['content-encoding']).toBe('br')
    expect(html.headers['cache-control']).toBe('no-store')
    expect(zlib.brotliDecompressSync(html.body).toString()).toContain('app-index')
  })

  it('leaves small files and images as they are', async () => {
    const small = await request('GET', '/assets/small.js', { Cookie: cookie, 'Accept-Encoding': 'br, gzip' })
    expect(small.headers['content-encoding']).toBeUndefined()
    expect(small.body.toString()).toBe(smallJs)
    const pic = await request('GET', '/assets/pic.png', { Cookie: cookie, 'Accept-Encoding': 'br, gzip' })
    expect(pic.headers['content-encoding']).toBeUndefined()
    expect(pic.headers.vary).toBeUndefined()
    expect(pic.body.equals(png)).toBe(true)
  })

  it('a rebuilt file is compressed again, not served from the old copy', async () => {
    const dir = path.join(base, 'rebuild')
    const www = path.join(dir, 'www')
    mkdirSync(path.join(www, 'assets'), { recursive: true })
    writeFileSync(path.join(www, 'index.html'), '<!doctype html>')
    const file = path.join(www, 'assets', 'chunk.js')
    writeFileSync(file, `${'first build;\n'.repeat(500)}`)
    const other = await startHeadlessServer({
      router: services.router,
      port: 0,
      staticRoot: www,
      token: server.token,
    })
    try {
      const get = () =>
        new Promise<string>((resolve) => {
          http.get(
            {
              host: '127.0.0.1',
              port: other.port,
              path: '/assets/chunk.js',
              headers: {
                Cookie: `sdxl_studio_token_${other.port}=${server.token}`,
                'Accept-Encoding': 'gzip',
              },
            },
            (res) => {
              const chunks: Buffer[] = []
              res.on('data', (c: Buffer) => chunks.push(c))
              res.on('end', () => resolve(zlib.gunzipSync(Buffer.concat(chunks)).toString()))
            },
          )
        })
      expect(await get()).toContain('first build')
      writeFileSync(file, `${'second build, longer;\n'.repeat(500)}`)
      expect(await get()).toContain('second build')
    } finally {
      await other.close()
    }
  })
})
