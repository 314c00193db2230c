import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Services } from '../../electron/services'
import { servicesPerTest, trainerScript } from '../helpers/services'

const trainer = trainerScript
const newServices = servicesPerTest()
let services: Services

describe.skipIf(process.platform !== 'linux')('run.open_output', () => {
  it('opens the output folder with the file manager in the desktop app, and names it in headless mode', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-open-'))
    // A stand-in xdg-open that records what it was asked to open.
    const bin = path.join(dir, 'bin')
    mkdirSync(bin)
    const opened = path.join(dir, 'opened.txt')
    // Written to a side file and renamed, so the test never reads a file the shell has created but not yet filled.
    writeFileSync(
      path.join(bin, 'xdg-open'),
      `#!/bin/sh\nprintf '%s' "$1" > '${opened}.part' && mv '${opened}.part' '${opened}'\n`,
    )
    chmodSync(path.join(bin, 'xdg-open'), 0o755)
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` }
    const out = path.join(dir, 'выход out')
    const ctx = { transport: 'test' } as const

    services = newServices({ dataDir: dir, mode: 'electron', env, version: 'test' })
    const started = await services.router.call(
      'run.start',
      { command: ['python3', trainer, '--steps', '2', '--delay', '0', '--output_dir', out], cwd: dir },
      ctx,
    )
    if (!started.ok) throw new Error(started.error.message)
    await services.runs.service.waitFor(started.result.id)
    const r = await services.router.call('run.open_output', { id: started.result.id }, ctx)
    expect(r).toEqual({ ok: true, result: { opened: out } })
    for (let i = 0; i < 100 && !existsSync(opened); i++) await new Promise((res) => setTimeout(res, 20))
    expect(readFileSync(opened, 'utf8')).toBe(out)
    await services.dispose()

    services = newServices({ dataDir: dir, mode: 'headless', env, version: 'test' })
    const headless = await services.router.call('run.open_output', { id: started.result.id }, ctx)
    expect(headless.ok).toBe(false)
    if (!headless.ok) expect(headless.error.message).toContain(out)
  })
})
