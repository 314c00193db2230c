import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, promises as fs, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UV_VERSION } from '../../core/env/uv-wheel'
import { createServices } from '../../electron/services'
import { DownloadError } from '../../electron/services/env/net'
import { fetchUv } from '../../electron/services/env/uv-fetch'
import { runCollecting } from '../helpers/processes'
import {
  createStandinRepo,
  repoRoot,
  sharedUvBin,
  standinTorch,
  standinTorchIndex,
  tempDir,
  testEnv,
} from './env-helpers'
import { cachedUvWheel } from './env-index'

/*
 * One rule for mirror and proxy values (core/env/settings-check.ts), applied to the settings and to
 * every request that carries mirrors: plan, install and resume refuse a bad value before anything is
 * planned or started, through the API (the UI, the headless server) and the CLI alike.
 */

let root: string
let uvBin: string
let standin: string
/** A folder that exists but is a file, a folder of loose wheels, and an index with nothing in it. */
let aFile: string
let looseWheels: string
let emptyIndex: string

beforeAll(() => {
  root = tempDir('mirror-checks')
  uvBin = sharedUvBin()
  standin = createStandinRepo(path.join(root, 'sd-scripts-standin'))
  aFile = path.join(root, 'index.html')
  writeFileSync(aFile, '<html></html>')
  looseWheels = path.join(root, 'колёса')
  mkdirSync(looseWheels)
  writeFileSync(path.join(looseWheels, 'tinypkg-1.0-py3-none-any.whl'), 'not really a wheel')
  emptyIndex = path.join(root, 'empty index', 'simple')
  mkdirSync(path.join(emptyIndex, 'nothing-here'), { recursive: true })
  writeFileSync(path.join(emptyIndex, 'nothing-here', 'index.html'), '<html></html>')
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

function servicesFor(name: string) {
  const dataDir = path.join(root, `data-${name}`)
  const env = testEnv({ PATH: `${uvBin}:${process.env.PATH}` })
  return { dataDir, env, services: createServices({ dataDir, mode: 'test', env, version: '0.0.0' }) }
}

const fileUrl = (p: string) => `file://${p.split('/').map(encodeURIComponent).join('/')}`

/** Hostile values, each with the field it goes in and the refusal it must get. */
function hostile(): Array<[field: string, value: string, code: string]> {
  return [
    ['pypiIndex', '', 'mirror_not_url'],
    ['pypiIndex', '   ', 'mirror_not_url'],
    ['pypiIndex', 'not a url', 'mirror_not_url'],
    ['hfEndpoint', 'зеркало', 'mirror_not_url'],
    ['proxy', 'x'.repeat(10_000), 'mirror_not_url'],
    ['pypiIndex', 'ftp://alice:s3cret@mirror.example/simple', 'mirror_scheme_folder'],
    ['hfEndpoint', fileUrl(emptyIndex), 'mirror_scheme'],
    ['proxy', 'socks5://bob:hunter2@proxy.example:1080', 'mirror_scheme'],
    ['pypiIndex', emptyIndex, 'mirror_path_not_url'],
    ['torchIndex', fileUrl(path.join(root, 'missing', 'simple')), 'mirror_folder_missing'],
    ['torchIndex', fileUrl(aFile), 'mirror_not_folder'],
    ['pypiIndex', fileUrl(looseWheels), 'mirror_folder_flat'],
    ['pythonMirror', 'file:///C:/python-builds', 'mirror_file_windows_path'],
    ['pypiIndex', 'file://nas/wheels/simple', 'mirror_file_host'],
    ['pypiIndex', 'https://alice:****@other.example/simple', 'setting_password_masked'],
  ]
}

describe('plan and install refuse a bad mirror before anything starts', () => {
  it('every hostile value, through the API: coded, the field named, no password, nothing created', async () => {
    const { dataDir, services } = servicesFor('refuse')
    try {
      for (const method of ['env.plan', 'env.install'] as const) {
        for (const [field, value, code] of hostile()) {
          const r = await services.router.call(
            method,
            { name: 'm', source: standin, mirrors: { [field]: value } },
            { transport: 'test' },
          )
          const what = `${method} ${field}=${JSON.stringify(value.slice(0, 40))}`
          expect(r.ok, what).toBe(false)
          if (r.ok) continue
          expect(r.error.code, what).toBe('bad_request')
          expect(r.error.details, what).toMatchObject({ kind: 'invalid_setting', field, code })
          expect(JSON.stringify(r.error), what).not.toMatch(/s3cret|hunter2/)
          expect(r.error.message.length, what).toBeLessThan(700)
        }
      }
      // Nothing was registered, planned into a folder, or saved.
      expect(existsSync(path.join(dataDir, 'envs'))).toBe(false)
      expect(existsSync(path.join(dataDir, 'environments.json'))).toBe(false)
      expect(existsSync(path.join(dataDir, 'env-settings.json'))).toBe(false)

      // A real PyPI-style folder passes: the plan uses it as given.
      const ok = await services.router.call(
        'env.plan',
        { name: 'm', source: standin, ...standinTorch() },
        { transport: 'test' },
      )
      if (!ok.ok) throw new Error(ok.error.message)
      expect(ok.result.plan?.torch).toMatchObject({ layout: 'pypi', indexUrl: standinTorchIndex() })
    } finally {
      await services.dispose()
    }
  })

  it('a settings folder that has gone since it was saved is refused at plan time, naming the setting', async () => {
    const { services } = servicesFor('gone')
    const wheels = path.join(root, 'wheels-gone', 'simple')
    mkdirSync(path.join(wheels, 'torch'), { recursive: true })
    try {
      const saved = await services.router.call(
        'env.settings.update',
        { mirrors: { torchIndex: fileUrl(wheels) } },
        { transport: 'test' },
      )
      if (!saved.ok) throw new Error(saved.error.message)
      await fs.rm(path.dirname(wheels), { recursive: true })
      const r = await services.router.call('env.plan', { name: 'g', source: standin }, { transport: 'test' })
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.error.details).toMatchObject({
          kind: 'invalid_setting',
          field: 'torchIndex',
          code: 'mirror_folder_missing',
          params: { path: wheels },
        })
        expect(r.error.message).toMatch(/GPU server, not this computer/)
      }
    } finally {
      await services.dispose()
    }
  })
})

describe('resume with new mirrors', () => {
  it('a bad one is refused before any step runs or the record changes; a good file:// index finishes the install', async () => {
    const { dataDir, services } = servicesFor('resume')
    try {
      const m = services.env.manager
      // An index folder without torch: the install stops at the torch step.
      const failed = await (
        await m.install({
          name: 'r',
          source: standin,
          ...standinTorch(),
          mirrors: { ...standinTorch().mirrors, torchIndex: fileUrl(emptyIndex) },
        })
      ).done
      expect(failed.state.lastError).toMatchObject({ step: 'torch' })
      const envDir = (await m.get('r')).envDir
      const files = [
        path.join(dataDir, 'environments.json'),
        path.join(envDir, 'install-state.json'),
        path.join(envDir, 'logs', 'install.log'),
      ]
      const before = files.map((f) => readFileSync(f, 'utf8'))
      for (const [field, value, code] of hostile()) {
        const r = await services.router.call(
          'env.resume',
          { name: 'r', mirrors: { [field]: value } },
          { transport: 'test' },
        )
        expect(r.ok, `${field} ${value.slice(0, 40)}`).toBe(false)
        if (!r.ok) expect(r.error.details).toMatchObject({ kind: 'invalid_setting', field, code })
      }
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before)

      // The CLI prints the English message and exits non-zero, before any step.
      const cli = await runCollecting(
        'npm',
        ['run', '-s', 'cli', '--', 'env', 'resume', '--name', 'r', '--proxy', 'socks5://bob:hunter2@p:1080'],
        {
          cwd: repoRoot,
          env: { ...testEnv({ PATH: `${uvBin}:${process.env.PATH}` }), SDXL_STUDIO_DATA_DIR: dataDir },
        },
      )
      expect(cli.code).not.toBe(0)
      expect(cli.stderr).toContain('The proxy must start with http:// or https://, not "socks5:"')
      expect(cli.stderr + cli.stdout).not.toContain('hunter2')
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before)

      // The index with torch in it, given with the resume: the install finishes from the torch step.
      const resumed = await (await m.resume('r', { torchIndex: standinTorchIndex() })).done
      expect(resumed.state.lastError).toBeNull()
      expect(resumed.state.status).toBe('done')
      expect((await m.get('r')).choices?.mirrors.torchIndex).toBe(standinTorchIndex())
    } finally {
      await services.dispose()
    }
  }, 300_000)
})

describe('the CLI refuses a bad mirror before any step runs', () => {
  it('env install --index-url "not a url" exits non-zero with the message and creates nothing', async () => {
    const dataDir = path.join(root, 'data-cli')
    const r = await runCollecting(
      'npm',
      ['run', '-s', 'cli', '--', 'env', 'install', '--source', standin, '--index-url', 'not a url', '--yes'],
      { cwd: repoRoot, env: { ...testEnv(), SDXL_STUDIO_DATA_DIR: dataDir } },
    )
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(
      'The PyPI index is not a web address: "not a url". Enter a full URL such as https://mirror.example.com/simple',
    )
    expect(existsSync(path.join(dataDir, 'envs'))).toBe(false)
    expect(existsSync(path.join(dataDir, 'environments.json'))).toBe(false)
  }, 120_000)
})

describe('an offline wheelhouse: uv itself comes from a file:// index', () => {
  it('reads the PEP 503 page from the folder, checks the wheel against its sha256 and unpacks a working uv', async () => {
    const wheel = cachedUvWheel()
    const name = path.basename(wheel)
    const index = path.join(root, 'offline wheels', 'simple')
    mkdirSync(path.join(index, 'uv'), { recursive: true })
    copyFileSync(wheel, path.join(index, 'uv', name))
    const sha = createHash('sha256').update(readFileSync(wheel)).digest('hex')
    writeFileSync(
      path.join(index, 'uv', 'index.html'),
      `<html><body><a href="${name}#sha256=${sha}">${name}</a></body></html>`,
    )
    const to = path.join(root, 'tools-offline', `uv-${UV_VERSION}`)
    const access = { credentials: [], proxy: null, env: testEnv() }
    const exe = await fetchUv({ index: fileUrl(index), version: UV_VERSION, to, access })
    expect(execFileSync(exe, ['--version'], { encoding: 'utf8' })).toContain(UV_VERSION)

    // A folder without uv's page says where it looked.
    const err = await fetchUv({ index: fileUrl(emptyIndex), version: UV_VERSION, to, access }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(DownloadError)
    expect((err as DownloadError).message).toContain(path.join(emptyIndex, 'uv', 'index.html'))
  }, 120_000)
})
