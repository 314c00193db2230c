import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AnsiStripper, stripAnsi } from '../../core/runs/ansi'
import { LogSummary, RunEvent, type ProgressEvent } from '../../core/runs/events'
import { LineSplitter } from '../../core/runs/lines'
import { parseLog } from '../../core/runs/parse-log'
import { baseName, ProgressParser } from '../../core/runs/progress-parser'
import { lossSeries } from '../../core/runs/summary'
import { parseTqdm } from '../../core/runs/tqdm'
import { Utf8StreamDecoder } from '../../core/runs/utf8'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const sharedLogs = path.resolve(repoRoot, '../shared/reference/samples/sd-scripts-logs')
const ownLogs = path.join(repoRoot, 'tests/fixtures/logs')

function logsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => path.join(dir, f))
}

function expected(logFile: string): LogSummary {
  return LogSummary.parse(JSON.parse(readFileSync(logFile.replace(/\.log$/, '.expected.json'), 'utf8')))
}

/** Feeds the chunks one by one, then ends. */
function feedAll(chunks: Array<Uint8Array | string>): RunEvent[] {
  const p = new ProgressParser()
  const out: RunEvent[] = []
  for (const c of chunks) out.push(...p.feed(c))
  out.push(...p.end())
  return out
}

function bars(events: RunEvent[]): ProgressEvent[] {
  return events.filter((e): e is ProgressEvent => e.type === 'progress')
}

describe('real sd-scripts logs from public issue threads (../shared)', () => {
  const present = existsSync(sharedLogs)
  it.skipIf(!present)('each summary matches the facts read off the log', () => {
    const files = logsIn(sharedLogs)
    expect(files.length).toBeGreaterThanOrEqual(4)
    for (const f of files) {
      const { summary, events } = parseLog(readFileSync(f))
      expect(summary, path.basename(f)).toEqual(expected(f))
      for (const e of events) RunEvent.parse(e)
    }
  })
  if (!present)
    it.skip(`skipped: ${sharedLogs} is absent (it ships with the project's reference folder)`, () => {})
})

describe('our fixtures in the sd-scripts format (tests/fixtures/logs)', () => {
  for (const f of logsIn(ownLogs)) {
    it(`${path.basename(f)}: summary`, () => {
      expect(parseLog(readFileSync(f)).summary).toEqual(expected(f))
    })
  }

  it('reads every kind of event out of a complete pty run', () => {
    const { events } = parseLog(readFileSync(path.join(ownLogs, 'sdxl-lora-complete-pty.log')))
    const startup = events.find((e) => e.type === 'startup')
    expect(startup).toEqual({
      type: 'startup',
      variant: 'network',
      train_images_with_repeats: 120,
      validation_images_with_repeats: 0,
      reg_images: 0,
      num_examples: null,
      batches_per_epoch: 60,
      epochs: 2,
      batch_size_per_device: [2],
      gradient_accumulation_steps: 1,
      total_steps: 120,
    })
    expect(events.filter((e) => e.type === 'caching')).toEqual([
      { type: 'caching', what: 'latents', phase: 'start' },
      { type: 'caching', what: 'latents', phase: 'done' },
    ])
    expect(bars(events).filter((b) => b.bar === 'caching_latents')).toHaveLength(13)
    const train = bars(events).filter((b) => b.bar === 'train')
    expect(train.map((b) => b.step)).toEqual(Array.from({ length: 121 }, (_, i) => i))
    expect(train[5]?.rate).toEqual({ value: 1.52, unit: 's/it' })
    expect(train[50]?.rate).toEqual({ value: 1.43, unit: 'it/s' })
    expect(events.filter((e) => e.type === 'sampling')).toEqual([{ type: 'sampling', step: 120 }])
    expect(events.find((e) => e.type === 'sample_prompt')).toEqual({
      type: 'sample_prompt',
      prompt: 'a photo of кошка cat, sitting on a chair',
    })
    expect(events.at(-1)).toEqual({ type: 'model_saved' })
    // Colours are gone from kept lines.
    for (const e of events) if (e.type === 'text') expect(e.line).not.toContain('\x1b')
  })

  it('fine-tune variant: num examples, the OOM exception and the launcher error', () => {
    const { events } = parseLog(readFileSync(path.join(ownLogs, 'sdxl-finetune-oom.log')))
    expect(events.find((e) => e.type === 'startup')).toMatchObject({
      variant: 'finetune',
      num_examples: 400,
      train_images_with_repeats: null,
      gradient_accumulation_steps: 4,
      total_steps: 250,
    })
    const failures = events.filter((e) => e.type === 'failure')
    expect(failures.map((f) => f.kind)).toEqual(['traceback', 'exception', 'oom', 'traceback', 'exception'])
    expect(failures[1]).toMatchObject({ detail: 'OutOfMemoryError' })
    expect(failures[4]).toMatchObject({ detail: 'CalledProcessError' })
  })

  it('missing module, no data and NaN loss are named', () => {
    const mm = parseLog(readFileSync(path.join(ownLogs, 'missing-module.log'))).events
    expect(mm.find((e) => e.type === 'failure' && e.kind === 'missing_module')).toMatchObject({
      detail: 'bitsandbytes',
    })
    const nd = parseLog(readFileSync(path.join(ownLogs, 'no-data.log'))).events
    expect(nd.filter((e) => e.type === 'failure').map((e) => e.type === 'failure' && e.kind)).toEqual([
      'no_data',
    ])
    const nan = parseLog(readFileSync(path.join(ownLogs, 'nan-loss.log'))).events
    const nanFailures = nan.filter((e) => e.type === 'failure')
    expect(nanFailures).toEqual([
      { type: 'failure', kind: 'nan_loss', message: 'avr_loss=nan at step 3', detail: null },
    ])
    expect(bars(nan).at(-1)?.postfix).toEqual({ avr_loss: 'nan' })
  })
})

describe('stream edge cases', () => {
  it('any split of the byte stream gives the same events as one chunk', () => {
    const bytes = new Uint8Array(readFileSync(path.join(ownLogs, 'sdxl-lora-complete-pty.log')))
    const whole = feedAll([bytes])
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b)
        const chunks: Uint8Array[] = []
        let prev = 0
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(prev, p))
          prev = p
        }
        expect(feedAll(chunks)).toEqual(whole)
      }),
      { numRuns: 60 },
    )
  })

  it('byte-by-byte feeding keeps CJK and Cyrillic intact', () => {
    const text =
      'running training / 学習開始\n  total optimization steps / 学習ステップ数: 5\nsaving checkpoint: /tmp/вывод/кошка-000001.safetensors\n'
    const bytes = new TextEncoder().encode(text)
    const events = feedAll(Array.from(bytes, (b) => new Uint8Array([b])))
    expect(events.find((e) => e.type === 'checkpoint')).toMatchObject({ file: 'кошка-000001.safetensors' })
    expect(events.find((e) => e.type === 'startup')).toMatchObject({ total_steps: 5 })
    const d = new Utf8StreamDecoder()
    const gaku = new TextEncoder().encode('学')
    expect(d.write(gaku.subarray(0, 1)) + d.write(gaku.subarray(1, 2)) + d.write(gaku.subarray(2))).toBe('学')
    expect(d.write(new Uint8Array([0xe5, 0xad])) + d.end()).toBe('\ufffd')
  })

  it('escape sequences split across chunks are removed, not printed', () => {
    const s = new AnsiStripper()
    const parts = ['\x1b', '[3', '8;5;2', '0mgreen\x1b]0;ti', 'tle\x07 text\x1b[0', 'm\x1b(B!']
    expect(parts.map((p) => s.write(p)).join('')).toBe('green text!')
    expect(stripAnsi('\x1b[2K\r\x1b[1A\x1b[?25lsteps')).toBe('\rsteps')
    expect(stripAnsi('a\x1bP1$r0m\x1b\\b')).toBe('ab')
  })

  it('a bar in the unfinished last frame is reported at once and not twice', () => {
    const p = new ProgressParser()
    const first = p.feed('\rsteps:  10%|█         | 1/10 [00:01<00:09,  1.00it/s, avr_loss=0.5]')
    expect(bars(first).map((b) => b.step)).toEqual([1])
    const second = p.feed('\rsteps:  20%|██        | 2/10 [00:02<00:08,  1.00it/s, avr_loss=0.4]')
    expect(bars(second).map((b) => b.step)).toEqual([2])
    const third = p.feed('epoch 2/3\r\n')
    expect(third).toEqual([{ type: 'epoch', epoch: 2, total: 3 }])
    expect(p.end()).toEqual([])
  })

  it('a carriage-return storm costs nothing and the last frame wins', () => {
    const storm =
      '\r'.repeat(200_000) +
      'steps:  50%|█████     | 5/10 [00:05<00:05,  1.00it/s]' +
      '\r'.repeat(1000) +
      '\n'
    const events = feedAll([storm])
    expect(bars(events).map((b) => b.step)).toEqual([5])
    const splitter = new LineSplitter()
    expect(splitter.write('a\r')).toEqual([])
    expect(splitter.write('\nb\rc')).toEqual([
      { text: 'a', redraw: false },
      { text: 'b', redraw: true },
    ])
  })

  it('reads bars with and without totals, it/s and s/it, postfix values', () => {
    expect(
      parseTqdm('steps:  12%|█▏        | 120/1000 [02:01<14:50,  1.01s/it, avr_loss=0.0912]'),
    ).toMatchObject({
      desc: 'steps',
      step: 120,
      total: 1000,
      elapsedS: 121,
      remainingS: 890,
      rate: { value: 1.01, unit: 's/it' },
      postfix: { avr_loss: 0.0912 },
      rest: '',
    })
    const slow = parseTqdm('steps:   0%|▏       | 575/115000 [08:41<28:49:59,  1.10it/s, avr_loss=1]')
    expect(slow).toMatchObject({
      remainingS: 28 * 3600 + 49 * 60 + 59,
      itPerS: 1.1,
      postfix: { avr_loss: 1 },
    })
    expect(
      parseTqdm('steps: 37it [00:05,  7.38it/s, avr_loss=0.1, Keys Scaled=3, Average key norm=0.812]'),
    ).toMatchObject({
      step: 37,
      total: null,
      percent: null,
      remainingS: null,
      postfix: { avr_loss: 0.1, 'Keys Scaled': 3, 'Average key norm': 0.812 },
    })
    expect(parseTqdm('  0%|          | 0/19 [00:01<?, ?it/s]')).toMatchObject({
      desc: null,
      rate: null,
      itPerS: null,
    })
    expect(parseTqdm('steps:  28%|██▊       | 7/25 [00:07<00:18,  1.00it/s]')?.percent).toBe(28)
    expect(parseTqdm('steps:   0%|          | 1/3000 [00:01<50:00,  1.00it/s]')?.percent).toBe(0.03)
    expect(parseTqdm('found directory D:\\x contains 12 image files')).toBeNull()
    expect(parseTqdm('2026-01-01 10:00:00 INFO     [Dataset 0]    config_util.py:578')).toBeNull()
  })

  it('reads the width-less bar of notebook consoles (no bar, no pipes)', () => {
    expect(parseTqdm('steps:   0% 0/2300 [00:01<?, ?it/s]')).toMatchObject({
      desc: 'steps',
      step: 0,
      total: 2300,
      elapsedS: 1,
      remainingS: null,
      rate: null,
      rest: '',
    })
    expect(parseTqdm('steps:  33% 40/120 [01:24<02:48,  2.10s/it, avr_loss=0.131]epoch 2/3')).toMatchObject({
      step: 40,
      total: 120,
      rate: { value: 2.1, unit: 's/it' },
      postfix: { avr_loss: 0.131 },
      rest: 'epoch 2/3',
    })
    expect(parseTqdm('100% 160/160 [00:00<00:00, 9999.83it/s]')).toMatchObject({ desc: null, step: 160 })
    expect(parseTqdm('accuracy 99% of 12/40 images')).toBeNull()
  })

  it('takes the running average from `loss=` where older sd-scripts printed it, on the steps bar only', () => {
    const loss = (line: string): Array<number | null> => bars(feedAll([line + '\n'])).map((b) => b.avr_loss)
    expect(loss('steps:   1%|          | 3/300 [00:08<13:28,  2.72s/it, loss=0.142]')).toEqual([0.142])
    expect(loss('steps:   1%|          | 3/300 [00:08<13:28,  2.72s/it, loss=0.9, avr_loss=0.142]')).toEqual([
      0.142,
    ])
    expect(loss('validation steps:  50%|█████     | 1/2 [00:01<00:01,  1.00it/s, loss=0.3]')).toEqual([null])
    const nan = feedAll(['steps:   1%|          | 3/300 [00:08<13:28,  2.72s/it, loss=nan]\n'])
    expect(nan.filter((e) => e.type === 'failure')).toEqual([
      { type: 'failure', kind: 'nan_loss', message: 'avr_loss=nan at step 3', detail: null },
    ])
  })

  it('reads a start-up block whose Japanese halves arrived as cp1252 mojibake', () => {
    const { events } = parseLog(readFileSync(path.join(ownLogs, 'mojibake-startup.log')))
    expect(events.find((e) => e.type === 'startup')).toEqual({
      type: 'startup',
      variant: 'network',
      train_images_with_repeats: 64,
      validation_images_with_repeats: null,
      reg_images: 0,
      num_examples: null,
      batches_per_epoch: 64,
      epochs: 5,
      batch_size_per_device: [1],
      gradient_accumulation_steps: 1,
      total_steps: 320,
    })
  })

  it('a Rich ERROR line with no time column names no data; its wrapped second half stays text', () => {
    const events = feedAll([
      'ERROR    No data found. Please verify arguments (train_data_dir must be the parent of folders with images)\n',
      '/ 画像がありません。引数指定を確認してください\n',
    ])
    expect(events).toEqual([
      {
        type: 'failure',
        kind: 'no_data',
        message:
          'No data found. Please verify arguments (train_data_dir must be the parent of folders with images)',
        detail: null,
      },
      { type: 'text', line: '/ 画像がありません。引数指定を確認してください' },
    ])
  })

  it('a traceback glued to the end of a bar is still seen', () => {
    const events = feedAll([
      'steps:   3%|▎         | 3/100 [00:09<04:51,  3.00s/it, avr_loss=0.2]Traceback (most recent call last):\n',
      '  File "a.py", line 1, in <module>\n',
      'RuntimeError: boom\n',
    ])
    expect(events.map((e) => e.type)).toEqual(['progress', 'failure', 'text', 'failure'])
    expect(events[3]).toMatchObject({
      kind: 'exception',
      detail: 'RuntimeError',
      message: 'RuntimeError: boom',
    })
  })

  it('understands a 315-column Rich line and mixed path separators', () => {
    const msg = 'saving checkpoint: D:\\runs/Обучение\\out/lora-step00000200.safetensors'
    const line = `2026-11-20 10:00:01 INFO     ${msg}${' '.repeat(315 - 29 - msg.length - 21)}train_network.py:1033`
    expect(line.length).toBe(315)
    const events = feedAll([line + '\n'])
    expect(events).toEqual([
      {
        type: 'checkpoint',
        action: 'saved',
        path: 'D:\\runs/Обучение\\out/lora-step00000200.safetensors',
        file: 'lora-step00000200.safetensors',
      },
    ])
    expect(baseName('C:\\a/b\\c.safetensors')).toBe('c.safetensors')
  })

  it('never throws on junk and keeps unknown lines', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const events = feedAll(chunks)
        for (const e of events) RunEvent.parse(e)
      }),
      { numRuns: 200 },
    )
    expect(feedAll(['hello world\n'])).toEqual([{ type: 'text', line: 'hello world' }])
    expect(new ProgressParser({ keepText: false }).feed('hello world\n')).toEqual([])
  })
})

describe('the loss of a step is its last frame (sd-scripts redraws a step twice)', () => {
  // What sd-scripts v0.10.1 printed for 3 steps on the CPU: update(1) draws the new count with the
  // previous average, set_postfix draws it again with this step's. Rich log lines between them.
  const log =
    'steps:   0%|          | 0/3 [00:00<?, ?it/s]' +
    '\rsteps:  33%|███▎      | 1/3 [00:41<01:22, 41.06s/it]' +
    '\rsteps:  33%|███▎      | 1/3 [00:41<01:22, 41.06s/it, avr_loss=1.11]' +
    '\rsteps:  67%|██████▋   | 2/3 [01:20<00:40, 40.24s/it, avr_loss=1.11]' +
    '\rsteps:  67%|██████▋   | 2/3 [01:20<00:40, 40.24s/it, avr_loss=1.1]' +
    '\rsteps: 100%|██████████| 3/3 [02:01<00:00, 40.41s/it, avr_loss=1.1]' +
    '\rsteps: 100%|██████████| 3/3 [02:01<00:00, 40.41s/it, avr_loss=1.09]\n'

  it('lossSeries gives 1.11, 1.10, 1.09 for steps 1–3 and the summary the final 1.09', () => {
    const { events, summary } = parseLog(log)
    expect(lossSeries(events)).toEqual([
      [1, 1.11],
      [2, 1.1],
      [3, 1.09],
    ])
    expect(summary.last_avr_loss).toBe(1.09)
    expect(summary.last_step).toBe(3)
  })

  it('in any chunking, the final loss is there (the live frame is peeked, not lost)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: log.length - 1 }), { maxLength: 12 }), (cuts) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b)
        const chunks = [0, ...at].map((c, i) => log.slice(c, at[i] ?? log.length))
        const events = feedAll(chunks)
        expect(lossSeries(events)).toEqual([
          [1, 1.11],
          [2, 1.1],
          [3, 1.09],
        ])
      }),
      { numRuns: 200 },
    )
  })
})

describe('caching events', () => {
  it('one caching pass is one start, though sd-scripts announces it twice', () => {
    const log = [
      'INFO     caching latents with caching strategy.                  train_util.py:1120',
      'INFO     caching latents...                                      train_util.py:1170',
      '100%|██████████| 4/4 [00:03<00:00,  1.21it/s]',
      'INFO     [Dataset 1]                                             train_util.py:2600',
      'INFO     caching latents...                                      train_util.py:1170',
      '100%|██████████| 2/2 [00:01<00:00,  1.51it/s]',
      '',
    ].join('\n')
    const caching = parseLog(log).events.filter((e) => e.type === 'caching')
    expect(caching).toEqual([
      { type: 'caching', what: 'latents', phase: 'start' },
      { type: 'caching', what: 'latents', phase: 'done' },
      { type: 'caching', what: 'latents', phase: 'start' },
      { type: 'caching', what: 'latents', phase: 'done' },
    ])
  })
})
