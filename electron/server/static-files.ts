import { promises as fs } from 'node:fs'
import path from 'node:path'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
}

export type StaticLookup =
  { kind: 'file'; file: string; size: number; mtimeMs: number } | { kind: 'bad_path' } | { kind: 'not_found' }

/**
 * Maps a URL path to a file strictly inside `root`. The path is percent-decoded once, NUL bytes and
 * anything resolving outside the root (.., encoded slashes, symlinks pointing out) are refused.
 * Paths without a file extension that don't exist fall back to index.html (client-side routes).
 */
export async function lookupStatic(root: string, urlPath: string): Promise<StaticLookup> {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return { kind: 'bad_path' }
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'bad_path' }
  const segments = decoded.split('/')
  if (segments.some((s) => s === '..')) return { kind: 'bad_path' }

  let realRoot: string
  try {
    realRoot = await fs.realpath(root)
  } catch {
    return { kind: 'not_found' }
  }
  const candidate = path.resolve(realRoot, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`)
  if (!isInside(realRoot, candidate)) return { kind: 'bad_path' }

  const found = await regularFileInside(realRoot, candidate)
  if (found) return found
  const indexInDir = await regularFileInside(realRoot, path.join(candidate, 'index.html'))
  if (indexInDir) return indexInDir
  // SPA fallback: '/runs/42' is a client route; '/assets/missing.js' is a real 404.
  if (path.extname(candidate) === '') {
    const index = await regularFileInside(realRoot, path.join(realRoot, 'index.html'))
    if (index) return index
  }
  return { kind: 'not_found' }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

async function regularFileInside(
  realRoot: string,
  file: string,
): Promise<{ kind: 'file'; file: string; size: number; mtimeMs: number } | null> {
  try {
    const real = await fs.realpath(file)
    if (!isInside(realRoot, real)) return null
    const stat = await fs.stat(real)
    return stat.isFile() ? { kind: 'file', file: real, size: stat.size, mtimeMs: stat.mtimeMs } : null
  } catch {
    return null
  }
}
