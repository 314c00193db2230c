/**
 * npm run bench:install — installs sd-scripts v0.10.1's requirements (without torch) from PyPI into
 * fresh venvs with pip and with uv, side by side, and prints the times and their ratio.
 *
 * The set is requirements.txt at v0.10.1 minus `-e .`, with `diffusers` instead of `diffusers[torch]`.
 * Packages that depend on torch (accelerate, bitsandbytes and the optimizer packages) are installed in a
 * second command with --no-deps, so neither tool downloads torch. Each tool runs with an empty cache
 * (cold: downloads included) and then again into another fresh venv with the cache it filled (warm).
 * pip runs with PIP_CONFIG_FILE=/dev/null so machine-wide pip settings (local wheel folders, mirrors)
 * do not tilt the comparison. Options: --python <exe>, --runs-warm <n>.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

const TORCH_FREE = [
  'transformers==4.54.1',
  'diffusers==0.32.1',
  'ftfy==6.3.1',
  'opencv-python==4.10.0.84',
  'einops==0.7.0',
  'tensorboard',
  'safetensors==0.4.5',
  'toml==0.10.2',
  'voluptuous==0.15.2',
  'huggingface-hub==0.34.3',
  'imagesize==1.4.1',
  'numpy',
  'rich==14.1.0',
  'sentencepiece==0.2.1',
]
/** These require torch; --no-deps keeps torch out (their other dependencies come with the set above). */
const NEEDS_TORCH = [
  'accelerate==1.6.0',
  'bitsandbytes',
  'lion-pytorch==0.2.3',
  'schedulefree==1.4',
  'pytorch-optimizer==3.9.0',
  'prodigy-plus-schedule-free==1.9.2',
  'prodigyopt==1.1.2',
]

const { values } = parseArgs({
  options: { python: { type: 'string' }, 'runs-warm': { type: 'string', default: '1' } },
})
const python =
  values.python ??
  execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()
const root = mkdtempSync(path.join(os.tmpdir(), 'sdxl-bench-install-'))
const bin = (venv: string, exe: string) =>
  process.platform === 'win32' ? path.join(venv, 'Scripts', `${exe}.exe`) : path.join(venv, 'bin', exe)

function run(argv: string[], env: NodeJS.ProcessEnv): number {
  const start = performance.now()
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (r.status !== 0) {
    process.stderr.write(r.stderr ?? '')
    throw new Error(`Command failed (${r.status}): ${argv.join(' ')}`)
  }
  return (performance.now() - start) / 1000
}

const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PIP_CONFIG_FILE: os.devNull,
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
}
for (const k of ['PIP_FIND_LINKS', 'PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_CONSTRAINT', 'VIRTUAL_ENV'])
  delete baseEnv[k]

try {
  // uv itself comes from PyPI into a bootstrap venv, as the installer does.
  const boot = path.join(root, 'bootstrap')
  execFileSync(python, ['-m', 'venv', boot])
  execFileSync(bin(boot, 'python'), ['-m', 'pip', 'install', '-q', 'uv'], { env: baseEnv })
  const uv = bin(boot, 'uv')
  const uvVersion = execFileSync(uv, ['--version'], { encoding: 'utf8' }).trim()
  const pipCache = path.join(root, 'pip-cache')
  const uvCache = path.join(root, 'uv-cache')

  const tools = {
    pip: (venv: string) => {
      const env = { ...baseEnv, PIP_CACHE_DIR: pipCache }
      const py = bin(venv, 'python')
      return (
        run([py, '-m', 'pip', 'install', '-q', ...TORCH_FREE], env) +
        run([py, '-m', 'pip', 'install', '-q', '--no-deps', ...NEEDS_TORCH], env)
      )
    },
    uv: (venv: string) => {
      const env = { ...baseEnv, UV_CACHE_DIR: uvCache }
      const py = bin(venv, 'python')
      return (
        run([uv, 'pip', 'install', '-q', '--python', py, ...TORCH_FREE], env) +
        run([uv, 'pip', 'install', '-q', '--python', py, '--no-deps', ...NEEDS_TORCH], env)
      )
    },
  }
  const venvFor = (tool: 'pip' | 'uv', label: string) => {
    const venv = path.join(root, `${tool}-${label}`)
    if (tool === 'pip') execFileSync(python, ['-m', 'venv', venv])
    else execFileSync(uv, ['venv', '-q', venv, '--python', python], { env: baseEnv })
    return venv
  }

  const results: Record<string, { cold: number; warm: number[] }> = {}
  for (const tool of ['pip', 'uv'] as const) {
    const cold = tools[tool](venvFor(tool, 'cold'))
    process.stdout.write(`${tool}: cold ${cold.toFixed(1)} s\n`)
    const warm: number[] = []
    for (let i = 0; i < Number(values['runs-warm']); i++) {
      warm.push(tools[tool](venvFor(tool, `warm${i}`)))
      process.stdout.write(`${tool}: warm ${warm[warm.length - 1]!.toFixed(1)} s\n`)
    }
    results[tool] = { cold, warm }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const pip = results.pip!
  const uvr = results.uv!
  const pyVersion = execFileSync(python, ['--version'], { encoding: 'utf8' }).trim()
  process.stdout.write(
    [
      '',
      `sd-scripts v0.10.1 requirements without torch (${TORCH_FREE.length + NEEDS_TORCH.length} packages requested), ${pyVersion}, ${uvVersion}, ${os.cpus().length} cores`,
      `              pip        uv     pip/uv`,
      `cold cache  ${pip.cold.toFixed(1).padStart(6)} s  ${uvr.cold.toFixed(1).padStart(6)} s  ${(pip.cold / uvr.cold).toFixed(1).padStart(6)}x`,
      `warm cache  ${median(pip.warm).toFixed(1).padStart(6)} s  ${median(uvr.warm).toFixed(1).padStart(6)} s  ${(median(pip.warm) / median(uvr.warm)).toFixed(1).padStart(6)}x`,
      '',
    ].join('\n'),
  )
} finally {
  rmSync(root, { recursive: true, force: true })
}
