import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { ServerMessage } from '../../core/api/protocol'
import { createServices, type Services } from '../../electron/services'
import { RouterSession } from '../../electron/services/router'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')
let services: Services | null = null
afterEach(async () => {
  await services?.dispose()
  services = null
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('run.output flow control (router FlowGate → pty pause/resume)', () => {
  it('the pty stops reading while the terminal is behind and resumes on acknowledgement', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-flow-'))
    services = createServices({ dataDir: dir, mode: 'headless', env: process.env, version: 'test' })
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
    // No acknowledgements: reading stops soon after the high watermark.
    await sleep(1500)
    const b1 = runs.bytesRead(id) as number
    await sleep(700)
    const b2 = runs.bytesRead(id) as number
    expect(b2).toBe(b1)
    const units = received
      .filter((m) => m.t === 'evt' && m.id === 1)
      .reduce((n, m) => n + ((m as { data: { data: string } }).data.data.length ?? 0), 0)
    expect(units).toBeGreaterThan(100_000)
    expect(units).toBeLessThan(100_000 + 400 * 1024)
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
})
