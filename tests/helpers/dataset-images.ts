import { closeSync, mkdirSync, openSync, writeSync, ftruncateSync } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'

/*
 * Image files for dataset tests. `writeImage` encodes real images with sharp (PNG, JPEG with an EXIF
 * orientation, WebP lossy/lossless/extended); `writeHeaderOnly` writes files that are valid up to their
 * header and end marker with the rest left sparse, so a benchmark can lay out 10 000 "large" images in
 * seconds and little disk (the scan reads headers and tails only).
 */

export type TestFormat = 'png' | 'jpeg' | 'webp' | 'webp-lossless' | 'webp-alpha'

export async function writeImage(
  file: string,
  o: { format: TestFormat; width: number; height: number; orientation?: number; color?: string },
): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true })
  const alpha = o.format === 'webp-alpha'
  let img = sharp({
    // Half-transparent, or the encoder drops the unused alpha (and the extended format with it).
    create: {
      width: o.width,
      height: o.height,
      channels: alpha ? 4 : 3,
      background: alpha ? { r: 64, g: 128, b: 192, alpha: 0.5 } : (o.color ?? '#4080c0'),
    },
  })
  if (o.orientation) img = img.withMetadata({ orientation: o.orientation })
  if (o.format === 'png') img = img.png()
  else if (o.format === 'jpeg') img = img.jpeg({ quality: 80 })
  else img = img.webp({ lossless: o.format === 'webp-lossless', quality: 80 })
  await img.toFile(file)
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** A BMP (BITMAPINFOHEADER, 24-bit, bottom-up unless topDown) filled with one colour. */
export function bmpBytes(width: number, height: number, topDown = false): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4
  const size = 54 + stride * height
  const b = Buffer.alloc(size)
  b.write('BM', 0, 'latin1')
  b.writeUInt32LE(size, 2)
  b.writeUInt32LE(54, 10)
  b.writeUInt32LE(40, 14)
  b.writeInt32LE(width, 18)
  b.writeInt32LE(topDown ? -height : height, 22)
  b.writeUInt16LE(1, 26)
  b.writeUInt16LE(24, 28)
  for (let i = 54; i < size; i += 3) b[i] = 200
  return b
}

export function headerOnlyBytes(
  format: 'png' | 'jpeg',
  width: number,
  height: number,
): { head: Buffer; tail: Buffer } {
  if (format === 'png') {
    const ihdr = Buffer.concat([
      u32be(13),
      Buffer.from('IHDR'),
      u32be(width),
      u32be(height),
      Buffer.from([8, 2, 0, 0, 0]),
      u32be(0),
    ])
    return {
      head: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]),
      tail: Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
    }
  }
  const app0 = Buffer.from([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
  const sof = Buffer.from([
    0xff,
    0xc0,
    0,
    17,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ])
  return { head: Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof]), tail: Buffer.from([0xff, 0xd9]) }
}

/** A file of `bytes` bytes with a real header and end marker and a sparse middle. */
export function writeHeaderOnly(
  file: string,
  format: 'png' | 'jpeg',
  width: number,
  height: number,
  bytes: number,
): void {
  const { head, tail } = headerOnlyBytes(format, width, height)
  const fd = openSync(file, 'w')
  try {
    writeSync(fd, head, 0, head.length, 0)
    ftruncateSync(fd, Math.max(bytes, head.length + tail.length))
    writeSync(fd, tail, 0, tail.length, Math.max(bytes, head.length + tail.length) - tail.length)
  } finally {
    closeSync(fd)
  }
}
