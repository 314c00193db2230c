import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestName } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import { plan } from '../../core/env/plan'
import { initialState } from '../../core/env/state'
import { createServices, type Services } from '../../electron/services'
import { callOrThrow } from '../helpers/services'
import { writeJsonAtomic } from '../../electron/services/store/atomic'
import { runCliCaptured } from '../helpers/cli'
import { makeWorld, withFiles, type TrainingWorld } from './training-helpers'
import { realPython } from './env-helpers'

/*
 * Readiness is true: a run starts only on an environment that is installed and verified, and every
 * screen and command says so. Adopting or installing an environment makes it the active one.
 */

let w: TrainingWorld
let services: Services

const call = (method: RequestName, input: unknown) => callOrThrow(services, method, input)

async function refusal(method: RequestName, input: unknown): Promise<ApiError> {
  const r = await services.router.call(method, input, { transport: 'test' })
  if (r.ok) throw new Error(`${method} was not refused`)
  return ApiError.from(r.error)
}

/** An existing install whose venv has no torch (a kohya_ss folder whose torch install failed). */
function brokenInstall(root: string): string {
  const dir = path.join(root, 'broken-install')
  mkdirSync(path.join(dir, 'sd-scripts', 'library'), { recursive: true })
  writeFileSync(path.join(dir, 'sd-scripts', 'sdxl_train_network.py'), 'import torch\n')
  writeFileSync(path.join(dir, 'sd-scripts', 'sdxl_train.py'), 'import torch\n')
  writeFileSync(path.join(dir, 'sd-scripts', 'requirements.txt'), '\n')
  execFileSync(realPython(), ['-m', 'venv', '--without-pip', path.join(dir, 'venv')])
  return dir
}

let config: Record<string, unknown>

beforeAll(async () => {
  w = makeWorld('readiness-')
  services = createServices({ dataDir: w.dataDir, mode: 'headless', env: process.env, version: 'test' })
  const preset = (await call('presets.get', { id: 'lora-12gb' })) as { config: Record<string, unknown> }
  config = withFiles(preset.config, w, 'ready-lora')
}, 120_000)

afterAll(async () => {
  await services?.dispose()
  rmSync(w.root, { recursive: true, force: true })
})

describe('readiness', () => {
  it('an existing install that does not verify becomes active but cannot train; preview and CLI say why', async () => {
    await call('env.useExisting', { name: 'good', folder: w.installDir })
    const broken = (await call('env.useExisting', { name: 'broken', folder: brokenInstall(w.root) })) as {
      verify: { ok: boolean }
    }
    expect(broken.verify.ok).toBe(false)
    // Adopting makes it active, even with another one active before.
    const list = (await call('env.list', {})) as {
      active: string
      environments: Array<{
        name: string
        ready: boolean
        notReady: string | null
        notReadyReason?: { message: string; code?: string } | null
      }>
    }
    expect(list.active).toBe('broken')
    expect(list.environments.find((e) => e.name === 'good')).toMatchObject({ ready: true, notReady: null })
    const listed = list.environments.find((e) => e.name === 'broken')!
    expect(listed.ready).toBe(false)
    expect(listed.notReadyReason).toMatchObject({ message: listed.notReady, code: 'ready_external_broken' })
    expect(listed.notReady).toMatch(
      /Environment "broken" \(an existing install\) cannot train: torch is not installed.*press Verify.*activate another environment/s,
    )

    const preview = (await call('train.preview', { config })) as { ready: boolean; blocking: string[] }
    expect(preview.ready).toBe(false)
    expect(preview.blocking.join('\n')).toMatch(/"broken".*cannot train/)
    const e = await refusal('train.start', { config })
    expect(e.message).toMatch(/"broken".*torch is not installed/s)
    expect(e.details).toMatchObject({
      kind: 'environment_not_ready',
      environment: 'broken',
      action: 'verify',
      // The same reason coded, for the UI's language, with Verify's problem inside it.
      reason: {
        message: e.message,
        code: 'ready_external_broken',
        params: { env: 'broken' },
        parts: {
          // An existing install is never repaired: the problem says how to add torch to its venv.
          problems: expect.arrayContaining([
            expect.objectContaining({
              code: 'probe_torch_missing_existing',
              message: expect.stringMatching(/-m pip install torch==.*then press Verify\./),
            }),
          ]),
        },
      },
    })
    expect(((await call('run.list', {})) as { runs: unknown[] }).runs).toEqual([])

    const configFile = path.join(w.root, 'config.json')
    writeFileSync(configFile, JSON.stringify(config))
    const cli = await runCliCaptured(['train', 'preview', configFile], w.dataDir)
    expect(cli.code).toBe(1)
    expect(cli.stdout).not.toMatch(/Ready to start/)
    expect(cli.stdout).toMatch(/^Cannot start yet:/)
    const envList = await runCliCaptured(['env', 'list'], w.dataDir)
    expect(envList.stdout).toMatch(/\* broken .*NOT READY/)

    // Choosing the good one again: ready, and the run starts.
    await call('env.activate', { name: 'good' })
    expect(((await call('train.preview', { config })) as { ready: boolean }).ready).toBe(true)
  }, 120_000)

  it('a managed install that failed (or was interrupted) is refused with its step and "Resume"', async () => {
    const envDir = path.join(w.dataDir, 'envs', 'half')
    const planned = plan({
      version: 'v0.10.1',
      os: 'linux',
      pythonCandidates: [{ path: realPython(), version: '3.11.7' }],
      uvOnPath: '/usr/bin/uv',
      gitAvailable: true,
      gpu: null,
      resourcesDir: '/app/resources',
      choices: { torch: 'cpu', envDir, source: w.root },
    })
    if (!planned.ok) throw new Error(planned.error.message)
    const state = initialState('half', planned.plan, Date.now())
    state.status = 'failed'
    state.steps.torch = { state: 'failed', error: { kind: 'network', message: 'torch failed: no network' } }
    state.lastError = { step: 'torch', kind: 'network', message: 'Install torch failed: no network\nadvice' }
    mkdirSync(path.join(envDir, 'venv', 'bin'), { recursive: true })
    writeFileSync(path.join(envDir, 'venv', 'bin', 'python'), '')
    mkdirSync(path.join(envDir, 'sd-scripts'), { recursive: true })
    await writeJsonAtomic(path.join(envDir, 'install-state.json'), state)
    const registry = (await services.env.manager.registry()) as { environments: unknown[] }
    await writeJsonAtomic(path.join(w.dataDir, 'environments.json'), {
      ...registry,
      active: 'half',
      environments: [
        ...registry.environments,
        {
          name: 'half',
          kind: 'managed',
          envDir,
          srcDir: path.join(envDir, 'sd-scripts'),
          venvPython: path.join(envDir, 'venv', 'bin', 'python'),
          version: null,
          choices: null,
          createdAt: 1,
        },
      ],
    })
    const e = await refusal('train.start', { config })
    expect(e.message).toMatch(
      /Environment "half" is not installed and verified: its install failed at step "Install torch 2\.6\.0 and torchvision 0\.21\.0 \(cpu\)": Install torch failed: no network\. Open Environment and press Resume/,
    )
    expect(e.details).toMatchObject({
      kind: 'environment_not_ready',
      environment: 'half',
      action: 'resume',
      reason: { code: 'ready_failed', step: 'torch', parts: { cause: [{ step: 'torch' }] } },
    })
    state.status = 'interrupted'
    await writeJsonAtomic(path.join(envDir, 'install-state.json'), state)
    expect((await refusal('train.start', { config })).message).toMatch(/its install was interrupted/)
    await call('env.activate', { name: 'good' })
  })

  it("config checks use the active environment's packages: the bitsandbytes notice only where it is missing", async () => {
    const check = async () =>
      (
        (await call('config.validate', { config, checkFiles: false })) as {
          issues: Array<{ rule: string; severity: string }>
        }
      ).issues.filter((i) => i.rule === 'package.required')
    // "good" has bitsandbytes (its last verify found it): no notice at all.
    await call('env.activate', { name: 'good' })
    expect(await check()).toEqual([])
    // "broken" lacks it: an error, as the run would fail.
    await call('env.activate', { name: 'broken' })
    expect((await check()).map((i) => i.severity)).toEqual(['error'])
    await call('env.activate', { name: 'good' })
  })
})
