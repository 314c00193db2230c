import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, promises as fs, symlinkSync, existsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InstallState } from '../../core/env/state'

export const repoRoot = path.resolve(import.meta.dirname, '../..')

/**
 * One pip/uv cache for every env test (and every run): the first run downloads the few small
 * packages, later ones install from the cache. Caches are content-addressed, so sharing is safe.
 */
export const sharedCache = path.join(os.tmpdir(), 'sdxl-studio-env-test-cache')

/** The shared cache folder, created by whichever test needs it first (a fresh machine has none). */
export function ensureSharedCache(): string {
  mkdirSync(sharedCache, { recursive: true })
  return sharedCache
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `sdxl-env-${prefix}-`))
}

/** The real interpreter behind `python3` (pyenv shims resolve to a real path). */
export function realPython(): string {
  return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    },
  })
}

export interface StandinOptions {
  /** Extra requirement lines for the v0.10.1 commit (e.g. a package that does not exist). */
  extraRequirements?: string[]
}

/**
 * A local git repository standing in for kohya-ss/sd-scripts: tags v0.10.0 and v0.10.1, a
 * requirements.txt of small real PyPI packages ending in `-e .`, and a setup.py that installs a
 * `library` package. STANDIN_SLOW_BUILD=<seconds> makes its build sleep (to kill an install mid-step).
 */
export function createStandinRepo(dir: string, options: StandinOptions = {}): string {
  mkdirSync(path.join(dir, 'library'), { recursive: true })
  git(dir, 'init', '-q', '-b', 'main')
  writeFileSync(
    path.join(dir, 'setup.py'),
    [
      'import os, time',
      'from setuptools import setup, find_packages',
      "if os.environ.get('STANDIN_SLOW_BUILD'):",
      "    time.sleep(float(os.environ['STANDIN_SLOW_BUILD']))",
      "setup(name='library', version='0.0.0', packages=find_packages(include=['library', 'library.*']))",
      '',
    ].join('\n'),
  )
  writeFileSync(path.join(dir, 'library', '__init__.py'), '')
  writeFileSync(
    path.join(dir, 'library', 'train_util.py'),
    'import toml\nimport voluptuous\n\nSTANDIN = True\n',
  )
  // Training scripts import the library like the real ones do (no torch here).
  for (const script of ['sdxl_train_network.py', 'sdxl_train.py']) {
    writeFileSync(
      path.join(dir, script),
      'from library import train_util\n\nif __name__ == "__main__":\n    pass\n',
    )
  }
  writeFileSync(path.join(dir, 'requirements.txt'), 'toml==0.10.2\nvoluptuous==0.15.2\n-e .\n')
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'v0.10.0')
  git(dir, 'tag', 'v0.10.0')
  writeFileSync(
    path.join(dir, 'requirements.txt'),
    [
      'toml==0.10.2',
      'voluptuous==0.15.2',
      '# for Image utils',
      'imagesize==1.4.1',
      ...(options.extraRequirements ?? []),
      '-e .',
      '',
    ].join('\n'),
  )
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'v0.10.1')
  git(dir, 'tag', 'v0.10.1')
  return dir
}

/** A PATH holding only what the env tests need besides absolute paths: git (optional), tar, sh. */
export function minimalPath(root: string, withGit: boolean): string {
  const bin = path.join(root, withGit ? 'bin-git' : 'bin-nogit')
  mkdirSync(bin, { recursive: true })
  const tools = ['sh', 'tar', 'env', ...(withGit ? ['git'] : [])]
  for (const t of tools) {
    const target = execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim()
    const link = path.join(bin, t)
    if (target && !existsSync(link)) symlinkSync(target, link)
  }
  return bin
}

/** Environment for services under test: shared caches, the test Python, no GPU, a given PATH. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  ensureSharedCache()
  // The real environment (proxies, CA bundles) as a user's app would have it, plus test settings.
  return {
    ...process.env,
    PIP_CACHE_DIR: path.join(sharedCache, 'pip'),
    UV_CACHE_DIR: path.join(sharedCache, 'uv'),
    SDXL_STUDIO_PYTHON: realPython(),
    ...extra,
  }
}

export async function readJson<T = unknown>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T
}

/** An environment's install record (`<envDir>/install-state.json`), checked against its schema. */
export async function readInstallState(envDir: string): Promise<InstallState> {
  return InstallState.parse(await readJson(path.join(envDir, 'install-state.json')))
}

/**
 * A folder with just a `uv` executable (from PyPI, installed once into a venv in the shared cache),
 * to put on PATH so tests other than the bootstrap test skip the uv step.
 */
export function sharedUvBin(): string {
  const venv = path.join(sharedCache, 'uv-venv')
  const bin = path.join(sharedCache, 'uv-bin')
  if (!existsSync(path.join(bin, 'uv'))) {
    const tmp = mkdtempSync(path.join(ensureSharedCache(), 'uv-venv-tmp-'))
    execFileSync(realPython(), ['-m', 'venv', tmp])
    execFileSync(path.join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '-q', 'uv'], {
      env: { ...process.env, PIP_CACHE_DIR: path.join(sharedCache, 'pip') },
    })
    try {
      execFileSync('mv', ['-T', tmp, venv])
    } catch {
      // another test file won the race; use theirs
      execFileSync('rm', ['-rf', tmp])
    }
    const tmpBin = mkdtempSync(path.join(sharedCache, 'uv-bin-tmp-'))
    symlinkSync(path.join(venv, 'bin', 'uv'), path.join(tmpBin, 'uv'))
    try {
      execFileSync('mv', ['-T', tmpBin, bin])
    } catch {
      execFileSync('rm', ['-rf', tmpBin])
    }
  }
  return bin
}

/** A Hugging Face endpoint nothing answers: the tokenizer step must build the tokenizers offline. */
export const CLOSED_HF_ENDPOINT = 'http://127.0.0.1:9'

/**
 * A PyPI-style index on disk (file://…/simple) holding stand-in torch 2.6.0 / torchvision 0.21.0 as
 * PyPI serves them on Linux (no label, built for CUDA 12.4; tests/fixtures/torch-standin). Written
 * once into the shared cache by whoever needs it first.
 */
export function standinTorchIndex(): string {
  const out = path.join(ensureSharedCache(), 'torch-standin-pypi')
  if (!existsSync(path.join(out, 'simple', 'torchvision', 'index.html'))) {
    const tmp = mkdtempSync(path.join(sharedCache, 'torch-standin-tmp-'))
    execFileSync(realPython(), [
      path.join(repoRoot, 'tests/fixtures/torch-standin/make_index.py'),
      '--out',
      tmp,
      '--layout',
      'pypi',
      '--torch',
      '2.6.0',
      '--torchvision',
      '0.21.0',
      '--cuda',
      '12.4',
    ])
    try {
      execFileSync('mv', ['-T', tmp, out], { stdio: 'ignore' })
    } catch {
      execFileSync('rm', ['-rf', tmp]) // another test file won the race
    }
  }
  return `file://${path.join(out, 'simple')}`
}

/**
 * The install choices of a test that needs an install to finish: every environment must have a
 * working torch and torchvision to verify, so torch "cpu" comes from the stand-in PyPI-style index
 * (no PyTorch download), and the tokenizers are built offline (the Hugging Face endpoint is closed).
 */
export function standinTorch(): { torch: 'cpu'; mirrors: { torchIndex: string; hfEndpoint: string } } {
  return { torch: 'cpu', mirrors: { torchIndex: standinTorchIndex(), hfEndpoint: CLOSED_HF_ENDPOINT } }
}

/** The same as CLI options. */
export function standinTorchArgs(): string[] {
  const s = standinTorch()
  return ['--torch', 'cpu', '--torch-index-url', s.mirrors.torchIndex, '--hf-endpoint', s.mirrors.hfEndpoint]
}
