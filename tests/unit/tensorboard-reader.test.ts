import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32c, maskedCrc32c } from '../../core/tensorboard/crc32c'
import { decodeEvent, scalarsFromRecords } from '../../core/tensorboard/events'
import { ScalarSeries, alignSeries, groupCharts } from '../../core/tensorboard/scalars'
import { frameRecord, MAX_RECORD_BYTES, readRecords } from '../../core/tensorboard/tfrecord'

/*
 * The TensorBoard reader against event files written by the real `tensorboard` package
 * (tests/fixtures/tensorboard, made by write_events.py: torch.utils.tensorboard.SummaryWriter as
 * sd-scripts' runs write them, and tensorboard.summary.Writer's tensor scalars), and hostile bytes.
 */

const fixtures = path.resolve(import.meta.dirname, '../fixtures/tensorboard')

function fixture(style: string): { bytes: Uint8Array; expected: Record<string, Array<[number, number]>> } {
  const dir = path.join(fixtures, style)
  const file = readdirSync(dir).find((f) => f.includes('tfevents')) as string
  return {
    bytes: new Uint8Array(readFileSync(path.join(dir, file))),
    expected: JSON.parse(readFileSync(path.join(fixtures, `${style}.expected.json`), 'utf8')) as Record<
      string,
      Array<[number, number]>
    >,
  }
}

function scalarsOf(bytes: Uint8Array): Record<string, Array<[number, number]>> {
  const r = readRecords(bytes)
  expect(r.problem).toBeNull()
  expect(r.next).toBe(bytes.length)
  const s = new ScalarSeries()
  s.add(scalarsFromRecords(r.records).points)
  return s.toRecord()
}

describe('CRC-32C', () => {
  it('matches the standard check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
    expect(crc32c(new Uint8Array(0))).toBe(0)
  })
  it('masks as TFRecord does (rotate right 15, add 0xa282ead8)', () => {
    const c = crc32c(new TextEncoder().encode('123456789'))
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe(
      (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0,
    )
  })
})

describe('event files written by the tensorboard package', () => {
  it('torch.utils.tensorboard (sd-scripts runs): every scalar, every step, as float32', () => {
    const { bytes, expected } = fixture('torch-style')
    const got = scalarsOf(bytes)
    expect(Object.keys(got).sort()).toEqual(
      ['loss/average', 'loss/current', 'loss/epoch_average', 'lr/textencoder', 'lr/unet'].sort(),
    )
    expect(got).toEqual(expected)
    expect(got['loss/epoch_average']?.map((p) => p[0])).toEqual([1, 2, 3])
  })

  it('tensorboard.summary.Writer (tensor scalars with the scalars plugin): every scalar', () => {
    const { bytes, expected } = fixture('new-style')
    expect(scalarsOf(bytes)).toEqual(expected)
  })

  it('the first event is the file version, with no scalars', () => {
    const { bytes } = fixture('torch-style')
    const first = readRecords(bytes).records[0] as Uint8Array
    expect(decodeEvent(first)).toMatchObject({ file_version: 'brain.Event:2', scalars: [] })
  })

  it('reads a file written in pieces: a record cut short waits, the rest comes on the next read', () => {
    const { bytes, expected } = fixture('torch-style')
    const s = new ScalarSeries()
    let offset = 0
    // Feed the file as a growing prefix, at odd sizes that cut records anywhere.
    for (let end = 7; offset < bytes.length; end = Math.min(bytes.length, end + 37)) {
      const r = readRecords(bytes.subarray(offset, end), offset)
      expect(r.problem).toBeNull()
      expect(r.next).toBeGreaterThanOrEqual(offset)
      s.add(scalarsFromRecords(r.records).points)
      offset = r.next
      if (end === bytes.length && offset < bytes.length) throw new Error('stalled')
    }
    expect(s.toRecord()).toEqual(expected)
  })
})

describe('hostile event files', () => {
  const { bytes } = fixture('torch-style')
  const whole = readRecords(bytes).records.length

  it('empty: no records, no problem', () => {
    expect(readRecords(new Uint8Array(0))).toEqual({ records: [], next: 0, problem: null })
  })

  it('truncated anywhere: the whole records before the cut, then waits (no problem)', () => {
    for (const cut of [1, 11, 12, 13, 100, bytes.length - 1]) {
      const r = readRecords(bytes.subarray(0, cut))
      expect(r.problem).toBeNull()
      expect(r.records.length).toBeLessThan(whole)
      expect(r.next).toBeLessThanOrEqual(cut)
    }
  })

  it('a flipped byte in a record: bad data checksum at that record; the ones before are kept', () => {
    const damaged = bytes.slice()
    const firstLen = Number(new DataView(damaged.buffer).getBigUint64(0, true))
    const second = 12 + firstLen + 4
    damaged[second + 14] = (damaged[second + 14] as number) ^ 0x40
    const r = readRecords(damaged)
    expect(r.problem).toEqual({ kind: 'bad_data_crc', offset: second })
    expect(r.records).toHaveLength(1)
    expect(r.next).toBe(second)
  })

  it('a damaged length: bad length checksum', () => {
    const damaged = bytes.slice()
    damaged[3] = (damaged[3] as number) ^ 0x01
    expect(readRecords(damaged).problem).toEqual({ kind: 'bad_length_crc', offset: 0 })
  })

  it('a huge declared length with a valid checksum: too large, not a 2^60-byte allocation', () => {
    const head = new Uint8Array(16)
    const view = new DataView(head.buffer)
    view.setBigUint64(0, 2n ** 60n, true)
    view.setUint32(8, maskedCrc32c(head, 0, 8), true)
    const r = readRecords(head)
    expect(r.problem).toEqual({ kind: 'too_large', offset: 0, length: Number(2n ** 60n) })
    const justOver = new Uint8Array(16)
    new DataView(justOver.buffer).setBigUint64(0, BigInt(MAX_RECORD_BYTES + 1), true)
    new DataView(justOver.buffer).setUint32(8, maskedCrc32c(justOver, 0, 8), true)
    expect(readRecords(justOver).problem?.kind).toBe('too_large')
  })

  it('a well-framed record that is not an Event is counted as undecodable, not fatal', () => {
    const junk = frameRecord(new Uint8Array([0xff, 0xff, 0xff]))
    const r = readRecords(junk)
    expect(r.records).toHaveLength(1)
    expect(scalarsFromRecords(r.records)).toEqual({ points: [], undecodable: 1 })
  })

  it('random bytes never throw and never read past the end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = readRecords(b)
        expect(r.next).toBeLessThanOrEqual(b.length)
        scalarsFromRecords(r.records)
      }),
      { numRuns: 300 },
    )
  })

  it('random bytes framed as records decode or are counted, never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 5 }), (list) => {
        const framed = list.map(frameRecord)
        const all = new Uint8Array(framed.reduce((n, f) => n + f.length, 0))
        let at = 0
        for (const f of framed) {
          all.set(f, at)
          at += f.length
        }
        const r = readRecords(all)
        expect(r.problem).toBeNull()
        expect(r.records).toHaveLength(list.length)
        const s = scalarsFromRecords(r.records)
        expect(s.undecodable).toBeLessThanOrEqual(list.length)
      }),
      { numRuns: 300 },
    )
  })
})

describe('charts from scalars', () => {
  it('groups sd-scripts tags: loss, learning rates, loss per epoch, validation, then the rest', () => {
    const groups = groupCharts([
      'lr/unet',
      'loss/epoch_average',
      'loss/average',
      'loss/current',
      'lr/textencoder',
      'lr/d*lr/unet',
      'loss/validation/current',
      'norm/avg_key_norm',
      'max_norm/keys_scaled',
    ])
    expect(groups.map((g) => [g.kind, g.prefix, g.tags, g.x])).toEqual([
      ['loss', null, ['loss/current', 'loss/average'], 'step'],
      ['lr', null, ['lr/d*lr/unet', 'lr/textencoder', 'lr/unet'], 'step'],
      ['epoch', null, ['loss/epoch_average'], 'epoch'],
      ['validation', null, ['loss/validation/current'], 'step'],
      ['other', 'max_norm', ['max_norm/keys_scaled'], 'step'],
      ['other', 'norm', ['norm/avg_key_norm'], 'step'],
    ])
    // Fine-tune (sdxl_train.py) names.
    expect(groupCharts(['loss', 'loss/epoch', 'lr/text_encoder1']).map((g) => g.kind)).toEqual([
      'loss',
      'lr',
      'epoch',
    ])
    expect(groupCharts([])).toEqual([])
  })

  it('aligns series on the union of their steps, with gaps as null (NaN and infinities too)', () => {
    expect(
      alignSeries([
        [
          [1, 0.5],
          [3, 0.25],
        ],
        [
          [2, 1],
          [3, NaN],
        ],
      ]),
    ).toEqual({
      x: [1, 2, 3],
      ys: [
        [0.5, null, 0.25],
        [null, 1, null],
      ],
    })
    expect(alignSeries([])).toEqual({ x: [], ys: [] })
  })

  it('a step logged twice keeps the later value (a resumed run)', () => {
    const s = new ScalarSeries()
    s.add([
      { tag: 'loss/current', step: 2, value: 1, wall_time: 1 },
      { tag: 'loss/current', step: 1, value: 3, wall_time: 2 },
      { tag: 'loss/current', step: 2, value: 5, wall_time: 3 },
    ])
    expect(s.get('loss/current')).toEqual([
      [1, 3],
      [2, 5],
    ])
    expect(s.get('missing')).toEqual([])
  })
})
