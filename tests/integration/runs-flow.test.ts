import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FLOW_HIGH_WATERMARK } from '../../core/api/flow'
import type { ServerMessage } from '../../core/api/protocol'
import type { Services } from '../../electron/services'
import { servicesPerTest, trainerScript } from '../helpers/services'
import { RouterSession } from '../../electron/services/router'

const trainer = trainerScript
const newServices = servicesPerTest()
let services: Services

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('run.output flow control (router FlowGate → pty pause/resume)', () => {
  it('the pty stops reading while the terminal is behind and resumes on acknowledgement', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-flow-'))
    services = newServices({ dataDir: dir, mode: 'headless', env: process.env, version: 'test' })
    const received: ServerMessage[] = []
    const session = new RouterSession(services.router, (m) => received.push(m), { transport: 'test' })
    const started = await services.router.call(
      'run.start',
      {
        command: [
          'python3',
          trainer,
          '--steps',
          '100000',
          '--delay',
          '0',
          '--filler_bytes',
          '20000',
          '--output_dir',
          path.join(dir, 'out'),
        ],
        cwd: dir,
      },
      { transport: 'test' },
    )
    if (!started.ok) throw new Error(started.error.message)
    const id = started.result.id
    const runs = services.runs.service
    while (runs.bytesRead(id) === null) await sleep(20)
    await session.receive({ t: 'sub', id: 1, event: 'run.output', params: { id } })
    // No acknowledgements: reading stops soon after the high watermark (on a loaded machine the trainer
    // takes longer to get there, so wait until it is past it and two readings 700 ms apart agree).
    const sent = () =>
      received
        .filter((m) => m.t === 'evt' && m.id === 1)
        .reduce((n, m) => n + ((m as { data: { data: string } }).data.data.length ?? 0), 0)
    let b1 = -1
    let b2 = runs.bytesRead(id) as number
    for (let i = 0; i < 40 && (b2 !== b1 || sent() <= FLOW_HIGH_WATERMARK); i++) {
      b1 = b2
      await sleep(700)
      b2 = runs.bytesRead(id) as number
    }
    expect(b2).toBe(b1)
    const units = sent()
    expect(units).toBeGreaterThan(FLOW_HIGH_WATERMARK)
    expect(units).toBeLessThan(FLOW_HIGH_WATERMARK + 400 * 1024)
    // The terminal catches up: reading resumes.
    await session.receive({ t: 'ack', id: 1, units })
    await sleep(700)
    expect(runs.bytesRead(id) as number).toBeGreaterThan(b2)
    // A gone subscriber never leaves the pty paused.
    session.close()
    const b3 = runs.bytesRead(id) as number
    await sleep(700)
    expect(runs.bytesRead(id) as number).toBeGreaterThan(b3)
    await runs.stop(id)
    expect((await runs.waitFor(id)).state).toBe('stopped')
  })

  it('a terminal opened on a queued run follows it once it starts; an ended run gives its log and ends', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-flow-'))
    services = newServices({ dataDir: dir, mode: 'headless', env: process.env, version: 'test' })
    const ctx = { transport: 'test' } as const
    const start = async (args: string[]) => {
      const r = await services!.router.call(
        'run.start',
        {
          command: ['python3', trainer, '--output_dir', path.join(dir, 'out'), ...args],
          cwd: dir,
          gpus: [0],
        },
        ctx,
      )
      if (!r.ok) throw new Error(r.error.message)
      return r.result.id
    }
    const first = await start(['--steps', '10', '--delay', '0.05'])
    const second = await start(['--steps', '3', '--delay', '0'])
    expect((await services.runs.service.get(second)).state).toBe('queued')
    const received: ServerMessage[] = []
    const session = new RouterSession(services.router, (m) => received.push(m), ctx)
    await session.receive({ t: 'sub', id: 7, event: 'run.output', params: { id: second } })
    await services.runs.service.waitFor(second)
    const waitEnd = async () => {
      for (let i = 0; i < 100 && !received.some((m) => m.t === 'end' && m.id === 7); i++) await sleep(20)
    }
    await waitEnd()
    const text = received
      .filter((m) => m.t === 'evt' && m.id === 7)
      .map((m) => (m as { data: { data: string } }).data.data)
      .join('')
    expect(text).toContain('running training')
    expect(text).toContain('model saved.')
    // Byte for byte what the log kept: a terminal that followed the run needs no reload when it ends.
    expect(text).toBe(readFileSync(services.runs.service.store.file(second, 'log'), 'utf8'))
    expect(received.some((m) => m.t === 'end' && m.id === 7 && !m.error)).toBe(true)
    expect((await services.runs.service.get(first)).state).toBe('finished')

    // Ended: the end of its log, then the stream ends.
    received.length = 0
    await session.receive({ t: 'sub', id: 8, event: 'run.output', params: { id: first } })
    const ended = received.filter((m) => m.id === 8)
    expect(ended.at(-1)).toEqual({ t: 'end', id: 8 })
    expect((ended[0] as { data: { data: string } }).data.data).toContain('total optimization steps')
    session.close()
  })
})
