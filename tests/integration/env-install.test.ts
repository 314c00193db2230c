import { execFileSync } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProbeReport } from '../../core/env/probe'
import { createServices } from '../../electron/services'
import {
  createStandinRepo,
  readInstallState,
  readJson,
  repoRoot,
  sharedUvBin,
  standinTorch,
  standinTorchArgs,
  standinTorchIndex,
  tempDir,
  testEnv,
} from './env-helpers'
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
  // uv from the index, torch from the stand-in index, the tokenizers built offline: minutes on a loaded machine.
  it('the CLI command as written: uv fetched from the PyPI index, torch from a PyPI-style index, exits 0 when verified', async () => {
    const dataDir = path.join(root, 'data-cli')
    const env = { ...process.env, ...testEnv(), SDXL_STUDIO_DATA_DIR: dataDir }
    // The index serves the real uv wheel from the test cache and passes other projects through to PyPI.
    const index = await startLocalIndex()
    const r = await runCli(
      [
        ...['env', 'install', '--source', standin, '--version', 'v0.10.1', ...standinTorchArgs()],
        ...['--index-url', index.url, '--yes'],
      ],
      env,
    ).finally(() => index.close())
    expect(r.stderr).not.toMatch(/^ERROR/m)
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toContain('is installed and verified')
    const envDir = path.join(dataDir, 'envs', 'default')
    const state = await readInstallState(envDir)
    expect(state.status).toBe('done')
    expect(state.steps.uv!.state).toBe('done')
    expect(state.steps.torch!.state).toBe('done')
    expect(state.plan.torch).toMatchObject({ layout: 'pypi', torch: '2.6.0', cuda: '12.4' })
    // The tokenizers were built offline (the Hugging Face endpoint is closed) and say so.
    expect(state.steps.tokenizers!.state).toBe('done')
    const sources = await readJson<Record<string, string>>(path.join(envDir, 'tokenizers', 'source.json'))
    expect(Object.values(sources)).toEqual([
      expect.stringMatching(/^built offline from the open-clip-torch wheel .*token ids checked/),
      expect.stringMatching(/^built offline/),
    ])
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
    expect(verify.light).toBe(false)
    ProbeReport.parse(verify.probe)

    const list = await runCli(['env', 'list', '--json'], env)
    expect(JSON.parse(list.stdout)).toMatchObject({
      active: 'default',
      environments: [{ name: 'default', status: 'done', ready: true, notReady: null }],
    })
  }, 420_000)

  it('pip installer into a real venv; verify finds a broken requirement; repair fixes it; remove needs confirm', async () => {
    const dataDir = path.join(root, 'data-pip')
    const services = createServices({ dataDir, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      const m = services.env.manager
      const run = await m.install({
        name: 'pipenv',
        source: standin,
        ...standinTorch(),
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
  }, 360_000)

  it('--torch none installs no torch (uv leaves it out of requirements that need it); verify names it and says how; resume finishes once the user installed it', async () => {
    const dataDir = path.join(root, 'data-none')
    const withTorchDep = createStandinRepo(path.join(root, 'standin-needs-torch'), {
      // Depends on torch, as accelerate and diffusers[torch] do in sd-scripts' requirements.
      extraRequirements: ['lion-pytorch==0.2.3'],
    })
    const uvBin = sharedUvBin()
    const services = createServices({
      dataDir,
      mode: 'test',
      env: testEnv({ PATH: `${uvBin}:${process.env.PATH}`, HF_ENDPOINT: 'http://127.0.0.1:9' }),
      version: '0.0.0',
    })
    try {
      const m = services.env.manager
      const outcome = await (await m.install({ name: 'mine', source: withTorchDep, torch: 'none' })).done
      expect(outcome.state.status).toBe('failed')
      expect(outcome.state.lastError).toMatchObject({ step: 'verify', kind: 'verify' })
      expect(outcome.state.lastError!.message).toMatch(
        /torch is not installed\. This environment leaves torch to you \(torch: none\)\. Install torch and torchvision into it, e\.g\. .*uv pip install --python .*torch==2\.6\.0 torchvision==0\.21\.0.*Resume/s,
      )
      const rec = await m.get('mine')
      const probe = ProbeReport.parse(await readJson(path.join(rec.envDir, 'probe.json')))
      // lion-pytorch (which requires torch) is installed; torch and torchvision are not.
      expect(probe.requirements).toMatchObject({ checked: 4, missing: [], mismatched: [] })
      expect(probe.packages.torch).toBeNull()
      expect(probe.packages.torchvision).toBeNull()
      // Not ready, and every screen says so.
      const listed = (await m.list()).environments.find((e) => e.name === 'mine')!
      expect(listed).toMatchObject({ active: true, ready: false })
      expect(listed.notReady).toMatch(/"mine" is not installed and verified.*Verify the environment.*Resume/s)

      // The user installs their torch into the venv, then resumes: verify passes.
      execFileSync(path.join(uvBin, 'uv'), [
        'pip',
        'install',
        '--python',
        rec.venvPython,
        '--index-url',
        standinTorchIndex(),
        'torch==2.6.0',
        'torchvision==0.21.0',
      ])
      const resumed = await (await m.resume('mine')).done
      expect(resumed.state.status).toBe('done')
      expect((await m.list()).environments.find((e) => e.name === 'mine')).toMatchObject({ ready: true })
    } finally {
      await services.dispose()
    }
  }, 240_000)
})
