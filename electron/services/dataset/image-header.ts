import type { FileHandle } from 'node:fs/promises'
import type { ImageFacts, ImageFormat } from '../../../core/dataset/scan'

/**
 * Reads an image's size from its header only (a few KB), the way sd-scripts v0.10.1 gets it: the
 * `imagesize` package (PNG, JPEG, WebP), then PIL when imagesize gives up (BMP). Also the JPEG EXIF
 * orientation (sd-scripts ignores it, so a rotated photo trains sideways), and whether the file ends
 * where its format says (a cut-off file stops training when PIL decodes it).
 */

/** What the header tells about an image: the scan's image facts without name, path, bytes and hash. */
export type ImageHeader = Pick<
  ImageFacts,
  'format' | 'width' | 'height' | 'realWidth' | 'realHeight' | 'orientation' | 'damage'
>

/** First read: every header but a JPEG's fits; a JPEG's segments are then read on in larger steps. */
const HEAD = 4096
const JPEG_STEP = 16 * 1024

interface Reader {
  size: number
  read(offset: number, length: number): Promise<Buffer>
}

function fileReader(handle: FileHandle, size: number): Reader {
  return {
    size,
    async read(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset))
      const buf = Buffer.alloc(len)
      if (len === 0) return buf
      const { bytesRead } = await handle.read(buf, 0, len, offset)
      return buf.subarray(0, bytesRead)
    },
  }
}

const unreadable = (format: ImageFormat | null): ImageHeader => ({
  format,
  width: 0,
  height: 0,
  realWidth: 0,
  realHeight: 0,
  orientation: null,
  damage: 'unreadable',
})

function sized(
  format: ImageFormat,
  width: number,
  height: number,
  extra: Partial<ImageHeader> = {},
): ImageHeader {
  return {
    format,
    width,
    height,
    realWidth: width,
    realHeight: height,
    orientation: null,
    damage: null,
    ...extra,
  }
}

export async function readImageHeader(handle: FileHandle, size: number): Promise<ImageHeader> {
  const r = fileReader(handle, size)
  const head = await r.read(0, HEAD)
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a)
    return png(r, head)
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xd8) return jpeg(r, head)
  if (
    head.length >= 12 &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WEBP'
  )
    return webp(r, head)
  if (head.length >= 2 && head.toString('latin1', 0, 2) === 'BM') return bmp(r, head)
  return unreadable(null)
}

const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82])

async function png(r: Reader, head: Buffer): Promise<ImageHeader> {
  // imagesize: IHDR right after the signature; an older variant has the size at byte 8.
  let width: number
  let height: number
  if (head.length >= 24 && head.toString('latin1', 12, 16) === 'IHDR') {
    width = head.readUInt32BE(16)
    height = head.readUInt32BE(20)
  } else if (head.length >= 16) {
    width = head.readUInt32BE(8)
    height = head.readUInt32BE(12)
  } else return unreadable('png')
  const tail = await r.read(r.size - 12, 12)
  return sized('png', width, height, { damage: tail.equals(PNG_IEND) ? null : 'truncated' })
}

async function jpeg(r: Reader, head: Buffer): Promise<ImageHeader> {
  // imagesize's walk: from byte 2, skip 0xFF fill bytes, read the marker and its length, until a
  // SOFn marker (C0–CF except C4, C8, CC), whose frame header holds height then width.
  let buf = head
  let bufStart = 0
  const byteAt = async (pos: number): Promise<number | null> => {
    if (pos >= r.size) return null
    if (pos < bufStart || pos >= bufStart + buf.length) {
      buf = await r.read(pos, JPEG_STEP)
      bufStart = pos
    }
    return buf[pos - bufStart] ?? null
  }
  const u16 = async (pos: number) => {
    const a = await byteAt(pos)
    const b = await byteAt(pos + 1)
    return a === null || b === null ? null : (a << 8) | b
  }
  let orientation: number | null = null
  let pos = 2
  for (let guard = 0; guard < 100_000; guard++) {
    let marker = await byteAt(pos++)
    while (marker === 0xff) marker = await byteAt(pos++)
    if (marker === null) return unreadable('jpeg')
    const length = await u16(pos)
    if (length === null) return unreadable('jpeg')
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = await u16(pos + 3)
      const width = await u16(pos + 5)
      if (height === null || width === null) return unreadable('jpeg')
      // A JPEG ends with EOI (FF D9); some cameras append data after it, so a missing one only "may" mean cut off.
      const tail = await r.read(Math.max(0, r.size - 4096), 4096)
      let hasEoi = false
      for (let i = tail.length - 2; i >= 0; i--)
        if (tail[i] === 0xff && tail[i + 1] === 0xd9) {
          hasEoi = true
          break
        }
      return sized('jpeg', width, height, { orientation, damage: hasEoi ? null : 'maybe_truncated' })
    }
    if (marker === 0xe1 && orientation === null) {
      const seg = await r.read(pos + 2, Math.min(length - 2, 64 * 1024))
      orientation = exifOrientation(seg)
    }
    pos += length
  }
  return unreadable('jpeg')
}

/** Orientation (tag 0x0112) from an APP1 "Exif" segment's IFD0; null when absent or malformed. */
export function exifOrientation(seg: Buffer): number | null {
  if (seg.length < 14 || seg.toString('latin1', 0, 6) !== 'Exif\0\0') return null
  const t = seg.subarray(6)
  const le = t.toString('latin1', 0, 2) === 'II'
  if (!le && t.toString('latin1', 0, 2) !== 'MM') return null
  const u16 = (o: number) => (o + 2 <= t.length ? (le ? t.readUInt16LE(o) : t.readUInt16BE(o)) : null)
  const u32 = (o: number) => (o + 4 <= t.length ? (le ? t.readUInt32LE(o) : t.readUInt32BE(o)) : null)
  const ifd = u32(4)
  if (ifd === null) return null
  const count = u16(ifd)
  if (count === null) return null
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8)
      return value !== null && value >= 1 && value <= 8 ? value : null
    }
  }
  return null
}

async function webp(r: Reader, head: Buffer): Promise<ImageHeader> {
  if (head.length < 30) return unreadable('webp')
  const riffEnd = 8 + head.readUInt32LE(4)
  const damage = r.size < riffEnd ? ('truncated' as const) : null
  const chunk = head.toString('latin1', 12, 16)
  if (chunk === 'VP8 ') {
    // imagesize reads the two 16-bit fields whole (the top two bits are VP8's scale, normally 0).
    const width = head.readUInt16LE(26)
    const height = head.readUInt16LE(28)
    return sized('webp', width, height, { realWidth: width & 0x3fff, realHeight: height & 0x3fff, damage })
  }
  if (chunk === 'VP8L') {
    const b = head.subarray(21, 25)
    const width = (((b[1]! & 63) << 8) | b[0]!) + 1
    const height = (((b[3]! & 15) << 10) | (b[2]! << 2) | ((b[1]! & 192) >> 6)) + 1
    return sized('webp', width, height, { damage })
  }
  if (chunk === 'VP8X') {
    // The canvas size is stored minus one; imagesize does not add the one back, so sd-scripts sees
    // an extended WebP (alpha, EXIF, animation) one pixel smaller each way.
    const w = head.readUIntLE(24, 3)
    const h = head.readUIntLE(27, 3)
    return sized('webp', w, h, { realWidth: w + 1, realHeight: h + 1, damage })
  }
  return unreadable('webp')
}

async function bmp(r: Reader, head: Buffer): Promise<ImageHeader> {
  // imagesize does not read BMP; PIL does: BITMAPCOREHEADER (12 bytes) has 16-bit sizes, the others
  // 32-bit signed ones (a negative height is a top-down bitmap).
  if (head.length < 26) return unreadable('bmp')
  const headerSize = head.readUInt32LE(14)
  let width: number
  let height: number
  if (headerSize === 12) {
    width = head.readUInt16LE(18)
    height = head.readUInt16LE(20)
  } else if (headerSize >= 40 && head.length >= 30) {
    width = head.readInt32LE(18)
    height = Math.abs(head.readInt32LE(22))
  } else return unreadable('bmp')
  if (width <= 0 || height <= 0) return unreadable('bmp')
  const fileSize = head.readUInt32LE(2)
  return sized('bmp', width, height, { damage: fileSize > 0 && r.size < fileSize ? 'truncated' : null })
}
