import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { GpuComputeCapability, GpuReading, GpuSnapshot } from '../../core/gpu/types'
import { TWO_GPUS, STANDIN_BIN_DIR } from '../helpers/nvidia-smi'
import { isAlive } from '../helpers/processes'

/*
 * The real CLI as a user runs it (`npm run -s cli -- gpu ...`), in a child process whose PATH holds
 * only node/npm and, where a test wants one, the stand-in nvidia-smi.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'sdxl-gpu-cli-'))
}

/**
 * A folder with just node, npm and sh, so that a real nvidia-smi next to node (e.g. /usr/bin) on a
 * developer's GPU machine cannot leak into a test that expects none.
 */
const nodeOnlyDir = (() => {
  const dir = path.join(scratch(), 'node-bin')
  mkdirSync(dir)
  symlinkSync(process.execPath, path.join(dir, 'node'))
  const npm = path.join(path.dirname(process.execPath), 'npm')
  if (existsSync(npm)) symlinkSync(realpathSync(npm), path.join(dir, 'npm'))
  // npm runs package scripts through `sh`, found on PATH.
  if (existsSync('/bin/sh')) symlinkSync('/bin/sh', path.join(dir, 'sh'))
  return dir
})()

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Under --json a failure is one JSON document on stdout: { ok: false, error: { code, message } }. */
function jsonError(stdout: string): { code: string; message: string } {
  const doc = JSON.parse(stdout) as { ok: boolean; error: { code: string; message: string } }
  expect(doc.ok).toBe(false)
  return doc.error
}

function cli(args: string[], env: Record<string, string>, withStandIn = true): Promise<CliResult> {
  const PATH = (withStandIn ? [STANDIN_BIN_DIR, nodeOnlyDir] : [nodeOnlyDir]).join(path.delimiter)
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(nodeOnlyDir, 'npm'), ['run', '-s', 'cli', '--', ...args], {
      cwd: repoRoot,
      env: {
        PATH,
        HOME: process.env.HOME ?? scratch(),
        SDXL_STUDIO_DATA_DIR: scratch(),
        npm_config_update_notifier: 'false',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('npm run -s cli -- gpu ...', () => {
  it('gpu list --json prints exactly one JSON document with the documented shape', async () => {
    const r = await cli(['gpu', 'list', '--json'], { FAKE_NVIDIA_SMI_SCENARIO: 'two-gpus' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc: unknown = JSON.parse(r.stdout) // throws on anything but one document
    expect(GpuSnapshot.strict().parse(doc)).toEqual(TWO_GPUS)
  })

  it('fields nvidia-smi reports as [N/A] are null in the JSON', async () => {
    const r = await cli(['gpu', 'list', '--json'], { FAKE_NVIDIA_SMI_SCENARIO: 'laptop' })
    expect(r.code).toBe(0)
    const doc = GpuSnapshot.parse(JSON.parse(r.stdout))
    expect(doc.gpus[0]).toMatchObject({
      utilization_percent: null,
      temperature_c: null,
      memory_total_mib: 6144,
    })
  })

  it('without any nvidia-smi on PATH: a clear error on stderr and as JSON on stdout, non-zero exit', async () => {
    const r = await cli(['gpu', 'list', '--json'], {}, false)
    expect(r.code).not.toBe(0)
    expect(jsonError(r.stdout).message).toContain('No NVIDIA driver found: nvidia-smi is not on PATH')
    expect(r.stderr).toContain('No NVIDIA driver found: nvidia-smi is not on PATH')
  })

  it('a failing driver: its message on stderr and as JSON on stdout', async () => {
    const r = await cli(['gpu', 'list', '--json'], { FAKE_NVIDIA_SMI_SCENARIO: 'failing' })
    expect(r.code).not.toBe(0)
    expect(jsonError(r.stdout).message).toContain("couldn't communicate with the NVIDIA driver")
    expect(r.stderr).toContain("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver")
  })

  it('a hung nvidia-smi times out, the CLI exits, and the child is killed', async () => {
    const dir = scratch()
    const log = path.join(dir, 'runs.log')
    writeFileSync(log, '')
    const started = Date.now()
    const r = await cli(['gpu', 'list', '--json'], {
      FAKE_NVIDIA_SMI_SCENARIO: 'hang',
      FAKE_NVIDIA_SMI_LOG: log,
      SDXL_STUDIO_NVIDIA_SMI_TIMEOUT_MS: '700',
    })
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(r.code).not.toBe(0)
    expect(jsonError(r.stdout).message).toMatch(/did not answer/)
    expect(r.stderr).toMatch(/nvidia-smi did not answer within 0\.7 s and was stopped/)
    const pids = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('start '))
      .map((l) => Number(l.split(' ')[1]))
    expect(pids).toHaveLength(1)
    expect(isAlive(pids[0]!)).toBe(false)
  })

  it('gpu watch --json --count 2 prints two readings, one per line', async () => {
    const r = await cli(['gpu', 'watch', '--json', '--count', '2'], { FAKE_NVIDIA_SMI_SCENARIO: 'two-gpus' })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const lines = r.stdout.split('\n')
    expect(lines.pop()).toBe('')
    expect(lines).toHaveLength(2)
    const readings = lines.map((l) => GpuReading.parse(JSON.parse(l)))
    for (const reading of readings) {
      expect(reading.ok).toBe(true)
      if (reading.ok) {
        expect(reading.snapshot.gpus).toHaveLength(2)
        expect(reading.processes.map((p) => p.pid)).toEqual([48213, 48990])
      }
    }
    expect(readings[1]!.at).toBeGreaterThan(readings[0]!.at)
  })

  it('gpu watch rejects a bad --count as a usage error', async () => {
    const r = await cli(['gpu', 'watch', '--json', '--count', 'two'], {
      FAKE_NVIDIA_SMI_SCENARIO: 'two-gpus',
    })
    expect(r.code).toBe(2)
    expect(jsonError(r.stdout)).toMatchObject({ code: 'usage' })
    expect(r.stderr).toContain('--count must be a whole number above 0')
  })

  it('gpu caps --json: driver, CUDA version and compute capabilities; null on old drivers', async () => {
    const r = await cli(['gpu', 'caps', '--json'], { FAKE_NVIDIA_SMI_SCENARIO: 'cuda13' })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as { driver_version: string; cuda_version: string; gpus: unknown[] }
    expect(doc.driver_version).toBe('580.82.09')
    expect(doc.cuda_version).toBe('13.0')
    expect(doc.gpus.map((g) => GpuComputeCapability.parse(g).compute_cap)).toEqual(['12.0', '8.9'])

    const old = await cli(['gpu', 'caps', '--json'], { FAKE_NVIDIA_SMI_SCENARIO: 'old-driver' })
    expect(old.code).toBe(0)
    expect(JSON.parse(old.stdout)).toEqual({
      driver_version: '470.256.02',
      cuda_version: '11.4',
      gpus: [{ index: 0, name: 'NVIDIA GeForce RTX 2080', compute_cap: null }],
    })
  })
})
