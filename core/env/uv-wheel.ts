import { z } from 'zod'

/**
 * Getting uv without Python: PyPI publishes uv as wheels holding the uv binary for each platform.
 * The app reads the package's page on the configured index (PEP 691 JSON, or PEP 503 HTML), picks
 * the wheel for this machine, checks its sha256 against the index, and unpacks the binary.
 * Pure: parsing and choosing; electron/services/env/uv-fetch.ts does the I/O.
 */

/** The uv release the app fetches (pinned, so every install gets the uv the app was tested with). */
export const UV_VERSION = '0.13.9'
export const DEFAULT_PYPI_INDEX = 'https://pypi.org/simple'

export const UvTarget = z.object({
  os: z.enum(['linux', 'win32']),
  arch: z.enum(['x64', 'arm64', 'ia32']),
  /** Linux only: the C library (musl on Alpine and the like). */
  libc: z.enum(['glibc', 'musl']).default('glibc'),
})
export type UvTarget = z.input<typeof UvTarget>

export interface IndexFile {
  filename: string
  /** Absolute URL of the file. */
  url: string
  sha256: string | null
  yanked: boolean
}

/** The page of one project on a simple index: <index>/uv/ (the trailing slash matters to some mirrors). */
export function projectPageUrl(index: string, project = 'uv'): string {
  return `${index.replace(/\/+$/, '')}/${project}/`
}

function resolveUrl(href: string, base: string): string | null {
  try {
    return new URL(href, base).toString()
  } catch {
    return null
  }
}

const SimpleJson = z.object({
  files: z.array(
    z.object({
      filename: z.string(),
      url: z.string(),
      hashes: z.record(z.string(), z.string()).default({}),
      yanked: z.union([z.boolean(), z.string()]).optional(),
    }),
  ),
})

/** PEP 691 (application/vnd.pypi.simple.v1+json); null when the body is not that. */
export function parseSimpleJson(body: string, pageUrl: string): IndexFile[] | null {
  let raw: unknown
  try {
    raw = JSON.parse(body)
  } catch {
    return null
  }
  const parsed = SimpleJson.safeParse(raw)
  if (!parsed.success) return null
  const out: IndexFile[] = []
  for (const f of parsed.data.files) {
    const url = resolveUrl(f.url, pageUrl)
    if (!url) continue
    const sha = f.hashes.sha256
    out.push({
      filename: f.filename,
      url,
      sha256: sha && /^[0-9a-f]{64}$/i.test(sha) ? sha.toLowerCase() : null,
      yanked: f.yanked !== undefined && f.yanked !== false,
    })
  }
  return out
}

const decodeEntities = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")

/** PEP 503 HTML: <a href="…/file.whl#sha256=…" data-yanked>file.whl</a>. */
export function parseSimpleHtml(body: string, pageUrl: string): IndexFile[] {
  const out: IndexFile[] = []
  for (const m of body.matchAll(/<a\s([^>]*)>([^<]*)<\/a>/gi)) {
    const attrs = m[1]!
    const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(attrs)
    if (!href) continue
    const rawHref = decodeEntities(href[1] ?? href[2] ?? '')
    const url = resolveUrl(rawHref, pageUrl)
    if (!url) continue
    const hash = /#sha256=([0-9a-f]{64})\b/i.exec(rawHref)
    const name =
      decodeEntities(m[2]!.trim()) || decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '')
    out.push({
      filename: name,
      url: url.replace(/#.*$/, ''),
      sha256: hash ? hash[1]!.toLowerCase() : null,
      yanked: /\bdata-yanked\b/i.test(attrs),
    })
  }
  return out
}

/** Platform tags a wheel may carry for a target, best first (lower rank wins). */
function platformRank(tags: string[], target: z.output<typeof UvTarget>): number | null {
  const has = (re: RegExp) => tags.some((t) => re.test(t))
  if (target.os === 'win32') {
    const tag = { x64: 'win_amd64', arm64: 'win_arm64', ia32: 'win32' }[target.arch]
    return tags.includes(tag) ? 0 : null
  }
  const machine = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' }[target.arch]
  if (target.libc === 'musl') return has(new RegExp(`^musllinux_\\d+_\\d+_${machine}$`)) ? 0 : null
  // The oldest glibc a wheel needs is the one most machines can run: manylinux2014 / 2_17 first.
  let best: number | null = null
  for (const t of tags) {
    const m = new RegExp(`^manylinux_(\\d+)_(\\d+)_${machine}$`).exec(t)
    const legacy = new RegExp(`^manylinux(1|2010|2014)_${machine}$`).exec(t)
    const glibc = m
      ? Number(m[1]) * 1000 + Number(m[2])
      : legacy
        ? { '1': 2005, '2010': 2012, '2014': 2017 }[legacy[1]!]!
        : null
    if (glibc !== null && (best === null || glibc < best)) best = glibc
  }
  return best
}

/** The wheel of uv `version` for the target, or null when the index has none. Yanked files are skipped. */
export function pickUvWheel(files: IndexFile[], version: string, rawTarget: UvTarget): IndexFile | null {
  const target = UvTarget.parse(rawTarget)
  let best: { file: IndexFile; rank: number } | null = null
  for (const f of files) {
    if (f.yanked) continue
    const m = /^uv-([^-]+)-[^-]+-[^-]+-([^-]+)\.whl$/.exec(f.filename)
    if (!m || m[1] !== version) continue
    const rank = platformRank(m[2]!.split('.'), target)
    if (rank !== null && (best === null || rank < best.rank)) best = { file: f, rank }
  }
  return best?.file ?? null
}

/** Where the uv binary sits inside its wheel. */
export function uvPathInWheel(version: string, os: 'linux' | 'win32'): string {
  return `uv-${version}.data/scripts/${os === 'win32' ? 'uv.exe' : 'uv'}`
}
