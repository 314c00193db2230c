import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../core/api/errors'
import { RunRecord, type RunStartInput } from '../../core/runs/record'
import { RunEvent } from '../../core/runs/events'
import { lossSeries } from '../../core/runs/summary'
import { RunService } from '../../electron/services/runs/run-service'
import { startAppWithRun } from '../helpers/app-with-run'
import { isAlive } from '../helpers/processes'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')

const services: RunService[] = []
afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose(500)
})

function setup(opts: Partial<ConstructorParameters<typeof RunService>[0]> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runs it кошка-'))
  const service = new RunService({ dataDir: dir, env: process.env, samplePollMs: 200, ...opts })
  services.push(service)
  return { dir, service }
}

function fake(dir: string, args: string[], extra: Partial<RunStartInput> = {}): RunStartInput {
  return { command: ['python3', trainer, '--output_dir', path.join(dir, 'out'), ...args], cwd: dir, ...extra }
}

/**
 * A stand-in trainer that hangs after `hangAtStep` (as a stuck sd-scripts does) with a child process of
 * its own; both pids go to `pidFile`, so a test can check that stopping ends the whole tree.
 */
function hangingTrainer(
  dir: string,
  hangAtStep: number,
  pidFile: string,
  ignoreSigint = false,
): RunStartInput {
  return fake(dir, [
    '--steps',
    '100',
    '--delay',
    '0.02',
    '--end',
    'hang',
    '--fail_at_step',
    String(hangAtStep),
    '--spawn_child',
    ...(ignoreSigint ? ['--ignore_sigint'] : []),
    '--pid_file',
    pidFile,
  ])
}

function pidsIn(file: string): number[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number)
}

async function until(
  check: () => boolean | Promise<boolean>,
  ms = 15_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('runner with the stand-in trainer (real pty, real python)', () => {
  it('a successful run leaves a complete record', async () => {
    const { dir, service } = setup()
    const rec = await service.start(
      fake(
        dir,
        [
          '--steps',
          '12',
          '--epochs',
          '3',
          '--delay',
          '0.01',
          '--sample_every_n_steps',
          '6',
          '--output_name',
          'кошка cat',
        ],
        {
          config: { network_dim: 16 },
          dataset_toml: '[general]\n',
          gpus: [0],
        },
      ),
    )
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('finished')
    expect(done.exit_code).toBe(0)
    expect(done.summary).toEqual({
      total_steps: 12,
      last_step: 12,
      epochs_total: 3,
      last_epoch: 3,
      last_avr_loss: expect.any(Number),
      error: null,
      saved_checkpoints: [
        'кошка cat-000001.safetensors',
        'кошка cat-000002.safetensors',
        'кошка cat.safetensors',
      ],
    })
    expect(done.samples).toHaveLength(2)
    const runDir = service.store.dir(rec.id)
    const onDisk = RunRecord.parse(JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')))
    expect(onDisk.state).toBe('finished')
    expect(JSON.parse(readFileSync(path.join(runDir, 'command.json'), 'utf8'))).toEqual(rec.command)
    // command.txt is pasteable: single quotes, so nothing in a path expands.
    expect(readFileSync(path.join(runDir, 'command.txt'), 'utf8')).toContain("'кошка cat'")
    expect(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8'))).toEqual({ network_dim: 16 })
    expect(readFileSync(path.join(runDir, 'dataset.toml'), 'utf8')).toBe('[general]\n')
    const log = readFileSync(path.join(runDir, 'console.log'), 'utf8')
    expect(log).toContain('running training / 学習開始')
    const events = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => RunEvent.parse(JSON.parse(l)))
    const steps = events.flatMap((e) => (e.type === 'progress' && e.bar === 'train' ? [e.step] : []))
    expect(steps).toEqual([...new Set(steps)]) // one event per step, not per redraw
    expect(steps.at(-1)).toBe(12)
    expect(existsSync(path.join(runDir, 'pids.json'))).toBe(false)
    expect(readdirSync(path.join(dir, 'out', 'sample'))).toHaveLength(2)
  })

  it("the loss chart and the summary take each step's last frame, the final step's included", async () => {
    const { dir, service } = setup()
    const rec = await service.start(fake(dir, ['--steps', '6', '--epochs', '1', '--delay', '0.05']))
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('finished')
    // The log's frames per step: the first (update(1)) still shows the previous step's average.
    const log = readFileSync(path.join(service.store.dir(rec.id), 'console.log'), 'utf8')
    const first = new Map<number, number>()
    const last = new Map<number, number>()
    for (const m of log.matchAll(/(\d+)\/6 \[[^\]]*avr_loss=([\d.]+)\]/g)) {
      const step = Number(m[1])
      if (!first.has(step)) first.set(step, Number(m[2]))
      last.set(step, Number(m[2]))
    }
    const expected = [...last.entries()].sort((a, b) => a[0] - b[0])
    expect(expected.map((p) => p[0])).toEqual([1, 2, 3, 4, 5, 6])
    expect([...first.values()]).not.toEqual([...last.values()]) // the test means something
    const stored = [...service.store.readEvents(rec.id)]
    expect(lossSeries(stored)).toEqual(expected)
    // events.jsonl keeps one frame per step (the last), not every redraw (0/6: the bar before step 1).
    const steps = stored.flatMap((e) => (e.type === 'progress' && e.bar === 'train' ? [e.step] : []))
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(done.summary.last_avr_loss).toBe(last.get(6))
  })

  it("a run starts at the size of the terminal that shows it; a queued run's resize is kept for it", async () => {
    const { dir, service } = setup()
    const size = (id: string) => readFileSync(path.join(service.store.dir(id), 'console.log'), 'utf8')
    const sttyRun = (extra: Partial<RunStartInput> = {}) =>
      service.start({ command: ['sh', '-c', 'sleep 0.3; stty size'], cwd: dir, gpus: [0], ...extra })
    // A long run holds GPU 0, so the next one waits in the queue while the viewer resizes it.
    const blocker = await service.start(fake(dir, ['--steps', '20', '--delay', '0.05'], { gpus: [0] }))
    const queued = await sttyRun()
    expect((await service.get(queued.id)).state).toBe('queued')
    await service.resize(queued.id, 97, 31)
    await service.waitFor(blocker.id)
    await service.waitFor(queued.id)
    expect(size(queued.id)).toMatch(/^31 97\s*$/)
    // The size is remembered (on disk too) for later runs, which nobody has resized yet.
    const later = await sttyRun()
    await service.waitFor(later.id)
    expect(size(later.id)).toMatch(/^31 97\s*$/)
    const restarted = new RunService({ dataDir: dir, env: process.env })
    services.push(restarted)
    const afterRestart = await restarted.start({ command: ['sh', '-c', 'stty size'], cwd: dir })
    await restarted.waitFor(afterRestart.id)
    expect(readFileSync(path.join(restarted.store.dir(afterRestart.id), 'console.log'), 'utf8')).toMatch(
      /^31 97\s*$/,
    )
    // An ended run's terminal cannot be resized: said, not ignored.
    await expect(service.resize(later.id, 80, 24)).rejects.toThrow(/has ended/)
  })

  it('an out-of-memory end is a failed run that says what to change', async () => {
    const { dir, service } = setup()
    const rec = await service.start(
      fake(dir, ['--steps', '10', '--delay', '0.01', '--end', 'oom', '--fail_at_step', '4']),
    )
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('failed')
    expect(done.exit_code).toBe(1)
    expect(done.summary.error).toBe('oom')
    expect(done.summary.last_step).toBe(4)
    expect(done.reason).toMatch(/out of memory.*batch size/i)
  })

  it('a crash is a failed run with the exception line as reason', async () => {
    const { dir, service } = setup()
    const rec = await service.start(
      fake(dir, ['--steps', '6', '--delay', '0', '--end', 'crash', '--fail_at_step', '2']),
    )
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('failed')
    expect(done.summary.error).toBe('traceback')
    expect(done.reason).toContain('RuntimeError: fake trainer crashed at step 2')
  })

  it('a missing program or folder is refused with a message, and nothing is recorded', async () => {
    const { dir, service } = setup()
    await expect(service.start({ command: ['no-such-program-xyz'], cwd: dir })).rejects.toThrow(/not on PATH/)
    await expect(service.start({ command: ['python3'], cwd: path.join(dir, 'nope') })).rejects.toBeInstanceOf(
      ApiError,
    )
    expect(await service.list()).toEqual([])
  })

  it('stop now: the launcher and its child both end (SIGINT to the group)', async () => {
    const { dir, service } = setup()
    const pidFile = path.join(dir, 'pids.txt')
    const rec = await service.start(hangingTrainer(dir, 5, pidFile))
    await until(() => pidsIn(pidFile).length === 2, 15_000, 'launcher and child')
    await until(async () => (await service.get(rec.id)).summary.last_step === 5, 15_000, 'step 5')
    await service.stop(rec.id, 'now')
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('stopped')
    expect(done.reason).toMatch(/saves nothing/)
    for (const pid of pidsIn(pidFile)) await until(() => !isAlive(pid), 5000, `pid ${pid} gone`)
  })

  it('stop of a trainer that ignores SIGINT: the tree is killed after the grace period', async () => {
    const { dir, service } = setup({ graceMs: 400 })
    const pidFile = path.join(dir, 'pids.txt')
    const rec = await service.start(hangingTrainer(dir, 3, pidFile, true))
    await until(async () => (await service.get(rec.id)).summary.last_step === 3, 15_000, 'step 3')
    await service.stop(rec.id)
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('stopped')
    for (const pid of pidsIn(pidFile)) await until(() => !isAlive(pid), 5000, `pid ${pid} gone`)
  })

  it('stop after the next saved checkpoint keeps that checkpoint', async () => {
    const { dir, service } = setup()
    const rec = await service.start(
      fake(dir, ['--steps', '40', '--epochs', '4', '--delay', '0.05', '--save_every_n_epochs', '1']),
    )
    expect(rec.save_configured).toBe(true)
    await until(async () => (await service.get(rec.id)).summary.last_step !== null, 15_000, 'first step')
    await service.stop(rec.id, 'after_checkpoint')
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('stopped')
    expect(done.summary.saved_checkpoints).toEqual(['last-000001.safetensors'])
    expect(done.reason).toBe('Stopped after saving last-000001.safetensors.')
    expect(done.summary.last_step).toBeLessThan(40)
    expect(existsSync(path.join(dir, 'out', 'last-000001.safetensors'))).toBe(true)
  })

  it('stop after checkpoint when the next save is the final one: the run just finishes', async () => {
    const { dir, service } = setup()
    const rec = await service.start(
      fake(dir, ['--steps', '20', '--epochs', '1', '--delay', '0.03', '--save_every_n_epochs', '1']),
    )
    await until(async () => (await service.get(rec.id)).summary.last_step !== null, 15_000, 'first step')
    await service.stop(rec.id, 'after_checkpoint')
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('finished')
    expect(done.summary.last_step).toBe(20)
    expect(done.summary.saved_checkpoints).toEqual(['last.safetensors'])
  })

  it('stop after checkpoint is refused when the run saves nothing before the end', async () => {
    const { dir, service } = setup()
    const rec = await service.start({
      command: ['python3', trainer, '--steps', '50', '--delay', '0.05'],
      cwd: dir,
    })
    await until(async () => (await service.get(rec.id)).state === 'running', 15_000, 'running')
    await expect(service.stop(rec.id, 'after_checkpoint')).rejects.toThrow(/saves no checkpoints/)
    await service.stop(rec.id, 'now')
    expect((await service.waitFor(rec.id)).state).toBe('stopped')
  })

  it('app quit (dispose) leaves no trainer process and a stopped record', async () => {
    const { dir, service } = setup()
    const pidFile = path.join(dir, 'pids.txt')
    const rec = await service.start(hangingTrainer(dir, 2, pidFile, true))
    await until(() => pidsIn(pidFile).length === 2, 15_000, 'launcher and child')
    await service.dispose(300)
    for (const pid of pidsIn(pidFile)) await until(() => !isAlive(pid), 5000, `pid ${pid} gone`)
    const onDisk = RunRecord.parse(
      JSON.parse(readFileSync(path.join(service.store.dir(rec.id), 'summary.json'), 'utf8')),
    )
    expect(onDisk.state).toBe('stopped')
    expect(onDisk.reason).toMatch(/app quit/)
  })

  it('an app crash (kill -9) leaves no trainer and a readable record that becomes failed on restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-crash-'))
    const pidFile = path.join(dir, 'pids.txt')
    const { app, id } = await startAppWithRun(dir, pidFile)
    const trainerPids = pidsIn(pidFile)
    expect(trainerPids).toHaveLength(2)
    app.kill('SIGKILL')
    for (const pid of trainerPids)
      await until(() => !isAlive(pid), 8000, `trainer pid ${pid} gone after the app died`)
    // Every JSON the app wrote is whole.
    const runDir = path.join(dir, 'runs', id)
    const before = RunRecord.parse(JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')))
    expect(before.state).toBe('running')
    for (const line of readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').slice(0, -1))
      JSON.parse(line)
    const restarted = new RunService({ dataDir: dir, env: process.env })
    services.push(restarted)
    const after = await restarted.get(id)
    expect(after.state).toBe('failed')
    expect(after.reason).toMatch(/app exited/)
  }, 60_000)
})

describe('GPU memory', () => {
  it("records the peak GPU memory of the run's processes (launcher child included)", async () => {
    const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'runs-gpu-')), 'pids.txt')
    let call = 0
    const { dir, service } = setup({
      gpuPollMs: 100,
      // Stands in for nvidia-smi's process list: the trainer's child holds memory, an unrelated pid too.
      gpuProcesses: async () => {
        const [, child] = pidsIn(pidFile)
        if (child) call++
        return [
          { pid: 1, used_memory_mib: 99_999 },
          ...(child ? [{ pid: child, used_memory_mib: call < 5 ? 1000 + call * 100 : 500 }] : []),
        ]
      },
    })
    const rec = await service.start(
      fake(dir, ['--steps', '30', '--delay', '0.05', '--spawn_child', '--pid_file', pidFile]),
    )
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('finished')
    expect(done.peak_gpu_memory_mib).toBeGreaterThanOrEqual(1100)
    expect(done.peak_gpu_memory_mib).toBeLessThanOrEqual(1400)
    expect(done.gpu_memory_mib).toBeNull() // nothing held once it ended
    // Each change is kept as a gpu_memory event, in time order, for the memory chart.
    const samples = service.store.readEvents(rec.id).flatMap((e) => (e.type === 'gpu_memory' ? [e] : []))
    const used = samples.map((e) => e.used_mib)
    // (A last 0 may follow: the child has exited and freed its memory while the launcher is still ending.)
    expect(used.slice(0, used.lastIndexOf(500) + 1).slice(-5)).toEqual([1100, 1200, 1300, 1400, 500])
    expect(used.slice(used.lastIndexOf(500) + 1).every((u) => u === 0)).toBe(true)
    for (let i = 1; i < samples.length; i++) {
      expect(used[i]).not.toBe(used[i - 1])
      expect(samples[i]!.elapsed_s).toBeGreaterThanOrEqual(samples[i - 1]!.elapsed_s)
    }
  })
})

describe('queue', () => {
  it('runs on the same GPU wait their turn; other GPUs run at once; order can change', async () => {
    const { dir, service } = setup()
    const a = await service.start(fake(dir, ['--steps', '30', '--delay', '0.03'], { gpus: [0], name: 'a' }))
    const b = await service.start(fake(dir, ['--steps', '2', '--delay', '0'], { gpus: [0], name: 'b' }))
    const c = await service.start(fake(dir, ['--steps', '2', '--delay', '0'], { gpus: [0], name: 'c' }))
    const d = await service.start(fake(dir, ['--steps', '2', '--delay', '0'], { gpus: [1], name: 'd' }))
    expect((await service.get(b.id)).state).toBe('queued')
    expect(service.queueOrder()).toEqual([b.id, c.id])
    expect((await service.waitFor(d.id)).state).toBe('finished')
    expect((await service.get(a.id)).state).not.toBe('finished') // d did not wait for a
    await expect(service.reorder([b.id])).rejects.toThrow(/every queued run/)
    await service.reorder([c.id, b.id])
    const cDone = await service.waitFor(c.id)
    const bDone = await service.waitFor(b.id)
    expect((cDone.started_at as string) <= (bDone.started_at as string)).toBe(true)
    expect((await service.get(a.id)).ended_at! <= cDone.started_at!).toBe(true)
  })

  it('a failed run does not block the next unless stop_on_failure is set', async () => {
    const { dir, service } = setup()
    const bad = await service.start(
      fake(dir, ['--end', 'crash', '--fail_at_step', '0', '--delay', '0'], { gpus: [0] }),
    )
    const next = await service.start(fake(dir, ['--steps', '2', '--delay', '0'], { gpus: [0] }))
    expect((await service.waitFor(bad.id)).state).toBe('failed')
    expect((await service.waitFor(next.id)).state).toBe('finished')

    const held = await service.start(
      fake(dir, ['--end', 'crash', '--fail_at_step', '0', '--delay', '0'], {
        gpus: [0],
        stop_on_failure: true,
      }),
    )
    const waiting = await service.start(fake(dir, ['--steps', '2', '--delay', '0'], { gpus: [0] }))
    expect((await service.waitFor(held.id)).state).toBe('failed')
    await new Promise((r) => setTimeout(r, 300))
    expect((await service.get(waiting.id)).state).toBe('queued')
    expect(service.heldBy).toBe(held.id)
    service.resumeQueue()
    expect((await service.waitFor(waiting.id)).state).toBe('finished')
    // A queued run can be removed; an ended one deleted with its folder.
    await service.delete(held.id)
    expect(existsSync(service.store.dir(held.id))).toBe(false)
    await expect(service.get(held.id)).rejects.toThrow(/No run/)
  })
})
