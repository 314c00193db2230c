/**
 * Credentials in mirror, proxy and source URLs (https://user:password@mirror/simple). They are kept
 * only in the private settings and registry files; plans, argv, the install log, events and error
 * messages get the URL without them. At run time they reach pip, uv and huggingface_hub through a
 * netrc file, git through an environment-only config, and proxies through the usual variables.
 */

export const MASK = '****'

export interface HostCredential {
  /** scheme://host[:port], lower-cased, as the URL parser gives it. */
  origin: string
  hostname: string
  username: string
  password: string
}

/** The URL without user and password, and what they were (decoded), or null when it has none. */
export function splitCredentials(raw: string): { url: string; credential: HostCredential | null } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { url: raw, credential: null }
  }
  if (url.username === '' && url.password === '') return { url: raw, credential: null }
  const credential: HostCredential = {
    origin: url.origin,
    hostname: url.hostname,
    username: safeDecode(url.username),
    password: safeDecode(url.password),
  }
  // Rebuild from the raw text rather than url.href, which would normalise the rest (IDN, escapes).
  const stripped = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1')
  return { url: stripped, credential }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * Hides the userinfo of every URL in a text: the password (user:****@), and for http(s) a bare
 * user name too, which is how access tokens are usually written (https://TOKEN@host).
 */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*):\/\/([^/\s?#@]*)@/gi, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    if (colon >= 0) return `${scheme}://${userinfo.slice(0, colon)}:${MASK}@`
    return /^https?$/i.test(scheme) && userinfo !== '' ? `${scheme}://${MASK}@` : `${scheme}://${userinfo}@`
  })
}

/** A coded message as it is shown or logged: no URL in its text or string parameters keeps a password. */
export function redactCoded<
  T extends { message: string; params?: Record<string, string | number> | undefined },
>(m: T): T {
  const params = m.params
    ? Object.fromEntries(
        Object.entries(m.params).map(([k, v]) => [k, typeof v === 'string' ? redactUrls(v) : v]),
      )
    : undefined
  return { ...m, message: redactUrls(m.message), ...(params ? { params } : {}) }
}

/** The strings to hide for a set of credentials: each password, raw and percent-encoded. */
export function secretStrings(credentials: readonly HostCredential[]): string[] {
  const out = new Set<string>()
  for (const c of credentials) {
    // Very short values would mask ordinary text ("a") and tell nothing anyway.
    // A bare user name is how access tokens are written (https://TOKEN@host): then it is the secret.
    const secret = c.password !== '' ? c.password : c.username
    for (const s of [secret, encodeURIComponent(secret)]) if (s.length >= 3) out.add(s)
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length)
}

/** Replaces every known secret and every URL password in a finished text. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) out = out.split(s).join(MASK)
  return redactUrls(out)
}

/**
 * Redacts a stream (the pty output) where a secret may be split across two chunks: the end of a
 * chunk that could be the start of a secret (or of a URL's userinfo) is held back until the next
 * chunk or flush(). Text that cannot start a secret passes straight through.
 */
export class StreamRedactor {
  private held = ''
  private readonly longest: number

  constructor(private readonly secrets: readonly string[]) {
    this.longest = secrets.reduce((n, s) => Math.max(n, s.length), 0)
  }

  push(chunk: string): string {
    const text = this.held + chunk
    const keep = this.holdBack(text)
    this.held = text.slice(text.length - keep)
    return redactText(text.slice(0, text.length - keep), this.secrets)
  }

  flush(): string {
    const text = this.held
    this.held = ''
    return redactText(text, this.secrets)
  }

  /** How many trailing characters might be the beginning of something to redact. */
  private holdBack(text: string): number {
    let keep = 0
    // A secret's prefix at the very end.
    for (let n = Math.min(this.longest - 1, text.length); n > 0; n--) {
      const tail = text.slice(text.length - n)
      if (this.secrets.some((s) => s.startsWith(tail))) {
        keep = n
        break
      }
    }
    // A URL whose userinfo has not ended yet ("https://user:pa"): hold from its scheme on, within reason.
    const url = /\b[a-z][a-z0-9+.-]*:\/\/[^/\s?#@]*$/i.exec(text.slice(-512))
    if (url) keep = Math.max(keep, url[0].length)
    return keep
  }
}

/** A netrc entry value: netrc splits on white space, so a value with some is quoted (Python's netrc reads that). */
function netrcToken(value: string): string {
  return value === '' || /[\s"\\]/.test(value) ? `"${value.replace(/(["\\])/g, '\\$1')}"` : value
}

/** netrc text for pip, uv and requests (machine = host name; netrc has no ports or schemes). */
export function netrcText(credentials: readonly HostCredential[]): string {
  const seen = new Set<string>()
  const lines: string[] = []
  for (const c of credentials) {
    if (seen.has(c.hostname)) continue
    seen.add(c.hostname)
    lines.push(`machine ${c.hostname} login ${netrcToken(c.username)} password ${netrcToken(c.password)}`)
  }
  return lines.length ? `${lines.join('\n')}\n` : ''
}

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]*)@/i

function originOf(raw: string): string | null {
  try {
    return new URL(raw).origin
  } catch {
    return null
  }
}

/**
 * Settings shown to a user carry MASK for the password; saving them back must keep the stored
 * password. When the new value has the stored user name with MASK for the password and the same
 * address (scheme, host, port), the stored user and password are put back and the rest (the path,
 * say) is taken as typed; any other value is taken as it is.
 */
export function keepMaskedPassword(next: string, stored: string | null): string {
  if (!stored) return next
  const n = USERINFO.exec(next)
  const s = USERINFO.exec(stored)
  if (!n || !s || !n[2]!.includes(MASK)) return next
  if (redactUrls(s[0]) !== n[0] || originOf(next) !== originOf(stored)) return next
  return s[0] + next.slice(n[0].length)
}

/** The URL-valued choices of an install that may carry credentials. */
export interface CredentialBearing {
  source: string
  mirrors: {
    pypiIndex: string | null
    torchIndex: string | null
    hfEndpoint: string | null
    pythonMirror: string | null
    proxy: string | null
  }
}

/**
 * Splits an install's choices into what may be planned, shown and logged (every URL without its
 * user and password; no proxy) and what only the running commands get: the credentials by host,
 * and the proxy (whose password travels in the proxy variables, as every tool expects).
 */
export function splitChoiceCredentials<T extends CredentialBearing>(
  choices: T,
): { clean: T; credentials: HostCredential[]; proxy: string | null } {
  const credentials: HostCredential[] = []
  const strip = (value: string | null): string | null => {
    if (value === null) return null
    const { url, credential } = splitCredentials(value)
    if (credential) credentials.push(credential)
    return url
  }
  const clean = {
    ...choices,
    source: strip(choices.source) ?? choices.source,
    mirrors: {
      ...choices.mirrors,
      pypiIndex: strip(choices.mirrors.pypiIndex),
      torchIndex: strip(choices.mirrors.torchIndex),
      hfEndpoint: strip(choices.mirrors.hfEndpoint),
      pythonMirror: strip(choices.mirrors.pythonMirror),
      proxy: choices.mirrors.proxy === null ? null : redactUrls(choices.mirrors.proxy),
    },
  }
  return { clean, credentials, proxy: choices.mirrors.proxy }
}

/** The same choices with every password shown as MASK (for lists and settings shown to the user). */
export function redactChoices<T extends CredentialBearing>(choices: T): T {
  const r = (v: string | null) => (v === null ? null : redactUrls(v))
  return {
    ...choices,
    source: redactUrls(choices.source),
    mirrors: {
      ...choices.mirrors,
      pypiIndex: r(choices.mirrors.pypiIndex),
      torchIndex: r(choices.mirrors.torchIndex),
      hfEndpoint: r(choices.mirrors.hfEndpoint),
      pythonMirror: r(choices.mirrors.pythonMirror),
      proxy: r(choices.mirrors.proxy),
    },
  }
}
