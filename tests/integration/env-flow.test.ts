import { promises as fs } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FLOW_HIGH_WATERMARK } from '../../core/api/flow'
import type { ServerMessage } from '../../core/api/protocol'
import { InstallPlan } from '../../core/env/plan'
import { createServices } from '../../electron/services'
import { RouterSession } from '../../electron/services/router'
import { realPython, tempDir, testEnv } from './env-helpers'

let root: string
beforeAll(() => {
  root = tempDir('flow')
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

describe('env.log flow control', () => {
  it('a log consumer that does not acknowledge pauses the running command; acknowledging lets it finish', async () => {
    const dataDir = path.join(root, 'data')
    const envDir = path.join(dataDir, 'envs', 'flow')
    const services = createServices({ dataDir, mode: 'test', env: testEnv(), version: '0.0.0' })
    // A one-step plan whose command prints 8 MB: far above the high watermark.
    const plan = InstallPlan.parse({
      version: 'v0.10.1',
      os: 'linux',
      envDir,
      srcDir: path.join(envDir, 'sd-scripts'),
      venvDir: path.join(envDir, 'venv'),
      venvPython: path.join(envDir, 'venv', 'bin', 'python'),
      installer: 'uv',
      torch: null,
      runEnv: {},
      tokenizerCacheDir: path.join(envDir, 'tokenizers'),
      totalBytes: 0,
      steps: [
        {
          id: 'source',
          title: 'Print a lot',
          commands: [
            {
              kind: 'run',
              argv: [
                realPython(),
                '-c',
                "import sys\nfor i in range(8000): sys.stdout.write('x' * 1000 + '\\n')",
              ],
            },
          ],
        },
      ],
    })
    const sent: ServerMessage[] = []
    const session = new RouterSession(services.router, (m) => sent.push(m), { transport: 'test' })
    try {
      await session.receive({ t: 'sub', id: 7, event: 'env.log', params: {} })
      const received = () =>
        sent.reduce(
          (n, m) => n + (m.t === 'evt' && m.id === 7 ? (m.data as { data: string }).data.length : 0),
          0,
        )
      const run = services.env.manager.runPlan('flow', plan, { fresh: true, action: 'install' })
      let finished = false
      void run.done.then(() => (finished = true))
      await run.started
      await new Promise((r) => setTimeout(r, 2000))
      // Paused: output stops a little above the watermark and the command cannot finish.
      expect(finished).toBe(false)
      expect(received()).toBeGreaterThan(FLOW_HIGH_WATERMARK)
      expect(received()).toBeLessThan(4 * FLOW_HIGH_WATERMARK)
      expect((await services.env.manager.progress('flow'))?.status).toBe('running')

      // The consumer catches up: acknowledge everything received, again and again, until the end.
      let acked = 0
      while (!finished) {
        const total = received()
        if (total > acked) {
          await session.receive({ t: 'ack', id: 7, units: total - acked })
          acked = total
        }
        await new Promise((r) => setTimeout(r, 20))
      }
      const outcome = await run.done
      expect(outcome.state.status).toBe('done')
      expect(received()).toBeGreaterThanOrEqual(2000 * 1001)
    } finally {
      session.close()
      await services.dispose()
    }
  }, 60_000)
})
