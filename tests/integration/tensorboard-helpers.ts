import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import path from 'node:path'
import { ensureSharedCache, realPython, sharedCache } from './env-helpers'
import { repoRoot } from './training-helpers'

/** The real TensorBoard from PyPI (no TensorFlow: it reads and writes event files without it). */
export const TENSORBOARD = 'tensorboard==2.21.0'
export const writeEventsScript = path.join(repoRoot, 'tests/fixtures/tensorboard/write_events.py')

/**
 * A venv with the real `tensorboard` package, installed once into the shared test cache (the first
 * test that needs it creates it; later runs reuse it). Returns the venv folder.
 */
export function sharedTensorboardVenv(): string {
  const venv = path.join(sharedCache, `tensorboard-venv-${TENSORBOARD.split('==')[1]}`)
  if (existsSync(path.join(venv, 'bin', 'python'))) return venv
  const tmp = mkdtempSync(path.join(ensureSharedCache(), 'tensorboard-venv-tmp-'))
  execFileSync(realPython(), ['-m', 'venv', tmp])
  execFileSync(path.join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '-q', TENSORBOARD], {
    env: { ...process.env, PIP_CACHE_DIR: path.join(sharedCache, 'pip') },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  try {
    execFileSync('mv', ['-T', tmp, venv])
  } catch {
    // another test file won the race; use theirs
    execFileSync('rm', ['-rf', tmp])
  }
  return venv
}

/** Runs write_events.py with the venv's Python; returns the scalars it wrote (tag → [step, value]). */
export function writeEvents(
  venv: string,
  dir: string,
  args: string[] = [],
): Record<string, Array<[number, number]>> {
  const out = execFileSync(path.join(venv, 'bin', 'python'), [writeEventsScript, dir, ...args], {
    encoding: 'utf8',
  })
  return JSON.parse(out) as Record<string, Array<[number, number]>>
}
