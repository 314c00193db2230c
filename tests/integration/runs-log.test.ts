import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BoundedLog } from '../../electron/services/runs/bounded-log'
import { OutputBatcher } from '../../electron/services/runs/output-batcher'
import { RunStore } from '../../electron/services/runs/run-store'

describe('raw log and output batches', () => {
  it('the log rotates at its cap and never holds more than twice the cap', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-log-'))
    const file = path.join(dir, 'console.log')
    const log = new BoundedLog(file, 10_000)
    const line = Buffer.from(`${'x'.repeat(99)}\n`)
    for (let i = 0; i < 1000; i++) log.append(line)
    log.close()
    expect(statSync(file).size).toBeLessThanOrEqual(10_000)
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(10_000)
    expect(existsSync(`${file}.2`)).toBe(false)
    // Bytes are kept exactly, multibyte and all.
    const log2 = new BoundedLog(path.join(dir, 'u.log'))
    log2.append(Buffer.from('学習開始'))
    log2.append('кошка')
    log2.close()
    expect(readFileSync(path.join(dir, 'u.log'), 'utf8')).toBe('学習開始кошка')
  })

  it('events.jsonl stops keeping progress frames past its cap, but keeps everything else', () => {
    const store = new RunStore(mkdtempSync(path.join(os.tmpdir(), 'runs-ev-')))
    mkdirSync(store.dir('r1'), { recursive: true })
    const progress = (step: number) =>
      ({
        type: 'progress',
        bar: 'train',
        desc: 'steps',
        step,
        total: 1000,
        percent: null,
        elapsed_s: null,
        remaining_s: null,
        rate: null,
        it_per_s: null,
        avr_loss: 0.1,
        postfix: {},
      }) as const
    for (let i = 0; i < 100; i++) store.appendEvents('r1', [progress(i)], 2000)
    store.appendEvents('r1', [progress(100), { type: 'epoch', epoch: 2, total: 3 }], 2000)
    const events = store.readEvents('r1')
    expect(events.length).toBeLessThan(30)
    expect(events.at(-1)).toEqual({ type: 'epoch', epoch: 2, total: 3 })
    expect(statSync(store.file('r1', 'events')).size).toBeLessThan(2000 + 400)
  })

  it('batches by size at once and by time otherwise', async () => {
    const batches: number[] = []
    const b = new OutputBatcher((d) => batches.push(d.length), 16, 1000)
    b.push(Buffer.alloc(600))
    b.push(Buffer.alloc(600))
    expect(batches).toEqual([1200])
    b.push(Buffer.alloc(10))
    expect(batches).toEqual([1200])
    await new Promise((r) => setTimeout(r, 40))
    expect(batches).toEqual([1200, 10])
  })
})
