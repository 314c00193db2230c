import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, promises as fs } from 'node:fs'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream } from 'node:stream/web'
import { fileURLToPath } from 'node:url'
import { EnvHttpProxyAgent, fetch, Response, type Dispatcher } from 'undici'
import { redactUrls, type HostCredential } from '../../../core/env/credentials'
import { envValue } from '../../../core/platform/path-lookup'

/**
 * How an install reaches the network: the credentials for mirror hosts (never in a URL we log),
 * the proxy from the settings (else the usual variables), and the environment those come from.
 */
export interface NetAccess {
  credentials: readonly HostCredential[]
  /** The proxy chosen in the settings; null: HTTPS_PROXY / HTTP_PROXY from `env`, if any. */
  proxy: string | null
  env: NodeJS.ProcessEnv
}

const LOOPBACK = ['localhost', '127.0.0.1', '::1']

function variable(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = envValue(env, n, process.platform)
    if (v) return v
  }
  return undefined
}

/** NO_PROXY as the user set it, plus loopback (a proxy cannot reach this machine's local servers). */
function noProxy(env: NodeJS.ProcessEnv): string {
  const own = variable(env, 'no_proxy', 'NO_PROXY')
  const entries = new Set(
    (own ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  for (const l of LOOPBACK) entries.add(l)
  return [...entries].join(',')
}

/**
 * Proxy variables for the install's commands (pip, uv, git, huggingface_hub all read them). With a
 * proxy in the settings every spelling is set to it, so a different one in the user's environment
 * cannot win; without one, nothing changes except loopback joining NO_PROXY.
 */
export function proxyVariables(access: Pick<NetAccess, 'proxy' | 'env'>): Record<string, string> {
  const envProxy = variable(access.env, 'https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY')
  if (!access.proxy && !envProxy) return {}
  const vars: Record<string, string> = { NO_PROXY: noProxy(access.env), no_proxy: noProxy(access.env) }
  if (access.proxy) {
    for (const n of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) vars[n] = access.proxy
  }
  return vars
}

/** The dispatcher for our own downloads: the settings' proxy, else the environment's, honouring NO_PROXY. */
export function dispatcherFor(access: Pick<NetAccess, 'proxy' | 'env'>): Dispatcher {
  const httpProxy = access.proxy ?? variable(access.env, 'http_proxy', 'HTTP_PROXY') ?? ''
  const httpsProxy = access.proxy ?? variable(access.env, 'https_proxy', 'HTTPS_PROXY') ?? httpProxy
  // proxyTunnel false: plain-HTTP addresses go as ordinary proxy requests, not CONNECT tunnels,
  // which many proxies (Squid's defaults) allow only to port 443. HTTPS is always tunnelled.
  return new EnvHttpProxyAgent({ httpProxy, httpsProxy, noProxy: noProxy(access.env), proxyTunnel: false })
}

/** Basic auth for a URL whose origin has credentials (sent to that origin only, never to a redirect elsewhere). */
export function authHeader(url: string, credentials: readonly HostCredential[]): Record<string, string> {
  let origin: string
  try {
    origin = new URL(url).origin
  } catch {
    return {}
  }
  const c = credentials.find((x) => x.origin === origin)
  if (!c) return {}
  return { authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` }
}

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message)
    this.name = 'DownloadError'
  }
}

const PROXY_AUTH =
  'The proxy wants a user name and password (HTTP 407): write them into the proxy address ' +
  '(http://user:password@proxy:port) in Settings → Downloads and mirrors, or check the ones there.'

/** What went wrong in a request, in words, with the URL shown without credentials. */
function describeFailure(url: string, error: unknown, viaProxy: boolean): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  const code = cause?.code ?? (error as NodeJS.ErrnoException).code
  const what = cause?.message ?? (error instanceof Error ? error.message : String(error))
  const hint = viaProxy
    ? ' Check the proxy address and that it allows this site.'
    : ' Check the connection, or set a mirror or a proxy in Settings → Downloads and mirrors.'
  return `Could not reach ${redactUrls(url)} (${code ? `${code}: ` : ''}${what}).${hint}`
}

/**
 * GET through the proxy rules, with the mirror's credentials; `use` reads the answer, then the
 * connection is closed. Throws DownloadError on a network error or a non-2xx answer.
 */
async function httpGet<T>(
  url: string,
  access: NetAccess,
  options: { accept?: string; signal?: AbortSignal },
  use: (res: Response) => Promise<T>,
): Promise<T> {
  if (/^file:/i.test(url)) return fileGet(url, use)
  const dispatcher = dispatcherFor(access)
  const viaProxy = !!(
    access.proxy ?? variable(access.env, 'https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY')
  )
  try {
    let res: Response
    try {
      res = await fetch(url, {
        dispatcher,
        redirect: 'follow',
        headers: {
          ...authHeader(url, access.credentials),
          ...(options.accept ? { accept: options.accept } : {}),
        },
        ...(options.signal ? { signal: options.signal } : {}),
      })
    } catch (error) {
      // undici reports a proxy's 407 as an error (tunnel or not), not as a response.
      const text = `${(error as { cause?: Error }).cause?.message ?? ''} ${(error as Error).message ?? ''}`
      if (viaProxy && /\b407\b/.test(text)) throw new DownloadError(PROXY_AUTH, 407)
      throw new DownloadError(describeFailure(url, error, viaProxy))
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined)
      throw new DownloadError(
        `HTTP ${res.status} for ${redactUrls(url)}.` +
          (res.status === 407
            ? ` ${PROXY_AUTH}`
            : res.status === 401 || res.status === 403
              ? ' The server refused access: check the user name and password in the mirror address.'
              : res.status === 404
                ? ' The file is not there: check the mirror address.'
                : ''),
        res.status,
      )
    }
    return await use(res)
  } finally {
    await dispatcher.close().catch(() => undefined)
  }
}

/**
 * A file:// address (a PyPI-style index in a local folder, as pip and uv read `--index-url file:///…`):
 * a folder stands for its index.html, as in pip. Answered like a web server would, so uv's page and
 * wheel come from an offline wheelhouse the same way as from a mirror.
 */
async function fileGet<T>(url: string, use: (res: Response) => Promise<T>): Promise<T> {
  let file: string
  try {
    file = fileURLToPath(url)
  } catch (error) {
    throw new DownloadError(
      `${redactUrls(url)} is not a folder on this machine (${(error as Error).message}).`,
    )
  }
  const st = await fs.stat(file).catch(() => null)
  // A folder (or an address ending in /, as a project page does) stands for its index.html.
  const target = st?.isDirectory() || url.endsWith('/') ? path.join(file, 'index.html') : file
  const found = target === file ? st : await fs.stat(target).catch(() => null)
  if (!found?.isFile()) {
    throw new DownloadError(`${target} does not exist: check the mirror folder.`, 404)
  }
  const body = Readable.toWeb(createReadStream(target)) as ReadableStream<Uint8Array>
  const type = /\.html?$/i.test(target) ? 'text/html' : 'application/octet-stream'
  return use(new Response(body, { status: 200, headers: { 'content-type': type } }))
}

/**
 * Whether a page answers 2xx (true), answers with an error status (false), or cannot be reached at
 * all (null: offline, or a proxy in the way). The body is not read.
 */
export async function urlAnswers(url: string, access: NetAccess, timeoutMs: number): Promise<boolean | null> {
  try {
    return await httpGet(
      url,
      access,
      { accept: 'text/html', signal: AbortSignal.timeout(timeoutMs) },
      async (res) => {
        await res.body?.cancel().catch(() => undefined)
        return true
      },
    )
  } catch (error) {
    return error instanceof DownloadError && error.status !== null ? false : null
  }
}

/** A small text answer (an index page): its body, content type and final URL (after redirects). */
export function fetchText(
  url: string,
  access: NetAccess,
  options: { accept?: string; signal?: AbortSignal; maxBytes?: number } = {},
): Promise<{ body: string; contentType: string; url: string }> {
  return httpGet(url, access, options, async (res) => {
    const body = await res.text()
    if (body.length > (options.maxBytes ?? 32 << 20)) {
      throw new DownloadError(`The answer from ${redactUrls(url)} is unexpectedly large; refused.`)
    }
    return { body, contentType: res.headers.get('content-type') ?? '', url: res.url || url }
  })
}

/**
 * Downloads to `<to>.part` and renames it, so an interrupted download never looks complete. With
 * `sha256`, the file is checked as it streams and refused (deleted) when it differs.
 */
export async function downloadFile(
  url: string,
  to: string,
  access: NetAccess,
  options: { sha256?: string; maxBytes?: number; signal?: AbortSignal } = {},
): Promise<{ bytes: number; sha256: string }> {
  await fs.mkdir(path.dirname(to), { recursive: true })
  const part = `${to}.part`
  const hash = createHash('sha256')
  let bytes = 0
  const max = options.maxBytes ?? Number.POSITIVE_INFINITY
  await httpGet(url, access, options.signal ? { signal: options.signal } : {}, async (res) => {
    if (!res.body) throw new DownloadError(`Empty answer from ${redactUrls(url)}.`)
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length
        if (bytes > max) {
          done(new DownloadError(`${redactUrls(url)} is larger than expected (over ${max} bytes); refused.`))
          return
        }
        hash.update(chunk)
        done(null, chunk)
      },
    })
    try {
      await pipeline(res.body, meter, createWriteStream(part))
    } catch (error) {
      await fs.rm(part, { force: true })
      throw error instanceof DownloadError ? error : new DownloadError(describeFailure(url, error, false))
    }
  })
  const digest = hash.digest('hex')
  if (options.sha256 && digest !== options.sha256.toLowerCase()) {
    await fs.rm(part, { force: true })
    throw new DownloadError(
      `The file from ${redactUrls(url)} does not match the index's sha256 (expected ${options.sha256}, got ${digest}). ` +
        'It was deleted. A proxy or mirror may have altered it; try again, or use another mirror.',
    )
  }
  await fs.rename(part, to)
  return { bytes, sha256: digest }
}
