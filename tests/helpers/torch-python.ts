import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const repoRoot = path.resolve(import.meta.dirname, '../..')

function hasTorch(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 }).status === 0
}

function venvPython(dir: string): string {
  return process.platform === 'win32'
    ? path.join(dir, 'Scripts', 'python.exe')
    : path.join(dir, 'bin', 'python')
}

/**
 * A Python with torch for the trace tests, or null (the tests then skip with a message):
 * VRAM_TRACE_PYTHON; the trace venv of this checkout (tmp/trace-venv, see docs/vram.md); or a venv made
 * once in the shared test cache with the CPU build of torch (`torch==2.13.0+cpu`). That build exists
 * only on PyTorch's CPU index or a local wheel folder (pip's find-links), never on PyPI, so a machine
 * without one fails in seconds instead of downloading gigabytes of CUDA wheels.
 */
export function torchPython(): { python: string | null; why: string } {
  const given = process.env.VRAM_TRACE_PYTHON
  if (given) {
    return hasTorch(given)
      ? { python: given, why: 'VRAM_TRACE_PYTHON' }
      : { python: null, why: `VRAM_TRACE_PYTHON=${given} cannot import torch` }
  }
  const local = venvPython(path.join(repoRoot, 'tmp', 'trace-venv'))
  if (existsSync(local) && hasTorch(local)) return { python: local, why: 'tmp/trace-venv' }
  const dir = path.join(os.tmpdir(), 'sdxl-studio-env-test-cache', 'torch-cpu-venv')
  const cached = venvPython(dir)
  if (existsSync(cached) && hasTorch(cached)) return { python: cached, why: 'shared test cache' }
  mkdirSync(path.dirname(dir), { recursive: true })
  rmSync(dir, { recursive: true, force: true })
  const make = spawnSync('python3', ['-m', 'venv', dir], { encoding: 'utf8', timeout: 120_000 })
  if (make.status !== 0) return { python: null, why: `python3 -m venv failed: ${make.stderr}` }
  const pip = spawnSync(cached, ['-m', 'pip', 'install', '--quiet', 'torch==2.13.0+cpu'], {
    encoding: 'utf8',
    timeout: 600_000,
  })
  if (pip.status !== 0 || !hasTorch(cached)) {
    rmSync(dir, { recursive: true, force: true })
    return {
      python: null,
      why: `no CPU build of torch is installable here (pip install torch==2.13.0+cpu: ${(pip.stderr || pip.stdout).trim().split('\n').pop()}); set VRAM_TRACE_PYTHON to a Python with torch`,
    }
  }
  return { python: cached, why: 'shared test cache (made now)' }
}
