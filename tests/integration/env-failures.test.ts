import { execFileSync, spawn, type StdioOptions } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { plan } from '../../core/env/plan'
import { InstallState } from '../../core/env/state'
import { createServices } from '../../electron/services'
import { pidAlive } from '../../electron/services/env/lock'
import { resourcesDir } from '../../electron/services/app-files'
import { claimFolder } from '../../electron/services/env/ownership'
import { InstallRunner, readState } from '../../electron/services/env/runner'
import { findVersion } from '../../core/env/versions'
import {
  createStandinRepo,
  minimalPath,
  realPython,
  repoRoot,
  sharedUvBin,
  tempDir,
  testEnv,
} from './env-helpers'

let root: string
let uvBin: string

beforeAll(() => {
  root = tempDir('failures')
  uvBin = sharedUvBin()
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

function servicesFor(name: string, extraEnv: Record<string, string> = {}) {
  const dataDir = path.join(root, `data-${name}`)
  const env = testEnv({ PATH: `${uvBin}:${process.env.PATH}`, ...extraEnv })
  return { dataDir, env, services: createServices({ dataDir, mode: 'test', env, version: '0.0.0' }) }
}

async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn().catch(() => null)
    if (v) return v
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/**
 * Starts `env install --name <envName>` in a real CLI process (tsx, as a user would) on a stand-in whose
 * build is slow, waits until its requirements step runs a command and gives that command time to reach
 * the slow setup.py. Returns the CLI, the state at that moment and the pid holding the install lock
 * (the app itself: tsx runs it as a child).
 */
async function startSlowCliInstall(dir: string, envName: string, stdio: StdioOptions) {
  const standin = createStandinRepo(path.join(root, `standin-${dir}`))
  const dataDir = path.join(root, `data-${dir}`)
  const env = {
    ...process.env,
    ...testEnv({ PATH: `${uvBin}:${process.env.PATH}` }),
    SDXL_STUDIO_DATA_DIR: dataDir,
    STANDIN_SLOW_BUILD: '300',
  }
  const cli = spawn(
    path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
    [
      'electron/cli/main.ts',
      'env',
      'install',
      '--name',
      envName,
      '--source',
      standin,
      '--torch',
      'none',
      '--yes',
    ],
    { cwd: repoRoot, env, stdio },
  )
  // Read piped output from the start, so a full pipe never stalls the CLI.
  let stderr = ''
  cli.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  cli.stdout?.resume()
  const envDir = path.join(dataDir, 'envs', envName)
  const running = await waitFor(
    async () => {
      const s = await readState(envDir)
      return s && s.steps.requirements?.state === 'running' && s.childPid ? s : null
    },
    120_000,
    'the requirements step to start',
  )
  // Give the build time to reach the slow setup.py.
  await new Promise((r) => setTimeout(r, 1500))
  const lock = JSON.parse(await fs.readFile(path.join(dataDir, 'env-install.lock'), 'utf8')) as {
    pid: number
  }
  return { cli, dataDir, envDir, running, appPid: lock.pid, stderr: () => stderr }
}

/**
 * The v0.10.1 install plan (no torch) for a stand-in checkout into `envDir`, and what the verify step
 * expects of it, for tests that drive InstallRunner directly.
 */
function standinPlan(envDir: string, source: string) {
  const planned = plan({
    version: 'v0.10.1',
    os: 'linux',
    pythonCandidates: [{ path: realPython(), version: '3.11.0' }],
    uvOnPath: path.join(uvBin, 'uv'),
    gitAvailable: true,
    gpu: null,
    resourcesDir: resourcesDir(process.env),
    choices: { torch: 'none', envDir, source },
  })
  if (!planned.ok) throw new Error(planned.error.message)
  const version = findVersion('v0.10.1')!
  return {
    plan: planned.plan,
    probe: { pythonRange: version.python, tag: 'v0.10.1', extras: version.extras },
  }
}

/** A second app on the same data folder, as after a restart. */
function restartedServices(dataDir: string) {
  return createServices({
    dataDir,
    mode: 'test',
    env: testEnv({ PATH: `${uvBin}:${process.env.PATH}` }),
    version: '0.0.0',
  })
}

describe('env install failures leave a resumable state with a clear message', () => {
  it('a requirement that does not exist: stops at requirements; resume finishes after the fix', async () => {
    const standin = createStandinRepo(path.join(root, 'standin-badpkg'), {
      extraRequirements: ['sdxl-studio-no-such-package-xyz==1.0.0'],
    })
    const { services } = servicesFor('badpkg')
    try {
      const m = services.env.manager
      const outcome = await (await m.install({ name: 'bad', source: standin, torch: 'none' })).done
      expect(outcome.state.status).toBe('failed')
      expect(outcome.state.lastError).toMatchObject({ step: 'requirements', kind: 'bad_package' })
      expect(outcome.state.lastError!.message).toMatch(/sdxl-studio-no-such-package-xyz/)
      expect(outcome.state.lastError!.message).toMatch(/not found on the package index/)
      const rec = await m.get('bad')
      const onDisk = InstallState.parse(
        JSON.parse(await fs.readFile(path.join(rec.envDir, 'install-state.json'), 'utf8')),
      )
      expect(onDisk.steps.source!.state).toBe('done')
      expect(onDisk.steps.requirements!.state).toBe('failed')
      expect(onDisk.steps.extras!.state).toBe('pending')
      const status = await services.router.call('env.status', { name: 'bad' }, { transport: 'test' })
      expect(status.ok && status.result?.steps.find((s) => s.id === 'requirements')?.error).toMatch(
        /package index/,
      )

      // The user fixes the requirement (here: in the checkout), then resumes.
      const req = path.join(rec.srcDir, 'requirements.txt')
      await fs.writeFile(req, (await fs.readFile(req, 'utf8')).replace(/^sdxl-studio-no-such.*\n/m, ''))
      const resumed = await (await m.resume('bad')).done
      expect(resumed.state.status).toBe('done')
      // Resume did not redo finished steps.
      expect(resumed.state.steps.source!.finishedAt).toBe(onDisk.steps.source!.finishedAt)
    } finally {
      await services.dispose()
    }
  }, 180_000)

  it('the app killed mid-install: the step stays unfinished; resume takes over the stale lock and finishes', async () => {
    const { cli, dataDir, envDir, running, appPid } = await startSlowCliInstall('kill', 'k', 'ignore')

    // Kill the app process itself (tsx runs it as a child): the one holding the install lock.
    process.kill(appPid, 'SIGKILL')
    cli.kill('SIGKILL')
    await new Promise((r) => cli.once('exit', r))
    await waitFor(async () => !pidAlive(appPid), 10_000, 'the app to die')
    const orphan = running.childPid!
    // The pty hangs up when the app dies, which normally ends the command too; if it survived, resume stops it.

    const same = restartedServices(dataDir)
    try {
      const m = same.env.manager
      const after = await readState(envDir)
      expect(after!.status).toBe('running')
      expect(after!.steps.requirements!.state).toBe('running')
      const list = await m.list()
      expect(list.environments[0]).toMatchObject({ name: 'k', status: 'running', running: false })
      // The stale lock of the killed app does not block resume; resume stops the orphan first.
      const resumed = await (await m.resume('k')).done
      expect(resumed.state.lastError).toBeNull()
      expect(resumed.state.status).toBe('done')
      expect(pidAlive(orphan)).toBe(false)
      expect(existsSync(path.join(dataDir, 'env-install.lock'))).toBe(false)
    } finally {
      await same.dispose()
      try {
        process.kill(-orphan, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }, 240_000)

  it('Ctrl-C in the CLI stops the running command (its whole process group), records "interrupted", exits 1; resume finishes', async () => {
    const { cli, dataDir, envDir, running, appPid, stderr } = await startSlowCliInstall('sigint', 'c', [
      'ignore',
      'pipe',
      'pipe',
    ])
    process.kill(appPid, 'SIGINT')
    const code = await new Promise<number | null>((r) => cli.once('exit', r))
    expect(code).toBe(1)
    expect(stderr()).toMatch(/was stopped/)
    expect(stderr()).toMatch(/env resume --name c/)
    const state = (await readState(envDir))!
    expect(state.status).toBe('interrupted')
    expect(state.steps.requirements).toMatchObject({ state: 'failed', error: { kind: 'interrupted' } })
    expect(pidAlive(running.childPid!)).toBe(false)
    expect(existsSync(path.join(dataDir, 'env-install.lock'))).toBe(false)

    const same = restartedServices(dataDir)
    try {
      expect((await (await same.env.manager.resume('c')).done).state.status).toBe('done')
    } finally {
      await same.dispose()
    }
  }, 240_000)

  it('network failure (an index that refuses connections): clear message; resume with a working mirror finishes', async () => {
    const standin = createStandinRepo(path.join(root, 'standin-net'))
    const { services } = servicesFor('net')
    try {
      const m = services.env.manager
      const dead = 'http://127.0.0.1:9/simple'
      const outcome = await (
        await m.install({ name: 'net', source: standin, torch: 'none', mirrors: { pypiIndex: dead } })
      ).done
      expect(outcome.state.lastError).toMatchObject({ step: 'requirements', kind: 'network' })
      expect(outcome.state.lastError!.message).toMatch(/network failed.*--index-url/s)
      const r = await services.router.call(
        'env.resume',
        { name: 'net', mirrors: { pypiIndex: 'https://pypi.org/simple' } },
        { transport: 'test' },
      )
      if (!r.ok) throw new Error(r.error.message)
      const done = await waitFor(
        async () => {
          const p = await m.progress('net')
          return p && p.status !== 'running' ? p : null
        },
        120_000,
        'the resumed install to end',
      )
      expect(done.status).toBe('done')
      expect((await m.get('net')).choices?.mirrors.pypiIndex).toBe('https://pypi.org/simple')
    } finally {
      await services.dispose()
    }
  }, 240_000)

  it('one install at a time in a data folder: a second install is refused while the first runs', async () => {
    const standin = createStandinRepo(path.join(root, 'standin-lock'))
    const { services } = servicesFor('lock', { STANDIN_SLOW_BUILD: '3' })
    try {
      const m = services.env.manager
      const first = await m.install({ name: 'one', source: standin, torch: 'none' })
      await first.started
      const second = await services.router.call(
        'env.install',
        { name: 'two', source: standin, torch: 'none' },
        { transport: 'test' },
      )
      expect(second.ok).toBe(false)
      if (!second.ok) {
        expect(second.error.code).toBe('conflict')
        expect(second.error.message).toMatch(/"one" is running/)
      }
      expect((await first.done).state.status).toBe('done')
    } finally {
      await services.dispose()
    }
  }, 180_000)

  const isRoot = process.getuid?.() === 0
  let chattr = false
  try {
    execFileSync('sh', ['-c', 'command -v chattr'])
    chattr = true
  } catch {
    chattr = false
  }
  it.skipIf(isRoot && !chattr)(
    'a read-only folder: the step fails with a permission message; resume finishes once writable',
    async () => {
      const standin = createStandinRepo(path.join(root, 'standin-ro'))
      const { services, dataDir } = servicesFor('ro')
      const envDir = path.join(dataDir, 'envs', 'ro')
      const locked = path.join(envDir, 'hf_home')
      // The environment's folder is ours (an install claims a folder before it writes into it); one
      // folder inside it cannot be written.
      await claimFolder(envDir, 'ro')
      await fs.mkdir(locked, { recursive: true })
      // root ignores permission bits, so make the folder immutable instead.
      const lock = () =>
        isRoot ? execFileSync('chattr', ['+i', locked]) : execFileSync('chmod', ['555', locked])
      const unlock = () =>
        isRoot ? execFileSync('chattr', ['-i', locked]) : execFileSync('chmod', ['755', locked])
      lock()
      try {
        const m = services.env.manager
        const outcome = await (await m.install({ name: 'ro', source: standin, torch: 'none' })).done
        expect(outcome.state.status).toBe('failed')
        expect(outcome.state.lastError).toMatchObject({ step: 'accelerate', kind: 'read_only' })
        expect(outcome.state.lastError!.message).toMatch(/could not be written.*Resume/s)
        unlock()
        const resumed = await (await m.resume('ro')).done
        expect(resumed.state.status).toBe('done')
      } finally {
        try {
          unlock()
        } catch {
          // already unlocked
        }
        await services.dispose()
      }
    },
    180_000,
  )

  let mountable = false
  if (isRoot) {
    const probe = tempDir('mount-probe')
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' })
      execFileSync('umount', [probe])
      mountable = true
    } catch {
      mountable = false
    } finally {
      execFileSync('rmdir', [probe])
    }
  }
  it.skipIf(!mountable)(
    'disk full mid-install: stops with a disk message; resume finishes once there is room',
    async () => {
      const standin = createStandinRepo(path.join(root, 'standin-full'))
      const envDir = path.join(root, 'env-full')
      await fs.mkdir(envDir)
      // An 800 KB disk: the checkout, the venv and the small requirements fit; LyCORIS does not.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=800k', 'tmpfs', envDir])
      try {
        const { plan: installPlan, probe } = standinPlan(envDir, standin)
        const options = {
          name: 'full',
          plan: installPlan,
          dataDir: path.join(root, 'data-full'),
          baseEnv: testEnv({ PATH: `${uvBin}:${process.env.PATH}` }),
          probe,
        }
        const failed = await new InstallRunner(options).run()
        expect(failed.state.status).toBe('failed')
        expect(failed.state.lastError?.kind).toBe('disk_full')
        expect(failed.state.lastError!.message).toMatch(/disk is full.*Resume/s)
        execFileSync('mount', ['-o', 'remount,size=200m', envDir])
        const done = await new InstallRunner(options).run()
        expect(done.state.status).toBe('done')
      } finally {
        execFileSync('umount', ['-l', envDir])
      }
    },
    180_000,
  )

  it('git missing: a step that needs git fails clearly and resumes once git is back; a local folder is copied; other URLs are refused up front', async () => {
    const standin = createStandinRepo(path.join(root, 'standin-nogit'))
    const envDir = path.join(root, 'env-nogit')
    const dataDir = path.join(root, 'data-nogit')
    const { plan: installPlan, probe } = standinPlan(envDir, standin)
    // The same install, run with and without git on PATH.
    const runner = (gitOnPath: boolean) =>
      new InstallRunner({
        name: 'nogit',
        plan: installPlan,
        dataDir,
        baseEnv: testEnv({ PATH: minimalPath(root, gitOnPath) }),
        probe,
      })
    const failed = await runner(false).run()
    expect(failed.state.lastError).toMatchObject({ step: 'source' })
    expect(failed.state.lastError!.message).toMatch(/"git" was not found on PATH.*Resume/s)
    const done = await runner(true).run()
    expect(done.state.status).toBe('done')
    expect(done.probe?.sd_scripts.tag).toBe('v0.10.1')

    // Planned without git: a local folder is copied (no .git), and the install verifies.
    const { services } = servicesFor('nogit-copy', { PATH: `${uvBin}:${minimalPath(root, false)}` })
    try {
      const r = await services.env.manager.plan({ name: 'copy', source: standin, torch: 'none' })
      expect(r.prechecks?.problems.map((p) => p.id)).toContain('git')
      const out = await (
        await services.env.manager.install({ name: 'copy', source: standin, torch: 'none' })
      ).done
      expect(out.state.status).toBe('done')
      const rec = await services.env.manager.get('copy')
      expect(existsSync(path.join(rec.srcDir, 'setup.py'))).toBe(true)
      expect(existsSync(path.join(rec.srcDir, '.git'))).toBe(false)
      const url = await services.router.call(
        'env.plan',
        { name: 'url', source: `file://${standin}`, torch: 'none' },
        { transport: 'test' },
      )
      expect(url.ok && url.result.error?.kind).toBe('no_git')
    } finally {
      await services.dispose()
    }
  }, 240_000)
})
