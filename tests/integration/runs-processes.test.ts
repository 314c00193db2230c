import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunRecord, RunStartInput } from '../../core/runs/record'
import { RunService } from '../../electron/services/runs/run-service'
import { startAppWithRun } from '../helpers/app-with-run'
import { runCliCaptured as cli } from '../helpers/cli'
import { runRecord } from '../helpers/run-record'
import { repoRoot, trainerScript as trainer } from '../helpers/services'

/*
 * Every process of a run ends with it, including those that left its session (setsid) or lost their
 * parent (a daemon's double fork): on stop, at its normal end, when the app is killed (the watchdog),
 * and at the next start (recovery). And `run stop` from another process escalates to a kill.
 * Linux only: the marker search reads /proc.
 */

const started: ChildProcess[] = []
const services: RunService[] = []
const leftovers: number[] = []
afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose(300)
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL') // whatever a failing test left behind
    } catch {
      // gone
    }
  }
})

/** A live process (a zombie has ended: it only waits for its parent to read its status). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

function pidsIn(file: string): number[] {
  if (!existsSync(file)) return []
  const pids = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number)
  for (const p of pids) if (!leftovers.includes(p)) leftovers.push(p)
  return pids
}

/** The session a process is in (/proc/<pid>/stat field 6). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3])
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function allGone(pids: number[], ms = 5000): Promise<void> {
  for (const pid of pids) await until(() => !running(pid), ms, `pid ${pid} to end`)
}

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

function trainerRun(dir: string, pidFile: string, args: string[]): RunStartInput {
  return {
    command: ['python3', trainer, '--output_dir', path.join(dir, 'out'), '--pid_file', pidFile, ...args],
    cwd: dir,
  }
}

/** Waits for the launcher, its child and the detached process to have written their pids. */
async function threePids(pidFile: string): Promise<number[]> {
  await until(() => pidsIn(pidFile).length === 3, 20_000, 'launcher, child and detached process')
  return pidsIn(pidFile)
}

describe.runIf(process.platform === 'linux')('a run and every process it started', () => {
  for (const kind of ['setsid', 'daemon'] as const) {
    it(`stop now ends a child that left the session (${kind})`, async () => {
      const dir = tmp('runs-proc-')
      const pidFile = path.join(dir, 'pids.txt')
      const service = new RunService({ dataDir: dir, env: process.env, graceMs: 2000 })
      services.push(service)
      const rec = await service.start(
        trainerRun(dir, pidFile, [
          ...['--steps', '100', '--delay', '0.02', '--end', 'hang', '--fail_at_step', '2'],
          ...['--spawn_child', '--detached_child', kind],
        ]),
      )
      const pids = await threePids(pidFile)
      const detached = pids[2] as number
      // It really left the trainer's session.
      expect(sessionOf(detached)).not.toBe(sessionOf(pids[0] as number))
      await until(async () => (await service.get(rec.id)).summary.last_step === 2, 15_000, 'step 2')
      const result = await service.stop(rec.id, 'now')
      expect((await service.waitFor(rec.id)).state).toBe('stopped')
      await allGone(pids)
      expect(result.actions).toEqual([
        { kind: 'interrupted', pid: pids[0] },
        { kind: 'kill_scheduled', after_s: 2 },
      ])
    })
  }

  it('a run that finishes leaves no detached process behind', async () => {
    const dir = tmp('runs-proc-')
    const pidFile = path.join(dir, 'pids.txt')
    const service = new RunService({ dataDir: dir, env: process.env })
    services.push(service)
    const rec = await service.start(
      trainerRun(dir, pidFile, ['--steps', '30', '--delay', '0.05', '--detached_child', 'daemon']),
    )
    await until(() => pidsIn(pidFile).length === 2, 15_000, 'trainer and detached process')
    expect((await service.waitFor(rec.id)).state).toBe('finished')
    await allGone(pidsIn(pidFile))
  })

  it('the watchdog ends a detached process when the app is killed (kill -9)', async () => {
    const { dir, pids } = await crashedApp(['--detached_child', 'daemon'], true)
    await allGone(pids, 8000)
    const restarted = new RunService({ dataDir: dir, env: process.env })
    services.push(restarted)
    expect((await restarted.list())[0]?.state).toBe('failed')
  }, 60_000)

  it('without a watchdog, the next start ends what the crashed app left (recovery)', async () => {
    const { dir, pids, id } = await crashedApp(['--detached_child', 'setsid'], false)
    // Nothing else ends the detached process: it left the session, so the pty's hang-up never reaches
    // it (the trainer itself dies of it, or of writing to a closed terminal).
    await new Promise((r) => setTimeout(r, 1000))
    expect(running(pids[2] as number)).toBe(true)
    const restarted = new RunService({ dataDir: dir, env: process.env })
    services.push(restarted)
    const after = await restarted.get(id)
    expect(after.state).toBe('failed')
    expect(after.reason).toMatch(/app exited/)
    await allGone(pids)
  }, 60_000)

  it('recovery never kills a process whose pid was recycled (start time differs)', async () => {
    const dir = tmp('runs-proc-')
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' })
    started.push(stranger)
    const pid = stranger.pid as number
    const id = '20260101000000-abcdef'
    const runDir = path.join(dir, 'runs', id)
    const rec = runRecord({ id, cwd: dir, state: 'running', pid, ended_at: null })
    await writeJson(path.join(runDir, 'summary.json'), rec)
    await writeJson(path.join(runDir, 'pids.json'), {
      pid,
      start_time: '1', // booted a tick after the kernel: not this `sleep`
      owner_pid: 999_999_999,
      owner_start_time: null,
      watchdog_pid: null,
      marker: `SDXL_STUDIO_RUN_ID=${id}`,
    })
    const service = new RunService({ dataDir: dir, env: process.env })
    services.push(service)
    expect((await service.get(id)).state).toBe('failed')
    expect(running(pid)).toBe(true)
  })
})

describe.runIf(process.platform === 'linux')('run stop from another process (CLI in another shell)', () => {
  it('escalates: Ctrl-C, then after the grace period kills a trainer busy in a C call, and says so', async () => {
    // No launcher: a launcher would end on Ctrl-C, and the owner then ends the trainer with it at once.
    const { data, id, pids, owner } = await runOwnedByCli(['--end', 'busy', '--fail_at_step', '3'], {
      launcher: false,
    })
    const t0 = Date.now()
    const stop = await cli(['run', 'stop', id, '--grace', '1.5'], data)
    const took = Date.now() - t0
    expect(stop.code).toBe(0)
    expect(stop.stdout).toContain(`Sent Ctrl-C (SIGINT) to the trainer's process group (pid ${pids[0]})`)
    expect(stop.stdout, stop.stdout).toMatch(
      new RegExp(`Still running \\d+(\\.\\d)? s after Ctrl-C: killed 1 process \\(${pids[0]}\\)`),
    )
    expect(stop.stdout).toMatch(/stopped/)
    expect(took).toBeLessThan(12_000)
    expect(await owner.exited).toBe(1)
    await allGone(pids)
    const rec = JSON.parse((await cli(['run', 'get', id, '--json'], data)).stdout) as RunRecord
    expect(rec.state).toBe('stopped')
    expect(rec.reason).toMatch(/saves nothing/)
  }, 90_000)

  it('uses the grace period from the settings, and reports a trainer that ends on Ctrl-C', async () => {
    const ignoring = await runOwnedByCli(['--end', 'hang', '--fail_at_step', '3', '--ignore_sigint'], {
      launcher: false,
    })
    expect((await cli(['run', 'stop', ignoring.id, '--grace', 'soon'], ignoring.data)).code).not.toBe(0)
    writeFileSync(path.join(ignoring.data, 'settings.json'), JSON.stringify({ stop_grace_s: 1 }))
    const stop = await cli(['run', 'stop', ignoring.id, '--json'], ignoring.data)
    const result = JSON.parse(stop.stdout) as { actions: Array<{ kind: string; after_s?: number }> }
    const killed = result.actions.find((a) => a.kind === 'killed')
    expect(killed?.after_s).toBeGreaterThanOrEqual(1)
    expect(killed?.after_s).toBeLessThan(4)
    await allGone(ignoring.pids)

    const polite = await runOwnedByCli(['--end', 'hang', '--fail_at_step', '3'])
    const ended = await cli(['run', 'stop', polite.id, '--grace', '20'], polite.data)
    expect(ended.stdout).toMatch(/The trainer ended \d+(\.\d)? s after Ctrl-C/)
    expect(ended.stdout).not.toMatch(/killed/)
    await allGone(polite.pids)
  }, 120_000)

  it('--after-checkpoint from another process: the owner stops the run after its next save', async () => {
    const { data, id, owner } = await runOwnedByCli(['--epochs', '50', '--save_every_n_epochs', '1'], {
      steps: 400,
    })
    const stop = await cli(['run', 'stop', id, '--after-checkpoint'], data)
    expect(stop.code).toBe(0)
    expect(stop.stdout).toContain('It stops after its next checkpoint is saved.')
    expect(await owner.exited).toBe(1)
    const rec = JSON.parse((await cli(['run', 'get', id, '--json'], data)).stdout) as RunRecord
    expect(rec.state).toBe('stopped')
    expect(rec.reason).toMatch(/^Stopped after saving last-\d{6}\.safetensors\.$/)
  }, 90_000)

  it('a run queued here for a GPU that another process’s run holds starts once that run ends', async () => {
    const { data, id, owner } = await runOwnedByCli(['--end', 'hang', '--fail_at_step', '3'], {
      gpus: '0',
    })
    const dir = path.dirname(data)
    const service = new RunService({ dataDir: data, env: process.env, requestPollMs: 200 })
    services.push(service)
    const other = await service.start(
      trainerRun(dir, path.join(dir, 'other.pids'), ['--steps', '2', '--delay', '0']),
    )
    const mine = await service.start({
      ...trainerRun(dir, path.join(dir, 'mine.pids'), ['--steps', '2', '--delay', '0']),
      gpus: [0],
    })
    // Another GPU's run (none given = all GPUs, so it waits too) and ours on GPU 0 wait.
    await new Promise((r) => setTimeout(r, 1500))
    expect((await service.get(mine.id)).state).toBe('queued')
    expect((await service.get(other.id)).state).toBe('queued')
    expect((await cli(['run', 'stop', id, '--grace', '1'], data)).code).toBe(0)
    expect(await owner.exited).toBe(1)
    expect((await service.waitFor(mine.id)).state).toBe('finished')
    expect((await service.waitFor(other.id)).state).toBe('finished')
  }, 90_000)

  it('refuses a grace period that is not 0 to 600 seconds, naming the flag', async () => {
    const data = path.join(tmp('runs-proc-'), 'data')
    for (const bad of ['-1', 'abc', '', '601', '1e9', 'Infinity', 'десять'])
      expect((await cli(['run', 'stop', 'x', `--grace=${bad}`], data)).stderr).toMatch(
        /--grace takes the seconds/,
      )
    // Valid values get as far as the run lookup.
    for (const ok of ['0', '1.5', '1e-4', '600'])
      expect((await cli(['run', 'stop', 'x', `--grace=${ok}`], data)).stderr).toContain('No run with id x')
  })
})

async function writeJson(file: string, value: unknown): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises')
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(value))
}

/** A stand-in app (tests/helpers/app-with-run.ts) killed with SIGKILL while its run trains. */
async function crashedApp(extra: string[], watchdog: boolean) {
  const dir = tmp('runs-crash-')
  const pidFile = path.join(dir, 'pids.txt')
  const { app, id } = await startAppWithRun(dir, pidFile, { extra, watchdog })
  started.push(app)
  const pids = await threePids(pidFile)
  app.kill('SIGKILL')
  return { dir, id, pids }
}

/**
 * A run started by `run start` in a CLI process of its own (the owner), at step 3 or later. With
 * `launcher`, the trainer runs in a child of a launcher process, as under `accelerate launch`.
 */
async function runOwnedByCli(
  args: string[],
  { steps = 500, launcher = true, gpus }: { steps?: number; launcher?: boolean; gpus?: string } = {},
) {
  const dir = tmp('runs-cli-stop-')
  const data = path.join(dir, 'data')
  const pidFile = path.join(dir, 'pids.txt')
  const spec = path.join(dir, 'run.json')
  writeFileSync(
    spec,
    JSON.stringify(
      trainerRun(dir, pidFile, [
        ...['--steps', String(steps), '--delay', '0.05'],
        ...(launcher ? ['--spawn_child'] : []),
        ...args,
      ]),
    ),
  )
  const owner = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', path.join(repoRoot, 'electron/cli/main.ts'), 'run', 'start', spec],
      ...(gpus ? ['--gpus', gpus] : []),
    ],
    { cwd: repoRoot, env: { ...process.env, SDXL_STUDIO_DATA_DIR: data }, stdio: 'ignore' },
  )
  started.push(owner)
  const exited = new Promise<number | null>((r) => owner.on('exit', (code) => r(code)))
  let id = ''
  await until(
    async () => {
      const list = await cli(['run', 'list', '--json'], data)
      const runs = (JSON.parse(list.stdout || '{"runs":[]}') as { runs: RunRecord[] }).runs
      if (runs[0]?.state === 'running' && (runs[0].summary.last_step ?? 0) >= 3) id = runs[0].id
      return id !== ''
    },
    40_000,
    'the CLI-owned run to reach step 3',
  )
  await until(() => pidsIn(pidFile).length === (launcher ? 2 : 1), 10_000, 'the trainer processes')
  return { data, id, pids: pidsIn(pidFile), owner: { exited } }
}
