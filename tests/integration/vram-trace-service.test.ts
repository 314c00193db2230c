// "Check with the model code" end to end, with a stand-in tracer (same command line and output as
// resources/vram/trace_sdxl.py, no torch) run as a real process: the runner (parse, errors, timeout,
// cancel, cleanup), then the service through the router with an existing environment registered.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../../core/config/schema'
import { scenarioFromConfig } from '../../core/vram/from-config'
import { predict } from '../../core/vram/model'
import { traceJob } from '../../core/vram/trace'
import { createServices } from '../../electron/services'
import { runTrace, TraceRunError } from '../../electron/services/vram/trace-runner'
import { isAlive } from '../helpers/processes'
import { addStandinTorch } from './training-helpers'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const standin = path.join(repoRoot, 'tests/fixtures/vram-trace/standin_tracer.py')
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim()
const ctx = { transport: 'test' } as const

function world() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sdxl-trace-'))
  const sdScripts = path.join(root, 'install', 'sd-scripts')
  mkdirSync(path.join(sdScripts, 'library'), { recursive: true })
  writeFileSync(path.join(sdScripts, 'library', 'sdxl_original_unet.py'), '')
  writeFileSync(path.join(sdScripts, 'sdxl_train_network.py'), '')
  const logDir = path.join(root, 'log')
  mkdirSync(logDir)
  return { root, sdScripts, logDir }
}

const job = (outputName = 'sdxl-model', batch = 1) =>
  traceJob(
    {
      ...defaultConfig('lora'),
      saving: { ...defaultConfig('lora').saving, output_name: outputName },
      training: { ...defaultConfig('lora').training, batch_size: batch },
    },
    { id: `job-${outputName}-${batch}` },
  )

async function waitFor(cond: () => boolean, ms = 20_000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('trace runner (real process, stand-in tracer)', () => {
  it('returns one validated result per job, in order, and removes its job file', async () => {
    const w = world()
    const lines = await runTrace({
      python,
      sdScriptsDir: w.sdScripts,
      jobs: [job('a', 1), job('b', 2)],
      script: standin,
      env: { ...process.env, STANDIN_TRACE_LOG_DIR: w.logDir },
    })
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({ id: 'job-a-1', ok: true, allocated_peak_gib: 2, phase: 'backward' })
    expect(lines[1]).toMatchObject({ id: 'job-b-2', ok: true, allocated_peak_gib: 3 })
    const jobsFile = readFileSync(path.join(w.logDir, 'jobs-path.txt'), 'utf8')
    expect(existsSync(jobsFile)).toBe(false)
  })

  it('passes a failed job through as its own line and keeps the others', async () => {
    const w = world()
    const lines = await runTrace({
      python,
      sdScriptsDir: w.sdScripts,
      jobs: [job('fail'), job('ok')],
      script: standin,
    })
    expect(lines[0]).toMatchObject({
      ok: false,
      error: expect.stringContaining('simulated sd-scripts failure'),
    })
    expect(lines[1]).toMatchObject({ ok: true })
  })

  it('reports a crash with the end of its stderr', async () => {
    const w = world()
    const err = await runTrace({
      python,
      sdScriptsDir: w.sdScripts,
      jobs: [job('crash')],
      script: standin,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TraceRunError)
    expect((err as TraceRunError).kind).toBe('failed')
    expect((err as TraceRunError).message).toContain('simulated crash')
  })

  it('kills the tracer on timeout and on abort, and says which', async () => {
    for (const how of ['timeout', 'abort'] as const) {
      const w = world()
      const controller = new AbortController()
      const pidFile = path.join(w.logDir, 'pid.txt')
      const run = runTrace({
        python,
        sdScriptsDir: w.sdScripts,
        jobs: [job('hang')],
        script: standin,
        signal: controller.signal,
        timeoutMs: how === 'timeout' ? 3000 : 60_000,
        env: { ...process.env, STANDIN_TRACE_LOG_DIR: w.logDir },
      }).catch((e: unknown) => e)
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '')
      const pid = Number(readFileSync(pidFile, 'utf8'))
      expect(isAlive(pid)).toBe(true)
      if (how === 'abort') controller.abort()
      const err = await run
      expect(err).toBeInstanceOf(TraceRunError)
      expect((err as TraceRunError).kind).toBe(how === 'timeout' ? 'timeout' : 'aborted')
      await waitFor(() => !isAlive(pid))
    }
  }, 60_000)

  it('refuses a missing Python and a folder that is not sd-scripts, naming the path', async () => {
    const w = world()
    const noPython = path.join(w.root, 'no', 'python')
    await expect(runTrace({ python: noPython, sdScriptsDir: w.sdScripts, jobs: [job()] })).rejects.toThrow(
      noPython,
    )
    await expect(runTrace({ python, sdScriptsDir: w.root, jobs: [job()] })).rejects.toMatchObject({
      kind: 'sd_scripts_missing',
      message: expect.stringContaining(w.root),
    })
  })
})

describe('vram.trace service (router, existing environment, stand-in tracer)', () => {
  function servicesWithEnv() {
    const w = world()
    execFileSync('python3', ['-m', 'venv', '--without-pip', path.join(w.root, 'install', 'venv')])
    // The stand-in torch and torchvision: verify lists them among the install's packages, as it would
    // real ones; the stand-in tracer never imports them.
    addStandinTorch(path.join(w.root, 'install', 'venv', 'bin', 'python'))
    // The app's resources with the stand-in in place of the real tracer.
    const resources = path.join(w.root, 'resources')
    cpSync(path.join(repoRoot, 'resources', 'env'), path.join(resources, 'env'), { recursive: true })
    mkdirSync(path.join(resources, 'vram'))
    cpSync(standin, path.join(resources, 'vram', 'trace_sdxl.py'))
    const s = createServices({
      dataDir: path.join(w.root, 'data'),
      mode: 'test',
      env: { ...process.env, SDXL_STUDIO_RESOURCES: resources, STANDIN_TRACE_LOG_DIR: w.logDir },
      version: '0.0.0-test',
    })
    return { w, s }
  }

  it('is unavailable without an environment, and says why', async () => {
    const w = world()
    const s = createServices({
      dataDir: path.join(w.root, 'data'),
      mode: 'test',
      env: { PATH: '' },
      version: '0',
    })
    const st = await s.router.call('vram.trace_status', {}, ctx)
    expect(st).toMatchObject({
      ok: true,
      result: { available: false, reason: 'no_environment', running: false },
    })
    const r = await s.router.call('vram.trace', { config: defaultConfig('lora') }, ctx)
    expect(r).toMatchObject({ ok: false, error: { code: 'domain', details: { kind: 'no_environment' } } })
    await s.dispose()
  })

  it("traces the form's config and puts the gauge's allocated figure next to it; a repeat comes from the cache", async () => {
    const { w, s } = servicesWithEnv()
    const used = await s.router.call(
      'env.useExisting',
      { name: 'local', folder: path.join(w.root, 'install') },
      ctx,
    )
    expect(used.ok).toBe(true)
    expect(await s.router.call('vram.trace_status', {}, ctx)).toMatchObject({
      ok: true,
      result: { available: true, environment: 'local', reason: null },
    })
    const config = {
      ...defaultConfig('lora'),
      training: { ...defaultConfig('lora').training, batch_size: 2 },
    }
    const r = await s.router.call('vram.trace', { config }, ctx)
    expect(r.ok, JSON.stringify(r)).toBe(true)
    if (!r.ok) return
    const gauge = predict(scenarioFromConfig(config).scenario).allocated_gib
    expect(r.result.trace.allocated_peak_gib).toBe(3) // batch 2 + 1024² / 1024²: what the tracer said
    expect(r.result.gauge.allocated_gib).toBe(gauge)
    expect(r.result.difference_pct).toBeCloseTo((gauge / 3 - 1) * 100, 0)
    expect(r.result.environment.name).toBe('local')
    const again = await s.router.call('vram.trace', { config }, ctx)
    expect(again).toEqual(r)
    expect(readFileSync(path.join(w.logDir, 'runs.txt'), 'utf8').trim().split('\n')).toHaveLength(1)
    await s.dispose()
  }, 60_000)

  it("reports sd-scripts' failure on a config, and refuses configs that are not configs, naming the field", async () => {
    const { w, s } = servicesWithEnv()
    await s.router.call('env.useExisting', { name: 'local', folder: path.join(w.root, 'install') }, ctx)
    const base = defaultConfig('lora')
    const failed = await s.router.call(
      'vram.trace',
      { config: { ...base, saving: { ...base.saving, output_name: 'fail' } } },
      ctx,
    )
    expect(failed).toMatchObject({
      ok: false,
      error: {
        code: 'domain',
        details: { kind: 'trace_failed' },
        message: expect.stringContaining('simulated sd-scripts failure'),
      },
    })
    for (const [bad, field] of [
      [{ ...base, training: { ...base.training, batch_size: -1 } }, 'training.batch_size'],
      [{ ...base, training: { ...base.training, batch_size: 1.5 } }, 'training.batch_size'],
      [{ ...base, type: 'текст' }, 'type'],
      [{ ...base, network: { ...base.network, dim: 'x'.repeat(10_000) } }, 'network.dim'],
      ['', '(root)'],
    ] as const) {
      const r = await s.router.call('vram.trace', { config: bad }, ctx)
      expect(r).toMatchObject({
        ok: false,
        error: { code: 'bad_request', message: expect.stringContaining(field) },
      })
    }
    await s.dispose()
  }, 60_000)

  it('a newer config replaces a running trace; cancel stops one; both processes end', async () => {
    const { w, s } = servicesWithEnv()
    await s.router.call('env.useExisting', { name: 'local', folder: path.join(w.root, 'install') }, ctx)
    const base = defaultConfig('lora')
    const hang = { ...base, saving: { ...base.saving, output_name: 'hang' } }
    const pidFile = path.join(w.logDir, 'pid.txt')
    const first = s.router.call('vram.trace', { config: hang }, ctx)
    await waitFor(() => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')) > 0)
    const firstPid = Number(readFileSync(pidFile, 'utf8'))
    expect((await s.router.call('vram.trace_status', {}, ctx)) as unknown).toMatchObject({
      result: { running: true },
    })
    const second = await s.router.call('vram.trace', { config: base }, ctx)
    expect(second.ok).toBe(true)
    expect(await first).toMatchObject({
      ok: false,
      error: { code: 'conflict', details: { kind: 'trace_cancelled' } },
    })
    await waitFor(() => !isAlive(firstPid))
    // The second (finished) trace wrote its own pid: the third's process is the one after it.
    const secondPid = Number(readFileSync(pidFile, 'utf8'))

    const third = s.router.call(
      'vram.trace',
      { config: { ...hang, network: { ...hang.network, dim: 8 } } },
      ctx,
    )
    // (The file is truncated before it is written: an empty read is not a pid.)
    const newPid = () => {
      const pid = Number(readFileSync(pidFile, 'utf8'))
      return pid > 0 && pid !== firstPid && pid !== secondPid ? pid : null
    }
    await waitFor(() => newPid() !== null)
    const thirdPid = newPid()!
    expect(await s.router.call('vram.trace_cancel', {}, ctx)).toMatchObject({
      ok: true,
      result: { cancelled: true },
    })
    expect(await third).toMatchObject({ ok: false, error: { details: { kind: 'trace_cancelled' } } })
    await waitFor(() => !isAlive(thirdPid))
    expect(await s.router.call('vram.trace_cancel', {}, ctx)).toMatchObject({
      ok: true,
      result: { cancelled: false },
    })
    await s.dispose()
  }, 60_000)
})
