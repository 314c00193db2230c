import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { GpuReading, GpuSnapshot } from '../../core/gpu/types'
import { createServices } from '../../electron/services'
import { GpuMonitor } from '../../electron/services/gpu/domain'
import {
  GpuError,
  locateNvidiaSmi,
  NvidiaSmi,
  queryComputeCapabilities,
  queryDriverInfo,
  querySnapshot,
  runNvidiaSmi,
} from '../../electron/services/gpu/nvidia-smi'
import { TWO_GPUS, STANDIN_BIN_DIR } from '../helpers/nvidia-smi'
import { isAlive } from '../helpers/processes'

/*
 * The real service against real processes: the stand-in nvidia-smi in tests/fixtures/bin (a Node
 * script printing recorded formats) is found through PATH exactly as the real one would be.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const nodeDir = path.dirname(process.execPath)

interface Run {
  pid: number
  start: number
  end: number | null
  args: string
}

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'sdxl-gpu-'))
}

/** Env with only the stand-in and node on PATH; the stand-in logs each run to `log`. */
function standIn(scenario: string, extra: Record<string, string> = {}) {
  const dir = scratch()
  const log = path.join(dir, 'runs.log')
  writeFileSync(log, '')
  const env: NodeJS.ProcessEnv = {
    PATH: [STANDIN_BIN_DIR, nodeDir].join(path.delimiter),
    FAKE_NVIDIA_SMI_SCENARIO: scenario,
    FAKE_NVIDIA_SMI_LOG: log,
    ...extra,
  }
  return { env, log, dir, runs: () => readRuns(log) }
}

function readRuns(log: string): Run[] {
  const runs = new Map<number, Run>()
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [kind, pid, time, ...args] = line.split(' ')
    if (kind === 'start')
      runs.set(Number(pid), { pid: Number(pid), start: Number(time), end: null, args: args.join(' ') })
    if (kind === 'end') runs.get(Number(pid))!.end = Number(time)
  }
  return [...runs.values()].sort((a, b) => a.start - b.start)
}

/** Each run started only after the previous one had finished. */
function expectOneAtATime(runs: Run[]) {
  for (let i = 1; i < runs.length; i++) {
    const prev = runs[i - 1]!
    expect(prev.end, `run ${prev.pid} never finished before the next started`).not.toBeNull()
    expect(runs[i]!.start).toBeGreaterThanOrEqual(prev.end!)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function expectGpuError(promise: Promise<unknown>, kind: GpuError['kind'], says: RegExp) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(GpuError)
  expect((error as GpuError).kind).toBe(kind)
  expect((error as GpuError).message).toMatch(says)
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

describe('nvidia-smi service', () => {
  it('reads two GPUs, the driver and the CUDA version', async () => {
    const { env, runs } = standIn('two-gpus')
    const snapshot = await querySnapshot({ env })
    expect(snapshot).toEqual(TWO_GPUS)
    expect(GpuSnapshot.strict().parse(snapshot)).toEqual(snapshot)
    // The GPU query, then the plain table for the CUDA version.
    expect(runs().map((r) => r.args)).toEqual([
      '--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,driver_version --format=csv,noheader,nounits',
      '',
    ])
  })

  it('the stand-in prints exactly the committed recorded-format fixture', async () => {
    const { env } = standIn('two-gpus')
    const out = await runNvidiaSmi(
      [
        '--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,driver_version',
        '--format=csv,noheader,nounits',
      ],
      { env },
    )
    expect(out).toBe(
      readFileSync(path.join(repoRoot, 'tests/fixtures/nvidia-smi/two-gpus.query-gpu.csv'), 'utf8'),
    )
  })

  it.each([
    [
      'laptop',
      { driver_version: '546.80', cuda_version: '12.3', nulls: ['utilization_percent', 'temperature_c'] },
    ],
    ['cuda13', { driver_version: '580.82.09', cuda_version: '13.0', nulls: [] }],
    ['rtx5090', { driver_version: '570.133.07', cuda_version: '12.8', nulls: [] }],
  ] as const)('scenario %s', async (scenario, facts) => {
    const { env } = standIn(scenario)
    const snapshot = await querySnapshot({ env })
    expect(snapshot.driver_version).toBe(facts.driver_version)
    expect(snapshot.cuda_version).toBe(facts.cuda_version)
    for (const key of facts.nulls) expect(snapshot.gpus[0]![key]).toBeNull()
  })

  it('keeps a comma inside a GPU name', async () => {
    const { env } = standIn('comma-name')
    const snapshot = await querySnapshot({ env })
    expect(snapshot.gpus.map((g) => [g.name, g.memory_total_mib])).toEqual([
      ['NVIDIA GeForce RTX 3060, LHR', 12288],
    ])
  })

  it('a driver without a GPU ("No devices were found", exit 6) is an empty list', async () => {
    const { env } = standIn('none')
    expect(await querySnapshot({ env })).toEqual({ driver_version: null, cuda_version: null, gpus: [] })
  })

  it('no nvidia-smi on PATH: a not_found error that says what to do', async () => {
    // Only an empty folder on PATH: a real driver on this machine must not leak in.
    const env = { PATH: scratch() }
    await expectGpuError(
      querySnapshot({ env }),
      'not_found',
      /^No NVIDIA driver found: nvidia-smi is not on PATH\. Install the NVIDIA driver/,
    )
  })

  it('a non-zero exit reports what nvidia-smi said and its exit code', async () => {
    await expectGpuError(
      querySnapshot({ env: standIn('failing').env }),
      'failed',
      /^nvidia-smi failed \(exit code 9\): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\. Make sure/,
    )
    await expectGpuError(
      querySnapshot({ env: standIn('mismatch').env }),
      'failed',
      /exit code 18\): Failed to initialize NVML: Driver\/library version mismatch NVML library version: 535\.161/,
    )
  })

  it('garbage output is an unparseable error, not a GPU', async () => {
    await expectGpuError(
      querySnapshot({ env: standIn('garbage').env }),
      'unparseable',
      /cannot read \(line 1/,
    )
  })

  it('a hung nvidia-smi is killed at the timeout and none is left running', async () => {
    const { env, runs } = standIn('hang')
    const started = Date.now()
    await expectGpuError(querySnapshot({ env, timeoutMs: 600 }), 'timeout', /did not answer within 0\.6 s/)
    expect(Date.now() - started).toBeLessThan(5000)
    const [run] = runs()
    expect(run).toBeDefined()
    expect(isAlive(run!.pid)).toBe(false)
  })

  it('aborting a reading kills the running nvidia-smi', async () => {
    const { env, runs } = standIn('hang')
    const abort = new AbortController()
    const pending = querySnapshot({ env, timeoutMs: 30_000, signal: abort.signal })
    while (runs().length === 0) await sleep(20)
    abort.abort()
    await expectGpuError(pending, 'failed', /cancelled/)
    expect(isAlive(runs()[0]!.pid)).toBe(false)
  })

  it('per-process memory from --query-compute-apps', async () => {
    const smi = new NvidiaSmi(standIn('two-gpus').env)
    expect(await smi.processes()).toEqual([
      { pid: 48213, used_memory_mib: 1010, gpu_uuid: 'GPU-5d3e8c1a-7b42-4f0e-9a61-2c8d7e4b9f10' },
      { pid: 48990, used_memory_mib: 4, gpu_uuid: 'GPU-a91f04c2-3d6b-8e57-b0c4-71e2f5a8d364' },
    ])
    // Windows' WDDM does not report it: null, not 0.
    expect(await new NvidiaSmi(standIn('laptop').env).processes()).toEqual([
      { pid: 11020, used_memory_mib: null, gpu_uuid: 'GPU-b5e386b4-3e71-5837-aca5-80c5914cf07f' },
    ])
  })

  it('compute capabilities, and null for drivers older than the compute_cap field', async () => {
    expect(await queryComputeCapabilities({ env: standIn('cuda13').env })).toEqual([
      { index: 0, name: 'NVIDIA GeForce RTX 5090', compute_cap: '12.0' },
      { index: 1, name: 'NVIDIA GeForce RTX 4090', compute_cap: '8.9' },
    ])
    const old = standIn('old-driver')
    expect(await queryComputeCapabilities({ env: old.env })).toEqual([
      { index: 0, name: 'NVIDIA GeForce RTX 2080', compute_cap: null },
    ])
    expect(old.runs().map((r) => r.args)).toEqual([
      '--query-gpu=index,name,compute_cap --format=csv,noheader,nounits',
      '--query-gpu=index,name --format=csv,noheader,nounits',
    ])
    expect(await queryDriverInfo({ env: old.env })).toEqual({
      driver_version: '470.256.02',
      cuda_version: '11.4',
    })
  })

  it('runs queue: many callers at once still run one nvidia-smi at a time', async () => {
    const { env, runs } = standIn('two-gpus', { FAKE_NVIDIA_SMI_DELAY_MS: '80' })
    const smi = new NvidiaSmi(env)
    const results = await Promise.all([smi.gpus(), smi.gpus(), smi.processes(), smi.snapshot(), smi.gpus()])
    expect(results[0]!.gpus).toHaveLength(2)
    expect(runs()).toHaveLength(6)
    expectOneAtATime(runs())
  })
})

describe('locateNvidiaSmi', () => {
  it('takes the first nvidia-smi on PATH', () => {
    const empty = scratch()
    expect(locateNvidiaSmi({ PATH: [empty, STANDIN_BIN_DIR, nodeDir].join(path.delimiter) }, 'linux')).toBe(
      path.join(STANDIN_BIN_DIR, 'nvidia-smi'),
    )
    expect(locateNvidiaSmi({ PATH: empty }, 'linux')).toBeNull()
    expect(locateNvidiaSmi({}, 'linux')).toBeNull()
  })

  it('on Windows, reads "Path" and falls back to Program Files\\NVIDIA Corporation\\NVSMI', () => {
    const programFiles = scratch()
    const nvsmi = path.join(programFiles, 'NVIDIA Corporation', 'NVSMI')
    mkdirSync(nvsmi, { recursive: true })
    writeFileSync(path.join(nvsmi, 'nvidia-smi.exe'), '')
    expect(locateNvidiaSmi({ Path: scratch(), ProgramFiles: programFiles }, 'win32')).toBe(
      path.join(nvsmi, 'nvidia-smi.exe'),
    )
    const onPath = scratch()
    writeFileSync(path.join(onPath, 'nvidia-smi.exe'), '')
    expect(locateNvidiaSmi({ Path: onPath, ProgramFiles: programFiles }, 'win32')).toBe(
      path.join(onPath, 'nvidia-smi.exe'),
    )
    expect(locateNvidiaSmi({ Path: scratch() }, 'win32')).toBeNull()
  })
})

describe('GpuMonitor (polling)', () => {
  function monitorFor(scenario: string, intervalMs: number, extra: Record<string, string> = {}) {
    const s = standIn(scenario, extra)
    const monitor = new GpuMonitor(new NvidiaSmi(s.env, 3000), intervalMs)
    cleanups.push(() => monitor.dispose())
    return { ...s, monitor }
  }

  it('polls while subscribed, with processes, reading the CUDA table only once', async () => {
    const { monitor, runs } = monitorFor('two-gpus', 150)
    const readings: GpuReading[] = []
    const stop = monitor.subscribe((r) => readings.push(r))
    while (readings.length < 3) await sleep(20)
    stop()
    for (const r of readings) expect(GpuReading.parse(r)).toEqual(r)
    const first = readings[0]!
    expect(first.ok && first.snapshot).toEqual(TWO_GPUS)
    expect(first.ok && first.processes.map((p) => p.pid)).toEqual([48213, 48990])
    expect(readings.every((r) => r.ok && r.snapshot.cuda_version === '12.4')).toBe(true)
    expect(runs().filter((r) => r.args === '')).toHaveLength(1)
  })

  it('a slow nvidia-smi makes ticks skip: never two at once, and it stops when the last listener leaves', async () => {
    // Each run takes ~250 ms; ticks come every 60 ms.
    const { monitor, runs } = monitorFor('two-gpus', 60, { FAKE_NVIDIA_SMI_DELAY_MS: '250' })
    let count = 0
    const stopA = monitor.subscribe(() => count++)
    const stopB = monitor.subscribe(() => count++)
    // Until readings arrive and ticks were skipped (each run takes far longer on a loaded machine).
    const deadline = Date.now() + 20_000
    do await sleep(100)
    while ((count === 0 || monitor.skippedTicks <= 3) && Date.now() < deadline)
    stopA()
    expect(monitor.listening).toBe(1)
    await sleep(200)
    stopB()
    expect(monitor.listening).toBe(0)
    expect(count).toBeGreaterThan(0)
    expect(monitor.skippedTicks).toBeGreaterThan(3)
    await monitor.dispose()
    const after = runs().length
    expectOneAtATime(runs())
    expect(runs().every((r) => !isAlive(r.pid))).toBe(true)
    await sleep(400)
    expect(runs().length).toBe(after)
  })

  it('leaving while a hung reading runs kills it', async () => {
    const { monitor, runs } = monitorFor('hang', 50)
    const stop = monitor.subscribe(() => undefined)
    while (runs().length === 0) await sleep(20)
    expect(monitor.busy).toBe(true)
    stop()
    await monitor.dispose()
    expect(monitor.busy).toBe(false)
    expect(runs()).toHaveLength(1)
    expect(isAlive(runs()[0]!.pid)).toBe(false)
  })

  it('reports errors as readings, not throws', async () => {
    const { monitor } = monitorFor('failing', 100)
    const reading = await new Promise<GpuReading>((resolve) => {
      const stop = monitor.subscribe((r) => {
        stop()
        resolve(r)
      })
    })
    expect(reading.ok).toBe(false)
    if (!reading.ok) {
      expect(reading.error.kind).toBe('failed')
      expect(reading.error.message).toMatch(/NVIDIA-SMI has failed/)
    }
  })

  it('live stand-in values change between readings (for the GPU page e2e)', async () => {
    const dir = scratch()
    const { monitor } = monitorFor('two-gpus', 80, {
      FAKE_NVIDIA_SMI_LIVE: '1',
      FAKE_NVIDIA_SMI_COUNTER: path.join(dir, 'counter'),
    })
    const used: number[] = []
    const stop = monitor.subscribe((r) => {
      if (r.ok) used.push(r.snapshot.gpus[0]!.memory_used_mib!)
    })
    while (used.length < 3) await sleep(20)
    stop()
    expect(new Set(used).size).toBeGreaterThan(1)
    for (const u of used) expect(u).toBeLessThanOrEqual(24564)
  })
})

describe('gpu domain through the router', () => {
  function services(env: NodeJS.ProcessEnv) {
    const s = createServices({ dataDir: scratch(), mode: 'test', env, version: '0.0.0-test' })
    cleanups.push(() => s.dispose())
    return s
  }

  it('gpu.list answers the snapshot', async () => {
    const s = services(standIn('two-gpus').env)
    expect(await s.router.call('gpu.list', {}, { transport: 'test' })).toEqual({ ok: true, result: TWO_GPUS })
  })

  it('gpu.list errors are typed: unavailable with kind, timeout for a hang', async () => {
    const missing = services({ PATH: scratch() })
    const r1 = await missing.router.call('gpu.list', {}, { transport: 'test' })
    expect(r1).toMatchObject({ ok: false, error: { code: 'unavailable', details: { kind: 'not_found' } } })

    const hung = services({ ...standIn('hang').env, SDXL_STUDIO_NVIDIA_SMI_TIMEOUT_MS: '400' })
    const r2 = await hung.router.call('gpu.list', {}, { transport: 'test' })
    expect(r2).toMatchObject({ ok: false, error: { code: 'timeout', details: { kind: 'timeout' } } })
  })
})
