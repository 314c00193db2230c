import { execFileSync } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServerMessage } from '../../core/api/protocol'
import { evaluateProbe, ProbeReport } from '../../core/env/probe'
import { InstallProgress } from '../../core/env/state'
import { SUPPORTED_VERSIONS, type SdScriptsVersion } from '../../core/env/versions'
import { createServices } from '../../electron/services'
import { resourcesDir } from '../../electron/services/app-files'
import { RouterSession } from '../../electron/services/router'
import { createStandinRepo, realPython, sharedUvBin, standinTorch, tempDir, testEnv } from './env-helpers'

let root: string
let uv: string
let standin: string
let kohya: string

/** Every file under a folder with its size and modification time, to prove nothing changed. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = []
  async function walk(d: string) {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else {
        const st = await fs.lstat(p)
        out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`)
      }
    }
  }
  await walk(dir)
  return out.sort()
}

beforeAll(() => {
  root = tempDir('probe')
  uv = path.join(sharedUvBin(), 'uv')
  standin = createStandinRepo(path.join(root, 'standin'))
  // A kohya_ss-style folder: sd-scripts/ inside, venv/ beside it, installed by hand.
  kohya = path.join(root, 'kohya_ss')
  execFileSync('git', ['clone', '-q', '--branch', 'v0.10.1', standin, path.join(kohya, 'sd-scripts')])
  const env = testEnv()
  execFileSync(uv, ['venv', '-q', path.join(kohya, 'venv'), '--python', realPython()], { env })
  execFileSync(
    uv,
    ['pip', 'install', '-q', '--python', path.join(kohya, 'venv', 'bin', 'python'), '-r', 'requirements.txt'],
    {
      cwd: path.join(kohya, 'sd-scripts'),
      env,
    },
  )
}, 120_000)
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

describe('probe.py in a real venv', () => {
  it('full probe: Python, requirements, library, training scripts import; torch reported missing', () => {
    const out = execFileSync(
      path.join(kohya, 'venv', 'bin', 'python'),
      [
        path.join(resourcesDir(process.env), 'env', 'probe.py'),
        '--sd-scripts',
        path.join(kohya, 'sd-scripts'),
      ],
      { encoding: 'utf8' },
    )
    const report = ProbeReport.parse(JSON.parse(out))
    expect(report.light).toBe(false)
    expect(report.python.in_venv).toBe(true)
    expect(report.python.version).toMatch(/^3\.11\./)
    expect(report.sd_scripts.tag).toBe('v0.10.1')
    expect(report.requirements).toMatchObject({ checked: 3, missing: [], mismatched: [] })
    expect(report.library.importable).toBe(true)
    expect(report.training_scripts).toEqual([
      { name: 'sdxl_train_network', ok: true, error: null },
      { name: 'sdxl_train', ok: true, error: null },
    ])
    expect(report.torch).toMatchObject({ imported: false, cuda_available: false })
    expect(report.torch!.error).toMatch(/No module named 'torch'/)
    const problems = evaluateProbe(report, {
      expect: { torch: true, cuda: true, trainingScripts: true },
      pythonRange: { min: '3.10', max: '3.11' },
      tag: 'v0.10.1',
      extras: ['lycoris-lora==3.2.0.post2'],
    })
    expect(problems.map((p) => p.check)).toEqual(['extras', 'torch'])
    expect(problems.find((p) => p.check === 'torch')!.repair).toEqual(['torch'])
  })
})

describe('existing installs and updates', () => {
  it('uses an existing kohya_ss folder without modifying it; verify reports; remove only forgets it', async () => {
    const dataDir = path.join(root, 'data-existing')
    const services = createServices({ dataDir, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      const before = await snapshot(kohya)
      const r = await services.router.call(
        'env.useExisting',
        { name: 'kohya', folder: kohya },
        { transport: 'test' },
      )
      if (!r.ok) throw new Error(r.error.message)
      expect(r.result.record).toMatchObject({
        kind: 'external',
        srcDir: path.join(kohya, 'sd-scripts'),
        venvPython: path.join(kohya, 'venv', 'bin', 'python'),
      })
      // No torch in this venv: a full verify says so, a light one passes.
      expect(r.result.verify.ok).toBe(false)
      expect(r.result.verify.problems.map((p) => p.check)).toContain('torch')
      const light = await services.env.manager.verify('kohya', true)
      expect(light.ok).toBe(true)
      expect((await services.env.manager.get('kohya')).version).toBe('v0.10.1')
      const repair = await services.router.call('env.repair', { name: 'kohya' }, { transport: 'test' })
      expect(!repair.ok && repair.error.message).toMatch(/never modified/)
      const removed = await services.router.call(
        'env.remove',
        { name: 'kohya', confirm: true },
        { transport: 'test' },
      )
      expect(removed.ok && removed.result).toEqual({ removed: true, deletedFiles: false, deleted: [] })
      expect(await snapshot(kohya)).toEqual(before)
      const notThere = await services.router.call(
        'env.useExisting',
        { name: 'x', folder: root },
        { transport: 'test' },
      )
      expect(!notThere.ok && notThere.error.message).toMatch(/No sd-scripts found/)
    } finally {
      await services.dispose()
    }
  }, 120_000)

  it('update to another supported version (added as data) re-checks out and reinstalls requirements; events stream', async () => {
    const dataDir = path.join(root, 'data-update')
    const services = createServices({
      dataDir,
      mode: 'test',
      env: testEnv({ PATH: `${path.dirname(uv)}:${process.env.PATH}` }),
      version: '0.0.0',
    })
    const older: SdScriptsVersion = { ...SUPPORTED_VERSIONS[0]!, tag: 'v0.10.0', commit: '00000000' }
    ;(SUPPORTED_VERSIONS as SdScriptsVersion[]).push(older)
    try {
      const m = services.env.manager
      const first = await (await m.install({ name: 'up', source: standin, ...standinTorch() })).done
      expect(first.state.status).toBe('done')

      const sent: ServerMessage[] = []
      const session = new RouterSession(services.router, (msg) => sent.push(msg), { transport: 'test' })
      await session.receive({ t: 'sub', id: 1, event: 'env.progress', params: {} })
      await session.receive({ t: 'sub', id: 2, event: 'env.log', params: {} })
      const updated = await (await m.update('up', 'v0.10.0')).done
      session.close()
      expect(updated.state.status).toBe('done')
      expect(updated.probe?.sd_scripts.tag).toBe('v0.10.0')
      expect(updated.probe?.requirements.checked).toBe(2)
      // The venv was kept; the checkout was redone.
      expect(updated.state.steps.venv!.finishedAt).toBe(first.state.steps.venv!.finishedAt)
      expect(updated.state.steps.source!.finishedAt).toBeGreaterThan(first.state.steps.source!.finishedAt!)
      expect((await m.get('up')).version).toBe('v0.10.0')

      const progress = sent.flatMap((m) =>
        m.t === 'evt' && m.id === 1 ? [InstallProgress.parse(m.data)] : [],
      )
      expect(
        progress.some(
          (p) => p.current === 'source' && p.steps.find((s) => s.id === 'source')!.state === 'running',
        ),
      ).toBe(true)
      expect(progress.at(-1)!.status).toBe('done')
      const log = sent
        .flatMap((m) => (m.t === 'evt' && m.id === 2 ? [(m.data as { data: string }).data] : []))
        .join('')
      expect(log).toContain('==> Fetch sd-scripts v0.10.0 with git')
      // Subscribed after the first install ended: the view first gets that install's output (a page
      // opened or reloaded after an install still shows it), then the update's.
      const firstChunk = sent.flatMap((m) => (m.t === 'evt' && m.id === 2 ? [m.data] : []))[0]
      expect(firstChunk).toMatchObject({
        name: 'up',
        data: expect.stringContaining('=== environment ready'),
      })
      expect(log.indexOf('=== environment ready')).toBeLessThan(log.indexOf('==> Fetch sd-scripts v0.10.0'))
      expect(existsSync(path.join(dataDir, 'envs', 'up', 'logs', 'install.log'))).toBe(true)
    } finally {
      ;(SUPPORTED_VERSIONS as SdScriptsVersion[]).pop()
      await services.dispose()
    }
  }, 180_000)
})
