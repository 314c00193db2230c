import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Services } from '../../electron/services'
import type { RunNotice } from '../../core/runs/notice'
import type { RunStartInput } from '../../core/runs/record'
import { RunService } from '../../electron/services/runs/run-service'
import { repoRoot, servicesPerTest, trainerScript } from '../helpers/services'

const services: RunService[] = []
afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose(500)
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-queue кошка-'))
  const service = new RunService({ dataDir: dir, env: process.env, graceMs: 2000, requestPollMs: 200 })
  services.push(service)
  return { dir, service }
}

function run(dir: string, name: string, args: string[]): RunStartInput {
  return {
    command: ['python3', trainerScript, '--output_dir', path.join(dir, name), ...args],
    cwd: dir,
    name,
    gpus: [0],
  }
}
const hang = (dir: string, name: string) =>
  run(dir, name, ['--end', 'hang', '--fail_at_step', '2', '--delay', '0'])
const quick = (dir: string, name: string) => run(dir, name, ['--steps', '3', '--delay', '0'])

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await what()
    if (ok(v) || Date.now() > end) return v
    await sleep(100)
  }
}

/** The CLI as a separate process (another shell), on the same data folder. */
function cliProcess(args: string[], data: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'electron/cli/main.ts'), ...args],
      { cwd: repoRoot, env: { ...process.env, SDXL_STUDIO_DATA_DIR: data } },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

describe('queue: pause and edit', () => {
  it('a paused run keeps its place and holds nothing: the run behind it starts; let go, it starts next', async () => {
    const { dir, service } = setup()
    const blocker = await service.start(hang(dir, 'blocker'))
    const b = await service.start(quick(dir, 'b'))
    const c = await service.start(quick(dir, 'c'))
    await until(
      () => service.get(blocker.id),
      (r) => r.state === 'running',
    )
    expect((await service.setPaused(b.id, true)).paused).toBe(true)
    expect(service.queueOrder()).toEqual([b.id, c.id])
    await service.stop(blocker.id)
    expect((await service.waitFor(c.id)).state).toBe('finished')
    expect((await service.get(b.id)).state).toBe('queued')
    expect(service.queueOrder()).toEqual([b.id])
    await service.setPaused(b.id, false)
    expect((await service.waitFor(b.id)).state).toBe('finished')
    // Only queued runs: an ended one cannot be paused or edited.
    await expect(service.setPaused(b.id, true)).rejects.toThrow(/finished, no longer queued/)
    await expect(service.edit({ id: c.id, name: 'x' })).rejects.toThrow(/no longer queued/)
  }, 60_000)

  it('edits a queued run (name, GPUs, command); hostile values are refused and change nothing', async () => {
    const newServices = servicesPerTest()
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-queue-'))
    const s: Services = newServices({ dataDir: dir, mode: 'headless', env: process.env, version: 'test' })
    const ctx = { transport: 'test' } as const
    const call = async (method: 'queue.edit' | 'run.start', input: unknown) => {
      const r = await s.router.call(method, input, ctx)
      if (!r.ok) throw new Error(r.error.message)
      return r.result
    }
    const blocker = await call('run.start', hang(dir, 'blocker'))
    const queued = await call('run.start', quick(dir, 'q'))
    for (const bad of [
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(300) },
      { gpus: [-1] },
      { gpus: [1.5] },
      { gpus: ['0'] },
      { command: [] },
      { command: [''] },
      { command: ['no-such-program-кошка'] },
      { stop_on_failure: 'yes' },
      { cwd: '/' },
    ]) {
      await expect(call('queue.edit', { id: queued.id, ...bad }), JSON.stringify(bad)).rejects.toThrow()
    }
    const runs = s.runs.service
    expect(await runs.get(queued.id)).toMatchObject({ name: 'q', gpus: [0], command: queued.command })
    const edited = await call('queue.edit', {
      id: queued.id,
      name: 'Кошка, 1e-4',
      gpus: [0],
      command: [
        'python3',
        trainerScript,
        '--steps',
        '2',
        '--delay',
        '0',
        '--output_dir',
        path.join(dir, 'e'),
      ],
    })
    expect(edited).toMatchObject({ name: 'Кошка, 1e-4', output_dir: path.join(dir, 'e') })
    await runs.stop(blocker.id)
    const done = await runs.waitFor(queued.id)
    expect(done.state).toBe('finished')
    expect(done.summary.last_step).toBe(2)
    expect(done.input.command).toEqual(edited.command)
  }, 60_000)

  it('queue pause / edit from another shell reach the process whose queue holds the run', async () => {
    const { dir, service } = setup()
    const blocker = await service.start(hang(dir, 'blocker'))
    const b = await service.start(quick(dir, 'b'))
    await until(
      () => service.get(blocker.id),
      (r) => r.state === 'running',
    )
    const paused = await cliProcess(['queue', 'pause', b.id], dir)
    expect(paused.out).toContain('paused')
    expect(paused.code).toBe(0)
    expect((await service.get(b.id)).paused).toBe(true)
    const bad = await cliProcess(['queue', 'edit', b.id, '--command-json', '["no-such-program-кошка"]'], dir)
    expect(bad.code).not.toBe(0)
    expect(bad.out).toMatch(/no-such-program-кошка/)
    const renamed = await cliProcess(['queue', 'edit', b.id, '--name', 'Кошка'], dir)
    expect(renamed.code).toBe(0)
    expect((await service.get(b.id)).name).toBe('Кошка')
    const usage = await cliProcess(['queue', 'edit', b.id, '--gpus=1.5'], dir)
    expect(usage.code).not.toBe(0)
    expect(usage.out).toMatch(/--gpus: GPU ids "1.5" are not GPU numbers/)
    await service.stop(blocker.id)
    await service.stop(b.id)
  }, 120_000)
})

describe('notifications', () => {
  it('a finished and a failed run each notify once with the final loss and time; a stopped one does not', async () => {
    const { dir, service } = setup()
    const notices: RunNotice[] = []
    service.onNotice((n) => notices.push(n))
    const ok = await service.start({ ...quick(dir, 'ok'), gpus: [0] })
    const oom = await service.start(run(dir, 'oom', ['--end', 'oom', '--steps', '6', '--delay', '0']))
    const stopped = await service.start(hang(dir, 'stopped'))
    await service.waitFor(ok.id)
    await service.waitFor(oom.id)
    await until(
      () => service.get(stopped.id),
      (r) => r.state === 'running',
    )
    await service.stop(stopped.id)
    await service.waitFor(stopped.id)
    expect(notices.map((n) => [n.name, n.state])).toEqual([
      ['ok', 'finished'],
      ['oom', 'failed'],
    ])
    const okRec = await service.get(ok.id)
    expect(notices[0]?.final_loss).toBe(okRec.summary.last_avr_loss)
    expect(notices[0]?.final_loss).toBeGreaterThan(0)
    expect(notices[0]?.duration_s).toBeGreaterThanOrEqual(0)
    expect(notices[1]?.reason).toMatch(/out of memory/)
  }, 60_000)
})
