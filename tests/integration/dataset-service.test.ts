// The dataset service on real files: header reading for every format sd-scripts reads, the problems a
// user must see, the mtime cache, caption writes with history and undo, thumbnails, the editor's pages.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestName } from '../../core/api/contract'
import type { DatasetScan } from '../../core/api/domains/dataset'
import { createServices, type Services } from '../../electron/services'
import { bmpBytes, writeImage } from '../helpers/dataset-images'

const root = mkdtempSync(path.join(os.tmpdir(), 'dataset-service-'))
const data = path.join(root, 'data')
const dir = path.join(root, 'images', '5_sks dog')
const reg = path.join(root, 'images', 'reg')
let services: Services

async function call<M extends RequestName>(method: M, input: unknown) {
  const r = await services.router.call(method, input, { transport: 'test' })
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.result
}

const configFor = (subsets: unknown[], extra: Record<string, unknown> = {}) => ({
  dataset: { subsets, bucket_no_upscale: false, min_bucket_reso: 256, ...extra },
  training: { batch_size: 2, max_train_epochs: 4 },
})

beforeAll(async () => {
  mkdirSync(dir, { recursive: true })
  await writeImage(path.join(dir, 'a.png'), { format: 'png', width: 1024, height: 1024 })
  await writeImage(path.join(dir, 'b.jpg'), { format: 'jpeg', width: 1200, height: 800, orientation: 6 })
  await writeImage(path.join(dir, 'c.webp'), { format: 'webp', width: 832, height: 1216 })
  await writeImage(path.join(dir, 'd.webp'), { format: 'webp-lossless', width: 640, height: 480 })
  await writeImage(path.join(dir, 'e.webp'), { format: 'webp-alpha', width: 1024, height: 768 })
  writeFileSync(path.join(dir, 'f.bmp'), bmpBytes(300, 200))
  writeFileSync(path.join(dir, 'g.bmp'), bmpBytes(200, 300, true))
  copyFileSync(path.join(dir, 'a.png'), path.join(dir, 'h.png'))
  // Cut off: sd-scripts stops when PIL decodes it.
  const whole = readFileSync(path.join(dir, 'a.png'))
  writeFileSync(path.join(dir, 'i.png'), whole.subarray(0, whole.length - 20))
  writeFileSync(path.join(dir, 'j.png'), 'not an image at all')
  writeFileSync(path.join(dir, 'k.gif'), 'GIF89a')
  writeFileSync(path.join(dir, '._a.png'), 'macOS resource fork')
  writeFileSync(path.join(dir, 'a.txt'), 'sks dog, sitting, grass\n')
  writeFileSync(path.join(dir, 'b.txt'), '')
  writeFileSync(path.join(dir, 'c.txt'), '   \n')
  writeFileSync(path.join(dir, 'd.txt'), 'first line\nsecond line\n')
  writeFileSync(path.join(dir, 'e.txt'), Buffer.from([0xff, 0xfe, 0x41]))
  writeFileSync(path.join(dir, 'f.txt'), `${Array.from({ length: 90 }, (_, i) => `tag${i}`).join(', ')}\n`)
  writeFileSync(path.join(dir, 'g.txt'), 'собака, трава\n')
  writeFileSync(path.join(dir, 'zz-notes.txt'), 'an orphan caption\n')
  mkdirSync(reg, { recursive: true })
  for (let i = 0; i < 3; i++)
    await writeImage(path.join(reg, `r${i}.png`), {
      format: 'png',
      width: 1024,
      height: 1024,
      color: `#00${i}0${i}0`,
    })
  services = createServices({
    dataDir: data,
    mode: 'test',
    env: { ...process.env, HOME: root },
    version: '0.0.0',
  })
}, 60_000)
afterAll(async () => {
  await services?.dispose()
  rmSync(root, { recursive: true, force: true })
})

const problemsOf = (scan: DatasetScan, file: string) =>
  scan.problems.filter((p) => p.file === path.join(dir, file)).map((p) => p.kind)

describe('dataset scan', () => {
  let scan: DatasetScan
  beforeAll(async () => {
    scan = await call('dataset.scan', {
      config: configFor([{ image_dir: dir, num_repeats: 5, class_tokens: 'sks dog' }]),
    })
  })

  it('reads the sizes sd-scripts reads, for PNG, JPEG, WebP (VP8, VP8L, VP8X) and BMP', async () => {
    const page = await call('dataset.images', { dir, limit: 100 })
    const size = Object.fromEntries(page.items.map((i) => [i.name, [i.width, i.height, i.format]]))
    expect(size).toMatchObject({
      'a.png': [1024, 1024, 'png'],
      // Stored size: the EXIF rotation is not applied (sd-scripts does not either).
      'b.jpg': [1200, 800, 'jpeg'],
      'c.webp': [832, 1216, 'webp'],
      'd.webp': [640, 480, 'webp'],
      // Extended WebP: imagesize (sd-scripts) reads one pixel less each way.
      'e.webp': [1023, 767, 'webp'],
      'f.bmp': [300, 200, 'bmp'],
      'g.bmp': [200, 300, 'bmp'],
    })
    for (const f of ['a.png', 'c.webp', 'd.webp']) {
      const m = await sharp(path.join(dir, f)).metadata()
      expect(size[f]?.slice(0, 2), f).toEqual([m.width, m.height])
    }
  })

  it('flags every image and caption problem on the right file', () => {
    expect(problemsOf(scan, 'b.jpg')).toContain('image_exif_rotated')
    expect(problemsOf(scan, 'b.txt')).toEqual(['caption_empty_file'])
    expect(problemsOf(scan, 'c.txt')).toEqual(['caption_blank'])
    expect(problemsOf(scan, 'd.txt')).toEqual(['caption_multiline'])
    expect(problemsOf(scan, 'e.txt')).toEqual(['caption_not_utf8'])
    expect(problemsOf(scan, 'f.txt')).toEqual(['caption_too_long'])
    expect(problemsOf(scan, 'e.webp')).toContain('webp_size_read_smaller')
    expect(problemsOf(scan, 'h.png')).toContain('image_duplicate')
    expect(problemsOf(scan, 'h.png')).toContain('caption_missing')
    expect(problemsOf(scan, 'i.png')).toContain('image_truncated')
    expect(problemsOf(scan, 'j.png')).toContain('image_unreadable')
    expect(problemsOf(scan, 'k.gif')).toEqual(['file_not_read'])
    expect(problemsOf(scan, 'zz-notes.txt')).toEqual(['caption_orphan'])
    expect(problemsOf(scan, 'f.bmp')).toContain('image_upscaled')
    expect(scan.problems.some((p) => p.file?.includes('._a.png'))).toBe(false)
    expect(scan.problems.find((p) => p.kind === 'image_unreadable')?.severity).toBe('error')
  })

  it('summarises the folder: formats, captions, sizes, tags and token counts', () => {
    const s = scan.subsets[0]!
    expect(s.images).toBe(10)
    // j.png is no image at all: its format is unknown.
    expect(s.formats).toEqual({ png: 3, unknown: 1, jpeg: 1, webp: 3, bmp: 2 })
    expect(s.missing_captions).toBe(3)
    expect(s.smallest).toMatchObject({ width: 300, height: 200 })
    expect(s.tags.find((t) => t.tag === 'sks dog')).toEqual({ tag: 'sks dog', count: 1 })
    expect(s.tokens.over_limit).toBe(1)
    expect(scan.tokenizer).toBe('estimate')
  })

  it('plans buckets and steps (batch 2, 5 repeats, 4 epochs), skipping the unreadable image', () => {
    expect(scan.buckets.reduce((n, b) => n + b.count, 0)).toBe(9 * 5)
    expect(scan.batches_per_epoch).toBe(scan.buckets.reduce((n, b) => n + Math.ceil(b.count / 2), 0))
    expect(scan.total_steps).toBe(scan.batches_per_epoch * 4)
    expect(scan.largest_bucket_area).toBe(Math.max(...scan.buckets.map((b) => b.width * b.height)))
  })

  it('balances regularization images and says when they fall short', async () => {
    const s = await call('dataset.scan', {
      config: configFor([
        { image_dir: reg, num_repeats: 1, is_reg: true },
        { image_dir: path.join(reg), num_repeats: 2 },
      ]),
    })
    expect(s.subsets[1]!.ignored).toBe('duplicate')
    const both = await call('dataset.scan', {
      config: configFor([
        { image_dir: dir, num_repeats: 1 },
        { image_dir: reg, num_repeats: 1, is_reg: true },
      ]),
    })
    expect(both.balance).toBe('reg_short')
    expect(both.reg_images_used).toBe(both.train_images_with_repeats)
    const excess = await call('dataset.scan', {
      config: configFor([
        { image_dir: path.join(dir), num_repeats: 1 },
        { image_dir: reg, num_repeats: 5, is_reg: true },
      ]),
    })
    expect(excess.balance).toBe('reg_excess')
    expect(excess.problems.find((p) => p.kind === 'reg_excess')?.params).toMatchObject({ reg: 15 })
  })

  it('reports a missing folder and impossible bucket settings instead of failing', async () => {
    const s = await call('dataset.scan', {
      config: configFor([{ image_dir: path.join(root, 'nope') }], { min_bucket_reso: 2048 }),
    })
    expect(s.problems.map((p) => p.kind)).toEqual(
      expect.arrayContaining(['folder_missing', 'bucket_settings', 'no_train_images']),
    )
  })

  it('reads unchanged files from the cache, and a changed one again', async () => {
    const again = await call('dataset.scan', { config: configFor([{ image_dir: dir, num_repeats: 5 }]) })
    expect(again.cached_files).toBe(10 + 7)
    const later = new Date(Date.now() + 5000)
    writeFileSync(path.join(dir, 'a.txt'), 'sks dog, sitting, grass, sun\n')
    utimesSync(path.join(dir, 'a.txt'), later, later)
    const third = await call('dataset.scan', { config: configFor([{ image_dir: dir, num_repeats: 5 }]) })
    expect(third.cached_files).toBe(10 + 6)
    expect(third.subsets[0]!.tags.find((t) => t.tag === 'sun')?.count).toBe(1)
  })
})

describe('caption editor', () => {
  it('writes atomically, refuses a caption changed on disk, and undoes', async () => {
    const page = await call('dataset.images', { dir, query: 'grass' })
    expect(page.items.map((i) => i.name)).toEqual(['a.png'])
    const before = page.items[0]!.caption
    const w = await call('dataset.captions.write', {
      dir,
      writes: [{ image: 'a.png', expected: before, text: 'sks dog, собака, 狗' }],
    })
    expect(w.written).toBe(1)
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('sks dog, собака, 狗\n')
    // The editor still holds the old text: writing it over the new one is a conflict, nothing is lost.
    const stale = await call('dataset.captions.write', {
      dir,
      writes: [{ image: 'a.png', expected: before, text: 'stale' }],
    })
    expect(stale).toMatchObject({
      written: 0,
      conflicts: [{ image: 'a.png', current: 'sks dog, собака, 狗' }],
    })
    const undo = await call('dataset.captions.undo', { dir, id: w.history_id })
    expect(undo).toEqual({ restored: 1, skipped: [] })
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe(`${before}\n`)
    const history = await call('dataset.captions.history', { dir })
    expect(history[0]).toMatchObject({ id: w.history_id, undone: true, files: 1 })
  })

  it('creates a caption for an image without one, and undo removes it again', async () => {
    const w = await call('dataset.captions.write', {
      dir,
      writes: [{ image: 'h.png', expected: null, text: 'copy' }],
    })
    expect(readFileSync(path.join(dir, 'h.txt'), 'utf8')).toBe('copy\n')
    await call('dataset.captions.undo', { dir, id: w.history_id })
    expect(() => readFileSync(path.join(dir, 'h.txt'))).toThrow()
  })

  it('applies folder-wide edits with a preview first; undo leaves files edited since alone', async () => {
    const preview = await call('dataset.captions.apply', {
      dir,
      op: { kind: 'triggerFirst', tag: 'sks dog' },
      preview: true,
    })
    expect(preview.history_id).toBeNull()
    expect(readFileSync(path.join(dir, 'g.txt'), 'utf8')).toBe('собака, трава\n')
    const done = await call('dataset.captions.apply', { dir, op: { kind: 'triggerFirst', tag: 'sks dog' } })
    expect(done.changed).toBe(preview.changed)
    expect(readFileSync(path.join(dir, 'g.txt'), 'utf8')).toBe('sks dog, собака, трава\n')
    writeFileSync(path.join(dir, 'g.txt'), 'edited by hand\n')
    const undo = await call('dataset.captions.undo', { dir, id: done.history_id })
    expect(undo.skipped).toEqual([{ caption_file: path.join(dir, 'g.txt'), reason: 'changed_since' }])
    expect(readFileSync(path.join(dir, 'g.txt'), 'utf8')).toBe('edited by hand\n')
    const removed = await call('dataset.captions.apply', {
      dir,
      op: { kind: 'replace', find: 'HAND', replace: 'hand!', caseSensitive: false },
    })
    expect(removed.changed).toBe(1)
  })

  it('answers hostile input with clear errors', async () => {
    for (const [method, input] of [
      ['dataset.captions.apply', { dir, op: { kind: 'addTag', tag: '   ' } }],
      ['dataset.captions.apply', { dir, op: { kind: 'replace', find: '', replace: 'x' } }],
      ['dataset.images', { dir, limit: 0 }],
      ['dataset.images', { dir, offset: -1 }],
      ['dataset.images', { dir, limit: 1.5 }],
      ['dataset.captions.write', { dir, writes: [] }],
      ['dataset.thumbnails', { paths: [path.join(dir, 'a.png')], size: 1e6 }],
    ] as const) {
      const r = await services.router.call(method, input, { transport: 'test' })
      expect(r.ok, JSON.stringify(input)).toBe(false)
    }
    const unknown = await services.router.call(
      'dataset.captions.write',
      { dir, writes: [{ image: '../../etc/passwd', expected: null, text: 'x' }] },
      { transport: 'test' },
    )
    expect(unknown.ok).toBe(false)
    const missing = await services.router.call(
      'dataset.images',
      { dir: path.join(root, 'Папка нет') },
      { transport: 'test' },
    )
    expect(!missing.ok && missing.error.message).toContain('Dataset folder not found')
  })
})

describe('thumbnails', () => {
  it('makes small JPEGs of every format, BMP included, and refuses other files', async () => {
    const files = ['a.png', 'b.jpg', 'c.webp', 'e.webp', 'f.bmp', 'j.png', 'a.txt', 'missing.png'].map((f) =>
      path.join(dir, f),
    )
    const { items } = await call('dataset.thumbnails', { paths: files, size: 96 })
    const byName = Object.fromEntries(items.map((t) => [path.basename(t.path), t]))
    for (const f of ['a.png', 'b.jpg', 'c.webp', 'e.webp', 'f.bmp']) {
      const t = byName[f]!
      expect(t.mime, f).toBe('image/jpeg')
      const m = await sharp(Buffer.from(t.data!, 'base64')).metadata()
      expect(Math.max(m.width ?? 0, m.height ?? 0), f).toBeLessThanOrEqual(96)
      expect(Buffer.from(t.data!, 'base64').length).toBeLessThan(20_000)
    }
    expect(byName['j.png']!.error).toBe('undecodable')
    expect(byName['a.txt']!.error).toBe('not_an_image')
    expect(byName['missing.png']!.error).toBe('not_found')
  })
})

describe('sizes against the imagesize package sd-scripts uses', () => {
  it('agrees with imagesize 1.4.1 on every PNG, JPEG and WebP (VP8X: one pixel short, as it reads)', async (ctx) => {
    const { spawnSync } = await import('node:child_process')
    const { realPython, sharedCache } = await import('./env-helpers')
    const wheels = path.join(sharedCache, 'wheels')
    mkdirSync(wheels, { recursive: true })
    const find = () =>
      spawnSync('sh', ['-c', `ls ${wheels}/imagesize-1.4.1-*.whl`], { encoding: 'utf8' }).stdout.trim() ||
      null
    if (!find())
      spawnSync(
        realPython(),
        ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '-d', wheels, 'imagesize==1.4.1'],
        { env: { ...process.env, PIP_CACHE_DIR: path.join(sharedCache, 'pip') } },
      )
    const wheel = find()
    if (!wheel) {
      console.warn('SKIP: the imagesize==1.4.1 wheel could not be downloaded from PyPI.')
      return ctx.skip()
    }
    const files = ['a.png', 'b.jpg', 'c.webp', 'd.webp', 'e.webp', 'h.png', 'i.png']
    const code = `import sys, json; sys.path.insert(0, ${JSON.stringify(wheel)}); import imagesize; print(json.dumps([imagesize.get(f) for f in sys.argv[1:]]))`
    const r = spawnSync(realPython(), ['-c', code, ...files.map((f) => path.join(dir, f))], {
      encoding: 'utf8',
    })
    expect(r.status, r.stderr).toBe(0)
    const theirs = JSON.parse(r.stdout) as Array<[number, number]>
    const page = await call('dataset.images', { dir, limit: 100 })
    const ours = files.map((f) => {
      const i = page.items.find((x) => x.name === f)!
      return [i.width, i.height]
    })
    expect(ours).toEqual(theirs)
  })
})
