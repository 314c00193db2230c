import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProbeReport } from '../../core/env/probe'
import { InstallState } from '../../core/env/state'
import { createServices } from '../../electron/services'
import { createStandinRepo, readJson, repoRoot, tempDir, testEnv } from './env-helpers'
import { runCollecting } from '../helpers/processes'
import { UV_VERSION } from '../../core/env/uv-wheel'
import { startLocalIndex } from './env-index'

/** `npm run -s cli -- <args>`, as a user types it. */
function runCli(args: string[], env: NodeJS.ProcessEnv) {
  return runCollecting('npm', ['run', '-s', 'cli', '--', ...args], { cwd: repoRoot, env })
}

let root: string
let standin: string

beforeAll(() => {
  root = tempDir('install')
  standin = createStandinRepo(path.join(root, 'sd-scripts-standin'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

describe('env install end to end (real git, venv, uv, pip)', () => {
  it('the CLI command as written: uv fetched from the PyPI index, --torch none, exits 0 when verified', async () => {
    const dataDir = path.join(root, 'data-cli')
    const env = { ...process.env, ...testEnv(), SDXL_STUDIO_DATA_DIR: dataDir }
    // The index serves the real uv wheel from the test cache and passes other projects through to PyPI.
    const index = await startLocalIndex()
    const r = await runCli(
      [
        ...['env', 'install', '--source', standin, '--version', 'v0.10.1', '--torch', 'none'],
        ...['--index-url', index.url, '--yes'],
      ],
      env,
    ).finally(() => index.close())
    expect(r.stderr).not.toMatch(/^ERROR/m)
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toContain('is installed and verified')
    const envDir = path.join(dataDir, 'envs', 'default')
    const state = InstallState.parse(await readJson(path.join(envDir, 'install-state.json')))
    expect(state.status).toBe('done')
    expect(state.steps.uv!.state).toBe('done')
    expect(state.steps.torch!.state).toBe('skipped')
    expect(state.steps.tokenizers!.state).toBe('skipped')
    expect(state.steps.requirements!.durationMs).toBeGreaterThan(0)
    expect(state.steps.requirements!.bytes).toBeGreaterThan(0)
    // uv came from the index into the data folder (shared by environments), and did the installs.
    const uv = path.join(dataDir, 'tools', `uv-${UV_VERSION}`, 'uv')
    expect(existsSync(uv)).toBe(true)
    expect(index.requests.map((q) => q.path)).toEqual(expect.arrayContaining(['/simple/uv/']))
    const log = await fs.readFile(path.join(envDir, 'logs', 'install.log'), 'utf8')
    expect(log).toContain(`${uv} pip install`)
    expect(log).toMatch(/sha256 matches the index/)
    expect(
      await fs.readFile(path.join(envDir, 'hf_home', 'accelerate', 'default_config.yaml'), 'utf8'),
    ).toMatch(/distributed_type: 'NO'/)
    // The checkout is at the pinned tag.
    const probe = ProbeReport.parse(await readJson(path.join(envDir, 'probe.json')))
    expect(probe.sd_scripts.tag).toBe('v0.10.1')
    expect(probe.library.importable).toBe(true)
    expect(probe.requirements).toMatchObject({ checked: 3, missing: [], mismatched: [] })
    expect(probe.packages['lycoris-lora']).toBe('3.2.0.post2')

    const v = await runCli(['env', 'verify', '--json'], env)
    expect(v.code, v.stderr).toBe(0)
    const verify = JSON.parse(v.stdout) as { ok: boolean; light: boolean; probe: unknown }
    expect(verify.ok).toBe(true)
    expect(verify.light).toBe(true)
    ProbeReport.parse(verify.probe)

    const list = await runCli(['env', 'list', '--json'], env)
    expect(JSON.parse(list.stdout)).toMatchObject({
      active: 'default',
      environments: [{ name: 'default', status: 'done' }],
    })
  }, 240_000)

  it('pip installer into a real venv; verify finds a broken requirement; repair fixes it; remove needs confirm', async () => {
    const dataDir = path.join(root, 'data-pip')
    const services = createServices({ dataDir, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      const m = services.env.manager
      const run = await m.install({
        name: 'pipenv',
        source: standin,
        torch: 'none',
        installer: 'pip',
        version: 'v0.10.1',
      })
      const outcome = await run.done
      expect(outcome.state.lastError).toBeNull()
      expect(outcome.state.status).toBe('done')
      expect(outcome.state.steps.uv!.state).toBe('skipped')
      const rec = await m.get('pipenv')
      expect(outcome.probe?.python.executable).toBe(rec.venvPython)

      // Break the environment: uninstall one requirement.
      const { execFileSync } = await import('node:child_process')
      execFileSync(rec.venvPython, ['-m', 'pip', 'uninstall', '-y', '-q', 'voluptuous'])
      const broken = await services.router.call('env.verify', { name: 'pipenv' }, { transport: 'test' })
      if (!broken.ok) throw new Error(broken.error.message)
      expect(broken.result.ok).toBe(false)
      expect(broken.result.problems.map((p) => p.check)).toContain('requirements')
      expect(broken.result.problems[0]!.message).toMatch(/missing voluptuous/)

      const repair = await m.repair('pipenv')
      expect(repair.run).not.toBeNull()
      const repaired = await repair.run!.done
      expect(repaired.state.status).toBe('done')
      expect((await m.verify('pipenv')).ok).toBe(true)

      const refused = await services.router.call('env.remove', { name: 'pipenv' }, { transport: 'test' })
      expect(refused.ok).toBe(false)
      if (!refused.ok) expect(refused.error.code).toBe('bad_request')
      const removed = await services.router.call(
        'env.remove',
        { name: 'pipenv', confirm: true },
        { transport: 'test' },
      )
      expect(removed.ok && removed.result).toMatchObject({ removed: true, deletedFiles: true })
      expect(existsSync(rec.envDir)).toBe(false)
      expect((await m.registry()).environments).toEqual([])
    } finally {
      await services.dispose()
    }
  }, 240_000)
})
