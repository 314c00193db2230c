import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestName } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import type { EnvMessage } from '../../core/env/messages'
import { createServices, type Services } from '../../electron/services'
import { acquireInstallLock } from '../../electron/services/env/lock'
import { resolveTrainingEnvironment } from '../../electron/services/training/environment'
import { envErrorMessages } from '../../renderer/src/i18n/env-messages'
import { expectEnvRussian } from '../helpers/env-russian'
import { makeWorld, type TrainingWorld } from './training-helpers'

/*
 * The environment actions and settings a user can be refused (on the Environment and Settings pages,
 * or through the API and CLI) come back with their code and parameters in the details, and the
 * pages' reading of a refusal shows each in Russian with no English words; the CLI keeps the English
 * text.
 */

let w: TrainingWorld
let services: Services

async function refusal(method: RequestName, input: unknown): Promise<ApiError> {
  const r = await services.router.call(method, input, { transport: 'test' })
  if (r.ok) throw new Error(`${method} was not refused`)
  return ApiError.from(r.error)
}

/** The refusal's one coded message, checked in Russian; returns its code. */
function russianCode(error: ApiError): string {
  const [message, ...more] = envErrorMessages(error)
  expect(more).toEqual([])
  expect(message!.message).toBe(error.message)
  expectEnvRussian(message!)
  return message!.code!
}

beforeAll(() => {
  w = makeWorld('env-refusals-')
  services = createServices({ dataDir: w.dataDir, mode: 'headless', env: process.env, version: 'test' })
}, 120_000)

afterAll(async () => {
  await services?.dispose()
  rmSync(w.root, { recursive: true, force: true })
})

describe('refused environment actions read in Russian', () => {
  it('no environment, an unknown name, folders that are not an install, a name taken', async () => {
    expect(russianCode(await refusal('env.verify', {}))).toBe('env_none_active')
    expect(russianCode(await refusal('env.verify', { name: 'nope' }))).toBe('env_unknown_none')

    const empty = path.join(w.root, 'empty')
    mkdirSync(empty)
    expect(russianCode(await refusal('env.useExisting', { name: 'x', folder: empty }))).toBe(
      'env_no_sd_scripts',
    )
    const noVenv = path.join(w.root, 'no-venv')
    mkdirSync(noVenv)
    writeFileSync(path.join(noVenv, 'sdxl_train_network.py'), '')
    expect(russianCode(await refusal('env.useExisting', { name: 'x', folder: noVenv }))).toBe('env_no_venv')

    await services.router.call(
      'env.useExisting',
      { name: 'mine', folder: w.installDir },
      { transport: 'test' },
    )
    expect(russianCode(await refusal('env.useExisting', { name: 'mine', folder: w.installDir }))).toBe(
      'env_name_taken',
    )
    const unknown = await refusal('env.verify', { name: 'nope' })
    expect(russianCode(unknown)).toBe('env_unknown')
    expect(unknown.message).toContain('Known: mine.')
  }, 120_000)

  it('an existing install is never installed over, repaired or updated', async () => {
    expect(russianCode(await refusal('env.install', { name: 'mine', source: w.installDir }))).toBe(
      'env_external_name',
    )
    expect(russianCode(await refusal('env.repair', { name: 'mine' }))).toBe('env_external_unmanaged')
    expect(russianCode(await refusal('env.update', { name: 'mine', version: 'v0.10.1' }))).toBe(
      'env_external_unmanaged',
    )
  })

  it('one install at a time: another process, or this one, holds the install lock', async () => {
    const lockDir = path.join(w.root, 'lock')
    mkdirSync(lockDir)
    // A live process that is not this one holds it (its pid is in the lock file).
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      const lockFile = path.join(lockDir, 'env-install.lock')
      for (const action of ['install', 'repair', 'update']) {
        writeFileSync(lockFile, JSON.stringify({ pid: other.pid, env: 'a', action, startedAt: 1 }))
        const e = await acquireInstallLock(lockDir, 'b', 'install').then(
          () => null,
          (error: unknown) => error as ApiError,
        )
        expect(e?.details).toMatchObject({ kind: 'busy', pid: other.pid, env: 'a' })
        expect(russianCode(e!)).toBe(`env_busy_${action}`)
      }
      rmSync(lockFile)
      const held = await acquireInstallLock(lockDir, 'mine', 'repair')
      const here = await acquireInstallLock(lockDir, 'mine', 'repair').then(
        () => null,
        (error: unknown) => error as ApiError,
      )
      expect(here!.message).toBe('A repair of "mine" is already running in this app.')
      expect(russianCode(here!)).toBe('env_busy_here_repair')
      await held()
    } finally {
      other.kill()
    }
  })
})

describe('refused settings, sources and mirrors read in Russian', () => {
  it('env.settings.update: each mirror field and the source, under the field they name, no password anywhere', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ mirrors: { pypiIndex: 'pypi.example.com/simple' } }, 'pypiIndex', 'mirror_not_url'],
      [
        { mirrors: { torchIndex: 'ftp://alice:s3cret@mirror.example/whl' } },
        'torchIndex',
        'mirror_scheme_folder',
      ],
      [{ mirrors: { pypiIndex: 'file:///C:/wheels/simple' } }, 'pypiIndex', 'mirror_file_windows_path'],
      [
        { mirrors: { torchIndex: `file://${path.join(w.root, 'no-such-wheels')}` } },
        'torchIndex',
        'mirror_folder_missing',
      ],
      [{ mirrors: { hfEndpoint: 'https://hf.example/a b' } }, 'hfEndpoint', 'mirror_space'],
      [{ mirrors: { pythonMirror: 'зеркало' } }, 'pythonMirror', 'mirror_not_url'],
      [{ mirrors: { proxy: 'socks5://bob:s3cret@proxy:1080' } }, 'proxy', 'mirror_scheme'],
      [{ mirrors: { proxy: 'http://bob:****@other-proxy:3128' } }, 'proxy', 'setting_password_masked'],
      [{ source: '--upload-pack=touch x' }, 'source', 'source_leading_dash'],
      [{ source: 'ext::sh -c id' }, 'source', 'source_scheme'],
      [{ source: 'https://alice:s3cret@git.example/a b' }, 'source', 'source_url_space'],
      [{ source: path.join(w.root, 'no-such-sd-scripts') }, 'source', 'plan_source_folder_missing'],
    ]
    for (const [patch, field, code] of cases) {
      const e = await refusal('env.settings.update', patch)
      expect(e.details, code).toMatchObject({ kind: 'invalid_setting', field, code, params: {} })
      expect(russianCode(e)).toBe(code)
      expect(JSON.stringify({ message: e.message, details: e.details })).not.toContain('s3cret')
      // The same mirrors given with an install request: the same refusal, before anything runs.
      if (!patch.mirrors) continue
      const i = await refusal('env.install', { name: 'fresh', torch: 'cpu', mirrors: patch.mirrors })
      expect(i.details, code).toMatchObject({ kind: 'invalid_setting', field, code })
      expect(russianCode(i)).toBe(code)
    }
  })

  it('env.plan and env.install: a source git must not be given, before anything runs', async () => {
    const request = { name: 'fresh', torch: 'cpu' }
    // A refused plan is an answer (the Environment page shows its error), not an API error.
    const planned = await services.router.call(
      'env.plan',
      { ...request, source: '-x' },
      { transport: 'test' },
    )
    if (!planned.ok) throw new Error(planned.error.message)
    const { error } = planned.result as { ok: boolean; error: EnvMessage & { kind: string } }
    expect(planned.result).toMatchObject({
      ok: false,
      error: { kind: 'bad_source', code: 'source_leading_dash' },
    })
    expectEnvRussian(error)

    const install = await refusal('env.install', { ...request, source: 'ext::sh -c id' })
    expect(install.details).toMatchObject({ kind: 'bad_source', code: 'source_scheme' })
    expect(russianCode(install)).toBe('source_scheme')

    expect((await services.env.manager.registry()).environments.map((e) => e.name)).not.toContain('fresh')
  })
})

describe('an existing install whose folders are gone: advice that does not offer Repair', () => {
  /** Registers an existing install (made active): an sd-scripts folder, its venv beside it. */
  async function adopt(name: string): Promise<{ folder: string; python: string }> {
    const folder = path.join(w.root, name)
    const venv = path.join(w.root, `${name}-venv`)
    mkdirSync(folder)
    mkdirSync(path.join(venv, 'bin'), { recursive: true })
    writeFileSync(path.join(folder, 'sdxl_train_network.py'), '')
    const python = path.join(venv, 'bin', 'python')
    symlinkSync(w.venvPython, python)
    const r = await services.router.call('env.useExisting', { name, folder, venv }, { transport: 'test' })
    expect(r.ok).toBe(true)
    return { folder, python }
  }

  async function brokenReason(): Promise<ApiError> {
    const e = await resolveTrainingEnvironment(services.env.manager).then(
      () => null,
      (error: unknown) => error as ApiError,
    )
    expect(e?.details).toMatchObject({ kind: 'environment_broken' })
    return e!
  }

  it('its Python or its sd-scripts folder moved: remove it and register it again where it is', async () => {
    const py = await adopt('moved-python')
    rmSync(py.python)
    const noPython = await brokenReason()
    const reason = (noPython.details as { reason: EnvMessage }).reason
    expect(reason.code).toBe('ready_python_missing_external')
    expect(reason.message).not.toMatch(/Repair|Resume/)
    expect(reason.message).toContain('env use-existing <folder> --name moved-python')
    expect(expectEnvRussian(reason)).toContain('«Окружение»')

    const src = await adopt('moved-folder')
    rmSync(src.folder, { recursive: true })
    const noFolder = await brokenReason()
    const moved = (noFolder.details as { reason: EnvMessage }).reason
    expect(moved.code).toBe('ready_source_missing_external')
    expect(moved.message).not.toMatch(/repair|Resume/i)
    expectEnvRussian(moved)
  })
})
