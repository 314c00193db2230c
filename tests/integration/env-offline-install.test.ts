import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  promises as fs,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UV_VERSION } from '../../core/env/uv-wheel'
import { DEFAULT_VERSION, findVersion } from '../../core/env/versions'
import { OPEN_CLIP_SPEC } from '../../scripts/harness/tools'
import { runCollecting } from '../helpers/processes'
import {
  createStandinRepo,
  readInstallState,
  readJson,
  realPython,
  repoRoot,
  standinTorchIndex,
  tempDir,
} from './env-helpers'
import { startLocalIndex } from './env-index'

/*
 * docs/environment.md, "An offline wheelhouse", followed as written: step 1's pip commands and step 2's
 * make_index.py are read from the docs and run (so the two cannot drift apart), and the install of
 * step 3 runs in a network namespace whose only interface is a loopback that is down (`unshare -rn`):
 * no DNS, no PyPI, no Hugging Face, as on a GPU box without internet.
 */

/** Whether this machine lets an unprivileged process make a network namespace (Linux user namespaces). */
const canUnshare = process.platform === 'linux' && spawnSync('unshare', ['-rn', 'true']).status === 0

const version = findVersion(DEFAULT_VERSION)!

let root: string
let standin: string
/** The wheelhouse index of the first test (file://…/simple), reused by the second. */
let wheelhouse: string | undefined

beforeAll(() => {
  root = tempDir('offline')
  standin = createStandinRepo(path.join(root, 'sd-scripts-standin'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

/** The offline walkthrough of docs/environment.md. */
function docsSection(): string {
  const doc = readFileSync(path.join(repoRoot, 'docs/environment.md'), 'utf8')
  return doc.slice(doc.indexOf('### An offline wheelhouse'), doc.indexOf('## Sources'))
}

/** The walkthrough's first code block in `lang`, as the reader copies it (without the list's indent). */
function docsBlock(lang: string): string {
  const m = new RegExp('^( *)```' + lang + '\\n([\\s\\S]*?)^ *```', 'm').exec(docsSection())
  if (!m?.[2]) throw new Error(`The offline walkthrough in docs/environment.md has no ${lang} block.`)
  return m[2].replace(new RegExp(`^${m[1] ?? ''}`, 'gm'), '')
}

/** The shell block's commands, continuation lines joined, split into words. */
function docsCommands(): string[][] {
  return docsBlock('sh')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/))
}

/** PATH without any folder holding a `uv`: uv must come from the index, as on a new machine. */
function pathWithoutUv(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d && !existsSync(path.join(d, 'uv')))
    .join(path.delimiter)
}

/** `env install` of the stand-in with torch "cpu" in a network namespace with no network at all. */
function installOffline(dataDir: string, mirrors: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SDXL_STUDIO_DATA_DIR: dataDir,
    SDXL_STUDIO_PYTHON: realPython(),
    PIP_CACHE_DIR: path.join(dataDir, 'pip-cache'),
    UV_CACHE_DIR: path.join(dataDir, 'uv-cache'),
    PATH: pathWithoutUv(),
  }
  for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'HF_ENDPOINT']) delete env[k]
  return runCollecting(
    'unshare',
    [
      ...['-rn', 'npm', 'run', '-s', 'cli', '--', 'env', 'install', '--source', standin, '--torch', 'cpu'],
      ...[...mirrors, '--yes'],
    ],
    { cwd: repoRoot, env },
  )
}

describe('the offline walkthrough in docs/environment.md', () => {
  it("downloads what an install of the default version takes from the index, at the app's pins", () => {
    const words = docsCommands().flat()
    const torch = version.torch.cpu
    for (const name of [
      `uv==${UV_VERSION}`,
      ...version.extras,
      OPEN_CLIP_SPEC,
      `torch==${torch.torch}`,
      `torchvision==${torch.torchvision}`,
      'setuptools',
      'wheel',
    ])
      expect(words, name).toContain(name)
  })
})

describe.skipIf(!canUnshare)("an install with no network at all, from the docs' offline wheelhouse", () => {
  it('installs and verifies: uv, the requirements, the extras and torch from the file:// index, the tokenizers built offline', async () => {
    // Step 1, "on a machine with internet": the docs' pip commands as written, in a folder holding the
    // version's requirements.txt without `-e .` (the stand-in's). Their PyPI is a local index serving the
    // stand-in torch and torchvision (no GB download) and passing every other project through to PyPI.
    writeFileSync(
      path.join(root, 'requirements.txt'),
      readFileSync(path.join(standin, 'requirements.txt'), 'utf8').replace(/^-e .*$/m, ''),
    )
    const standinSimple = new URL(standinTorchIndex()).pathname
    const pypi = await startLocalIndex({
      local: {
        torch: path.join(standinSimple, 'torch'),
        torchvision: path.join(standinSimple, 'torchvision'),
      },
    })
    try {
      const commands = docsCommands()
      expect(commands.length).toBeGreaterThan(0)
      for (const argv of commands) {
        expect(argv.slice(0, 2)).toEqual(['pip', 'download'])
        // Not spawnSync: the index answers from this process's event loop.
        const r = await runCollecting(realPython(), ['-m', ...argv, '--index-url', pypi.url], {
          cwd: root,
          // A user's pip on a machine with internet: no site constraints, a cache of its own.
          env: {
            ...process.env,
            PIP_CONFIG_FILE: '/dev/null',
            PIP_CACHE_DIR: path.join(root, 'pip-cache-online'),
          },
        })
        expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(0)
      }
    } finally {
      await pypi.close()
    }

    // Step 2, on the GPU box: the docs' script makes the folder a PyPI-style index.
    const script = path.join(root, 'make_index.py')
    writeFileSync(script, docsBlock('python'))
    const index = path.join(root, 'srv', 'wheels', 'simple')
    const made = spawnSync(realPython(), [script, path.join(root, 'wheels'), index], { encoding: 'utf8' })
    expect(made.status, made.stderr).toBe(0)
    expect(existsSync(path.join(index, 'uv', 'index.html'))).toBe(true)

    // Step 3: the install as the docs write it, with no network, empty caches and no uv on PATH.
    wheelhouse = `file://${index}`
    const dataDir = path.join(root, 'data')
    const r = await installOffline(dataDir, ['--index-url', wheelhouse, '--torch-index-url', wheelhouse])
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toContain('is installed and verified')

    const envDir = path.join(dataDir, 'envs', 'default')
    const state = await readInstallState(envDir)
    expect(state.status).toBe('done')
    expect(state.steps.uv!.state).toBe('done')
    expect(state.steps.extras!.state).toBe('done')
    expect(state.plan.torch).toMatchObject({ layout: 'pypi', torch: version.torch.cpu.torch })
    const sources = await readJson<Record<string, string>>(path.join(envDir, 'tokenizers', 'source.json'))
    for (const s of Object.values(sources)) expect(s).toMatch(/^built offline from the open-clip-torch wheel/)
  }, 600_000)

  it("torch from a torch root of its own (the docs' way for Windows): labelled wheels, indexed under <root>/<build>", async () => {
    expect(wheelhouse, 'the wheelhouse of the test above').toBeDefined()
    // The labelled wheels as download.pytorch.org/whl/<build> has them (here the CPU build, which
    // Linux can install; on Windows the docs say cu124), in a folder of their own.
    const build = version.torch.cpu.index
    const made = spawnSync(realPython(), [
      path.join(repoRoot, 'tests/fixtures/torch-standin/make_index.py'),
      ...['--out', path.join(root, 'labelled'), '--build', build],
      ...['--torch', version.torch.cpu.torch, '--torchvision', version.torch.cpu.torchvision],
    ])
    expect(made.status).toBe(0)
    const torchWheels = path.join(root, 'torch-wheels')
    mkdirSync(torchWheels)
    for (const project of ['torch', 'torchvision'])
      for (const f of readdirSync(path.join(root, 'labelled', build, project)).filter((n) =>
        n.endsWith('.whl'),
      ))
        copyFileSync(path.join(root, 'labelled', build, project, f), path.join(torchWheels, f))
    // "make that the index <torch root>/<build> with step 2, and set the torch index to the torch root"
    const torchRoot = path.join(root, 'torch root')
    const script = path.join(root, 'make_index.py')
    const indexed = spawnSync(realPython(), [script, torchWheels, path.join(torchRoot, build)], {
      encoding: 'utf8',
    })
    expect(indexed.status, indexed.stderr).toBe(0)

    const dataDir = path.join(root, 'data-torch-root')
    const torchIndex = `file://${torchRoot.split('/').map(encodeURIComponent).join('/')}`
    const r = await installOffline(dataDir, ['--index-url', wheelhouse!, '--torch-index-url', torchIndex])
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    const state = await readInstallState(path.join(dataDir, 'envs', 'default'))
    expect(state.status).toBe('done')
    expect(state.plan.torch).toMatchObject({ layout: 'torch', index: build })
    // The labelled build is what the environment's Python imports.
    const venvPython = path.join(dataDir, 'envs', 'default', 'venv', 'bin', 'python')
    const imported = spawnSync(venvPython, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
    })
    expect(imported.stdout.trim()).toBe(`${version.torch.cpu.torch}+${build}`)
  }, 600_000)
})
