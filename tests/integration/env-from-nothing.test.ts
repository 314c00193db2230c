import { execFileSync } from 'node:child_process'
import { existsSync, promises as fs, readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UV_VERSION } from '../../core/env/uv-wheel'
import { createServices } from '../../electron/services'
import { findPythons, pythonVersion } from '../../electron/services/env/detect'
import { findExecutable } from '../../electron/services/which'
import { emptyDir, startLocalIndex, type LocalIndex } from './env-index'
import { ensureSharedCache, minimalPath, realPython, tempDir } from './env-helpers'

let root: string
let index: LocalIndex

beforeAll(async () => {
  root = tempDir('nothing')
  index = await startLocalIndex({ auth: 'alice:n0thing-Secret' })
}, 240_000)
afterAll(async () => {
  await index?.close()
  await fs.rm(root, { recursive: true, force: true })
})

/** A machine as a new PC has it: a PATH with sh, tar and env only; no Python, uv or git anywhere we look. */
function bareMachineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const k of ['SDXL_STUDIO_PYTHON', 'VIRTUAL_ENV', 'UV_PYTHON_INSTALL_DIR', 'PYENV_ROOT']) delete env[k]
  return {
    ...env,
    PATH: minimalPath(root, false),
    HOME: emptyDir(root, 'home'),
    PYENV_ROOT: emptyDir(root, 'pyenv'),
    UV_CACHE_DIR: path.join(ensureSharedCache(), 'uv'),
  }
}

describe('install from nothing (Linux): no Python, no uv, no git', () => {
  it('uv comes from the PyPI index (checked), uv asks the Python mirror for Python, git-less source planned as the tag archive', async () => {
    const env = bareMachineEnv()
    for (const tool of ['python3', 'python', 'uv', 'git']) expect(findExecutable(tool, env), tool).toBeNull()
    const dataDir = path.join(root, 'data')
    const services = createServices({ dataDir, mode: 'test', env, version: '0.0.0' })
    try {
      const m = services.env.manager
      const facts = await m.machineFacts()
      expect(facts).toMatchObject({ pythons: [], uvOnPath: null, gitAvailable: false })

      await m.updateSettings({
        mirrors: {
          pypiIndex: index.url.replace('http://', 'http://alice:n0thing-Secret@'),
          pythonMirror: index.pythonMirror,
        },
      })
      const planned = await m.plan({ name: 'default', torch: 'none' })
      expect(planned.error).toBeNull()
      expect(planned.ok).toBe(true)
      const steps = Object.fromEntries(planned.plan!.steps.map((s) => [s.id, s]))
      const uvDir = path.join(dataDir, 'tools', `uv-${UV_VERSION}`)
      expect(steps.uv!.commands).toEqual([
        { kind: 'fetch-uv', index: index.url, version: UV_VERSION, to: uvDir },
      ])
      expect(steps.python!.commands).toEqual([
        {
          kind: 'run',
          argv: [path.join(uvDir, 'uv'), 'python', 'install', '3.11'],
          env: { UV_PYTHON_INSTALL_MIRROR: index.pythonMirror },
        },
      ])
      expect(steps.source!.commands).toContainEqual(
        expect.objectContaining({
          kind: 'download',
          url: 'https://github.com/kohya-ss/sd-scripts/archive/refs/tags/v0.10.1.tar.gz',
        }),
      )
      expect(planned.prechecks!.problems.map((p) => p.id)).toEqual(['git', 'python'])

      const run = await m.install({ name: 'default', torch: 'none' })
      const outcome = await run.done
      // uv: fetched with the mirror's credentials, checked, placed in the data folder, and it runs.
      expect(outcome.state.steps.uv!.state).toBe('done')
      const uv = path.join(uvDir, 'uv')
      expect(execFileSync(uv, ['--version'], { encoding: 'utf8' })).toContain(UV_VERSION)
      expect(index.requests.find((r) => r.path === '/simple/uv/')?.auth).toBe('alice:n0thing-Secret')
      expect(index.requests.some((r) => r.path.startsWith('/files/uv-'))).toBe(true)
      // Python: uv asked the configured mirror for a CPython 3.11 build for this machine.
      const pbs = index.requests.filter((r) => r.path.startsWith('/pbs/'))
      expect(pbs.length).toBeGreaterThan(0)
      expect(pbs[0]!.path).toMatch(
        /^\/pbs\/\d+\/cpython-3\.11\.\d+\+\d+-(x86_64|aarch64)-unknown-linux-gnu-install_only/,
      )
      // The mirror has no builds (serving one is beyond this test): the step fails clearly, resumable.
      expect(outcome.state.status).toBe('failed')
      expect(outcome.state.lastError).toMatchObject({ step: 'python' })
      expect(outcome.state.lastError!.message).toMatch(/Install Python 3\.11 with uv from .*failed/s)
      expect(outcome.state.lastError!.message).toMatch(/404/)
      const log = await fs.readFile(path.join(dataDir, 'envs', 'default', 'logs', 'install.log'), 'utf8')
      expect(log).toContain('sha256 matches the index')
      expect(log).not.toContain('n0thing-Secret')
      expect(JSON.stringify(outcome.state)).not.toContain('n0thing-Secret')

      // The next plan uses the uv it fetched instead of downloading it again.
      const next = await m.plan({ name: 'default', torch: 'none' })
      expect(next.plan!.steps[0]!.skipReason).toBe(`Using uv at ${uv}.`)
    } finally {
      await services.dispose()
    }
  }, 300_000)
})

describe('Python discovery in UTF-8 mode', () => {
  it('reads a Cyrillic interpreter path whatever encoding the user environment forces', async () => {
    const folder = path.join(root, 'Пользователи', 'Иван')
    await fs.mkdir(folder, { recursive: true })
    execFileSync(realPython(), ['-m', 'venv', path.join(folder, 'venv')])
    const exe = path.join(folder, 'venv', 'bin', 'python')
    // A hostile environment: ASCII-only output and the C locale (what a pipe on a Windows code page is like).
    const hostile = { ...process.env, PYTHONIOENCODING: 'ascii', LC_ALL: 'C', LANG: 'C', PYTHONUTF8: '0' }
    const found = await pythonVersion(exe, hostile)
    expect(found).toEqual({ path: exe, version: expect.stringMatching(/^3\.\d+\.\d+$/) })
    const all = await findPythons({ ...hostile, SDXL_STUDIO_PYTHON: exe })
    expect(all.map((p) => p.path)).toContain(exe)
    expect(readdirSync(path.dirname(folder))).toEqual(['Иван'])
    expect(existsSync(exe)).toBe(true)
  }, 180_000)
})
