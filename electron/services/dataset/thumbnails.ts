import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type SharpFn from 'sharp'
import { writeFileAtomic } from '../store/atomic'

/**
 * Small JPEG previews for the caption editor, made with sharp (libvips: shrink-on-load keeps a 24 MP
 * JPEG preview fast) and kept in <dataDir>/cache/thumbs by path, size and modification time. They
 * travel through the API as base64 (the headless server's browser has no file access), so they stay
 * small: at most 256 px on the long side, quality 70, a few KB each. BMP, which libvips does not read,
 * is decoded here (uncompressed 24/32-bit, the common kinds).
 */

type Sharp = typeof SharpFn
let sharpModule: Promise<Sharp | null> | null = null

/** sharp, loaded on first use (a native module: a broken install costs previews, not the app). */
function loadSharp(): Promise<Sharp | null> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    () => null,
  )
  return sharpModule
}

export interface Thumbnail {
  path: string
  mime: string | null
  data: string | null
  error: string | null
}

/** Raw RGB pixels of an uncompressed BMP (BI_RGB 24/32-bit, BI_BITFIELDS 32-bit), or null. */
export function decodeBmp(buf: Buffer): { width: number; height: number; data: Buffer } | null {
  if (buf.length < 54 || buf.toString('latin1', 0, 2) !== 'BM') return null
  const offset = buf.readUInt32LE(10)
  const headerSize = buf.readUInt32LE(14)
  if (headerSize < 40) return null
  const width = buf.readInt32LE(18)
  const rawHeight = buf.readInt32LE(22)
  const bpp = buf.readUInt16LE(28)
  const compression = buf.readUInt32LE(30)
  const height = Math.abs(rawHeight)
  if (width <= 0 || height <= 0 || width * height > 100_000_000) return null
  if (!((bpp === 24 && compression === 0) || (bpp === 32 && (compression === 0 || compression === 3))))
    return null
  const bytesPer = bpp / 8
  const stride = Math.ceil((width * bytesPer) / 4) * 4
  if (offset + stride * height > buf.length) return null
  const out = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    const srcRow = offset + (rawHeight > 0 ? height - 1 - y : y) * stride
    for (let x = 0; x < width; x++) {
      const s = srcRow + x * bytesPer
      const d = (y * width + x) * 3
      out[d] = buf[s + 2]!
      out[d + 1] = buf[s + 1]!
      out[d + 2] = buf[s]!
    }
  }
  return { width, height, data: out }
}

export class Thumbnails {
  constructor(private readonly cacheDir: string) {}

  async one(file: string, size: number): Promise<Thumbnail> {
    const fail = (error: string): Thumbnail => ({ path: file, mime: null, data: null, error })
    let st
    try {
      st = await fs.stat(file)
    } catch {
      return fail('not_found')
    }
    if (!st.isFile()) return fail('not_found')
    const key = createHash('sha1')
      .update(`${path.resolve(file)}|${st.size}|${st.mtimeMs}|${size}`)
      .digest('hex')
    const cached = path.join(this.cacheDir, key.slice(0, 2), `${key}.jpg`)
    try {
      return {
        path: file,
        mime: 'image/jpeg',
        data: (await fs.readFile(cached)).toString('base64'),
        error: null,
      }
    } catch {
      // not made yet
    }
    const sharp = await loadSharp()
    if (!sharp) return fail('no_preview_library')
    try {
      const input = await fs.readFile(file)
      const bmp = input.toString('latin1', 0, 2) === 'BM' ? decodeBmp(input) : null
      const image = bmp
        ? sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } })
        : sharp(input, { failOn: 'none', limitInputPixels: 2 * 89_478_485 })
      // No .rotate(): the preview shows the image as sd-scripts trains it (EXIF orientation ignored).
      const jpeg = await image
        .resize(size, size, { fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 70 })
        .toBuffer()
      await writeFileAtomic(cached, jpeg).catch(() => undefined)
      return { path: file, mime: 'image/jpeg', data: jpeg.toString('base64'), error: null }
    } catch {
      return fail('undecodable')
    }
  }

  async many(files: string[], size: number): Promise<Thumbnail[]> {
    const out: Thumbnail[] = []
    // Four at a time: libvips uses its own threads, and the UI asks for one page at once.
    for (let i = 0; i < files.length; i += 4)
      out.push(...(await Promise.all(files.slice(i, i + 4).map((f) => this.one(f, size)))))
    return out
  }
}
