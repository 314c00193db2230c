// `dataset scan` as a user runs it: a folder (repeats from --repeats, the folder name, or 1), a parent
// of <repeats>_<name> folders, regularization folders, and a config file; the JSON document's exact shape.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCliCaptured } from '../helpers/cli'
import { writeImage } from '../helpers/dataset-images'

const root = mkdtempSync(path.join(os.tmpdir(), 'dataset-cli-'))
const data = path.join(root, 'data')
const train = path.join(root, 'train', '3_sks cat')
const reg = path.join(root, 'reg', '1_cat')

beforeAll(async () => {
  const sizes: Array<[number, number]> = [
    [1024, 1024],
    [1024, 1024],
    [1216, 832],
    [640, 640],
    [3000, 2000],
  ]
  for (const [i, [w, h]] of sizes.entries()) {
    await writeImage(path.join(train, `${i}.png`), {
      format: 'png',
      width: w,
      height: h,
      color: `#1${i}2030`,
    })
    if (i < 4) writeFileSync(path.join(train, `${i}.txt`), 'sks cat, sitting\n')
  }
  for (let i = 0; i < 2; i++)
    await writeImage(path.join(reg, `r${i}.jpg`), {
      format: 'jpeg',
      width: 1024,
      height: 1024,
      color: `#5${i}5050`,
    })
}, 60_000)
afterAll(() => rmSync(root, { recursive: true, force: true }))

const scan = (...args: string[]) => runCliCaptured(['dataset', 'scan', ...args], data)

describe('dataset scan (CLI)', () => {
  it('prints the documented JSON for a folder, repeats from its name', async () => {
    const r = await scan(train, '--json')
    expect(r.stderr).toBe('')
    const doc = JSON.parse(r.stdout) as Record<string, unknown>
    expect(Object.keys(doc)).toEqual(['images', 'captioned', 'buckets', 'batches_per_epoch', 'problems'])
    // sd-scripts' defaults: 1024², buckets 256–2048 in steps of 64, upscaling on, batch 1.
    expect(doc).toMatchObject({
      images: 5,
      captioned: 4,
      buckets: [
        { width: 1024, height: 1024, count: 9 },
        { width: 1216, height: 832, count: 6 },
      ],
      batches_per_epoch: 15,
    })
    expect(doc.problems).toEqual(
      expect.arrayContaining([
        { kind: 'caption_missing', file: path.join(train, '4.png') },
        { kind: 'image_upscaled', file: path.join(train, '3.png') },
      ]),
    )
    expect(r.code).toBe(0)
  })

  it('takes bucket and batch options; --repeats wins over the folder name', async () => {
    const r = await scan(
      train,
      '--json',
      '--repeats',
      '2',
      '--batch',
      '4',
      '--no-upscale',
      '--resolution',
      '1024,1024',
      '--bucket-steps',
      '128',
    )
    const doc = JSON.parse(r.stdout) as {
      buckets: Array<{ width: number; height: number; count: number }>
      batches_per_epoch: number
    }
    expect(doc.buckets).toEqual([
      { width: 640, height: 640, count: 2 },
      { width: 1024, height: 1024, count: 4 },
      // 1216×832 and 3000×2000 both shrink into 1152×768 (128-pixel steps, no upscaling).
      { width: 1152, height: 768, count: 4 },
    ])
    expect(doc.batches_per_epoch).toBe(3)
    const off = JSON.parse((await scan(train, '--json', '--no-bucket')).stdout) as { buckets: unknown[] }
    expect(off.buckets).toEqual([{ width: 1024, height: 1024, count: 15 }])
  })

  it('reads a parent of <repeats>_<name> folders, adds regularization folders, balances them', async () => {
    const r = await scan(path.dirname(train), '--reg', path.dirname(reg), '--json', '--full')
    const doc = JSON.parse(r.stdout) as {
      subsets: Array<{ image_dir: string; is_reg: boolean }>
      train_images_with_repeats: number
      reg_images_used: number
      balance: string
    }
    expect(doc.subsets.map((s) => [s.image_dir, s.is_reg])).toEqual([
      [train, false],
      [reg, true],
    ])
    expect(doc.train_images_with_repeats).toBe(15)
    expect(doc.reg_images_used).toBe(15)
    expect(doc.balance).toBe('reg_short')
  })

  it('scans every subset of a config file, including regularization', async () => {
    const config = path.join(root, 'config.json')
    writeFileSync(
      config,
      JSON.stringify({
        type: 'lora',
        dataset: {
          subsets: [
            { image_dir: train, num_repeats: 1 },
            { image_dir: reg, num_repeats: 1, is_reg: true },
          ],
        },
        training: { batch_size: 2 },
      }),
    )
    const doc = JSON.parse((await scan('--config', config, '--json')).stdout) as {
      images: number
      batches_per_epoch: number
    }
    expect(doc.images).toBe(7)
    const text = await scan('--config', config)
    expect(text.stdout).toContain('steps per epoch')
    expect(text.stdout).toContain('reg ')
  })

  it('exits 1 when a problem stops training, and 2 with a clear message on hostile options', async () => {
    mkdirSync(path.join(root, 'broken'), { recursive: true })
    writeFileSync(path.join(root, 'broken', 'x.png'), 'garbage')
    expect((await scan(path.join(root, 'broken'), '--json')).code).toBe(1)
    for (const [opt, value] of [
      ['--batch', '0'],
      ['--batch', '-1'],
      ['--batch', '1.5'],
      ['--repeats', 'many'],
      ['--resolution', 'big'],
      ['--min-bucket', ''],
    ]) {
      const r = await scan(train, opt!, value!)
      expect(r.code, `${opt} ${value}`).toBe(2)
      expect(r.stderr).toContain(opt!.slice(2))
    }
    const tooBig = await scan(train, '--resolution', '99999')
    expect(tooBig.code).toBe(1)
    expect(tooBig.stderr).toContain('resolution')
    const missing = await scan(path.join(root, 'Нет такой папки'))
    expect(missing.stderr).toContain('Dataset folder not found')
    expect((await scan()).code).toBe(2)
  })
})
