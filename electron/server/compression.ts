import { promises as fs } from 'node:fs'
import { promisify } from 'node:util'
import zlib from 'node:zlib'

/**
 * gzip/brotli for the built renderer (about 1.3 MB of JavaScript, a third of that compressed). Files
 * are compressed once per build (keyed by path, size and modification time) and kept in memory: the
 * renderer is small, and a GPU box over a slow link should not pay for compressing each request.
 */

export type Encoding = 'br' | 'gzip'

const COMPRESSIBLE = /\.(html|js|mjs|css|json|map|svg|txt|wasm)$/i
/** Below this, headers cost more than compression saves. */
const MIN_BYTES = 1024

export function isCompressible(file: string, size: number): boolean {
  return size >= MIN_BYTES && COMPRESSIBLE.test(file)
}

/**
 * The encoding to answer with for an Accept-Encoding header: the acceptable one (q > 0) with the
 * highest q, brotli on a tie; null for identity. `*` stands for any coding not named; malformed parts
 * are ignored (a browser never sends them, a script might).
 */
export function chooseEncoding(header: string | string[] | undefined): Encoding | null {
  const value = Array.isArray(header) ? header.join(',') : header
  if (!value || value.length > 1024) return null
  const q = new Map<string, number>()
  for (const part of value.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';')
    if (!/^[a-z0-9*_.+-]+$/.test(name.trim())) continue
    let weight = 1
    for (const p of params) {
      const m = /^\s*q\s*=\s*(\S*)\s*$/.exec(p)
      if (m) weight = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(m[1] ?? '') ? Number(m[1]) : NaN
    }
    if (Number.isNaN(weight)) continue
    q.set(name.trim(), weight)
  }
  const weightOf = (coding: Encoding) => q.get(coding) ?? q.get('*') ?? 0
  const br = weightOf('br')
  const gzip = weightOf('gzip')
  if (br <= 0 && gzip <= 0) return null
  return br >= gzip ? 'br' : 'gzip'
}

const brotli = promisify(zlib.brotliCompress)
const gzip = promisify(zlib.gzip)

export interface CompressedCache {
  get(file: string, size: number, mtimeMs: number, encoding: Encoding): Promise<Buffer>
  readonly entries: number
}

export function createCompressedCache(): CompressedCache {
  const cache = new Map<string, Promise<Buffer>>()
  return {
    get(file, size, mtimeMs, encoding) {
      const key = `${encoding}\0${size}\0${mtimeMs}\0${file}`
      let hit = cache.get(key)
      if (!hit) {
        // A new build replaced the file: drop its older compressed copies.
        for (const k of cache.keys())
          if (k.endsWith(`\0${file}`) && k.startsWith(`${encoding}\0`)) cache.delete(k)
        hit = fs.readFile(file).then((raw) =>
          encoding === 'br'
            ? brotli(raw, {
                params: {
                  [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
                  [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
                },
              })
            : gzip(raw, { level: 9 }),
        )
        // A failed read is not cached: the next request tries again.
        hit.catch(() => cache.delete(key))
        cache.set(key, hit)
      }
      return hit
    },
    get entries() {
      return cache.size
    },
  }
}
