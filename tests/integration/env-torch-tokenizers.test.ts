import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, promises as fs, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProbeReport } from '../../core/env/probe'
import { createServices } from '../../electron/services'
import {
  createStandinRepo,
  readInstallState,
  readJson,
  realPython,
  repoRoot,
  sharedCache,
  sharedUvBin,
  tempDir,
  testEnv,
} from './env-helpers'
import { startLocalMirrors, type LocalMirrors } from './env-mirrors'
import { openClipWheelOrNull } from '../helpers/open-clip-wheel'
import { runCollecting } from '../helpers/processes'
import { STANDIN_BIN_DIR } from '../helpers/nvidia-smi'

/*
 * The two install steps that need the outside world, run for real against local stand-ins:
 * - torch: the plan picks the build for the GPUs the stand-in nvidia-smi reports (RTX 4090 + 3060,
 *   CUDA 12.4 → torch 2.6.0 cu124); the torch index mirror points at a local PEP 503 index holding
 *   stand-in torch/torchvision wheels of exactly those versions (tests/fixtures/torch-standin).
 * - tokenizers: HF_ENDPOINT points at a local server answering Hugging Face's file endpoint with the
 *   CLIP tokenizer files make_tokenizers.py builds from the open-clip-torch wheel; transformers
 *   (sd-scripts v0.10.1's pin) is in the stand-in sd-scripts' requirements, as in the real ones.
 * Then verify (not light) reads torch's version and CUDA devices through probe.py.
 */
const makeIndex = path.join(repoRoot, 'tests/fixtures/torch-standin/make_index.py')
const makeTokenizers = path.join(repoRoot, 'resources/env/make_tokenizers.py')
const TOKENIZER_REPOS = {
  'openai/clip-vit-large-patch14': 'openai_clip-vit-large-patch14',
  'laion/CLIP-ViT-bigG-14-laion2B-39B-b160k': 'laion_CLIP-ViT-bigG-14-laion2B-39B-b160k',
}
const CAT_IDS = [49406, 320, 1125, 539, 320, 2368, 49407]
// What the two-gpus scenario's nvidia-smi reports (tests/fixtures/nvidia-smi/two-gpus.*.csv).
const DEVICES = [
  { name: 'NVIDIA GeForce RTX 4090', memory_bytes: 24564 * 1024 * 1024, capability: '8.9' },
  { name: 'NVIDIA GeForce RTX 3060', memory_bytes: 12288 * 1024 * 1024, capability: '8.6' },
]

/** The open-clip-torch wheel (CLIP's BPE vocabulary), downloaded once into the shared cache. */
function openClipWheel(): string | null {
  return openClipWheelOrNull(realPython(), path.join(sharedCache, 'wheels'), {
    ...process.env,
    PIP_CACHE_DIR: path.join(sharedCache, 'pip'),
  })
}

/** Runs a command without blocking this process: the local mirrors it may reach answer from here. */
function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv, more: string[] = []) {
  return runCollecting(cmd, [...args, ...more], { env })
}

let root: string
let mirrors: LocalMirrors
let wheel: string | null

beforeAll(async () => {
  root = tempDir('torch-tok')
  wheel = openClipWheel()
  if (!wheel) return
  const hubFiles = path.join(root, 'hub')
  execFileSync(realPython(), [makeTokenizers, '--source', wheel, '--out', hubFiles])
  mirrors = await startLocalMirrors({
    torchRoot: path.join(root, 'torch-index'),
    hfRepos: Object.fromEntries(
      Object.entries(TOKENIZER_REPOS).map(([id, folder]) => [id, path.join(hubFiles, folder)]),
    ),
  })
}, 120_000)
afterAll(async () => {
  await mirrors?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function servicesFor(dataDir: string, devices: unknown[]) {
  const env = testEnv({
    PATH: `${STANDIN_BIN_DIR}:${sharedUvBin()}:${path.dirname(process.execPath)}:${process.env.PATH}`,
    FAKE_NVIDIA_SMI_SCENARIO: 'two-gpus',
    SDXL_STANDIN_TORCH_DEVICES: JSON.stringify(devices),
  })
  return createServices({ dataDir, mode: 'test', env, version: '0.0.0' })
}

describe.skipIf(process.platform === 'win32')('env install: the torch and tokenizer steps for real', () => {
  it('installs the torch build the plan chose from the mirror, fills the tokenizer cache, verifies CUDA', async (ctx) => {
    if (!wheel) {
      console.warn('SKIP: the open-clip-torch==3.3.0 wheel could not be downloaded from PyPI.')
      ctx.skip()
    }
    const dataDir = path.join(root, 'data')
    const standin = createStandinRepo(path.join(root, 'sd-scripts-standin'), {
      extraRequirements: ['transformers==4.54.1'],
    })
    const services = servicesFor(dataDir, DEVICES)
    try {
      const request = {
        name: 'gpu',
        source: standin,
        torch: 'auto' as const,
        version: 'v0.10.1',
        mirrors: { torchIndex: mirrors.torchIndexUrl, hfEndpoint: mirrors.hfEndpoint },
      }
      const planned = await services.router.call('env.plan', request, { transport: 'test' })
      if (!planned.ok) throw new Error(planned.error.message)
      const torch = planned.result.plan!.torch!
      expect(torch).toMatchObject({
        torch: '2.6.0',
        torchvision: '0.21.0',
        index: 'cu124',
        indexUrl: `${mirrors.torchIndexUrl}/cu124`,
      })
      // The local index holds exactly what the plan asks for.
      execFileSync(realPython(), [
        makeIndex,
        '--out',
        path.join(root, 'torch-index'),
        '--build',
        torch.index,
        '--torch',
        torch.torch,
        '--torchvision',
        torch.torchvision,
      ])

      const run = await services.env.manager.install(request)
      const outcome = await run.done
      const envDir = path.join(dataDir, 'envs', 'gpu')
      const log = await fs.readFile(path.join(envDir, 'logs', 'install.log'), 'utf8')
      expect(outcome.state.lastError, log.slice(-3000)).toBeNull()
      const state = await readInstallState(envDir)
      expect(state.status).toBe('done')
      for (const step of ['torch', 'requirements', 'extras', 'tokenizers', 'verify'] as const)
        expect(state.steps[step]!.state, step).toBe('done')

      // The torch step: the plan's pins from the mirror's cu124 index, kept by the constraints file.
      expect(log).toContain(
        `--index-url ${mirrors.torchIndexUrl}/cu124 torch==2.6.0+cu124 torchvision==0.21.0+cu124`,
      )
      expect(mirrors.requests).toContain('GET /torch/cu124/torch/torch-2.6.0+cu124-py3-none-any.whl')
      expect(await fs.readFile(path.join(envDir, 'constraints.txt'), 'utf8')).toBe(
        'torch==2.6.0\ntorchvision==0.21.0\n',
      )
      const probe = ProbeReport.parse(await readJson(path.join(envDir, 'probe.json')))
      expect(probe.packages.torch).toBe('2.6.0+cu124')
      expect(probe.packages.torchvision).toBe('0.21.0+cu124')
      expect(probe.packages.transformers).toBe('4.54.1')

      // verify, not light: torch's version and the CUDA devices as torch reports them.
      const verified = await services.router.call(
        'env.verify',
        { name: 'gpu', light: false },
        { transport: 'test' },
      )
      if (!verified.ok) throw new Error(verified.error.message)
      expect(verified.result.problems).toEqual([])
      expect(verified.result).toMatchObject({ ok: true, light: false })
      expect(verified.result.probe!.torch).toEqual({
        imported: true,
        error: null,
        version: '2.6.0+cu124',
        cuda_available: true,
        cuda_version: '12.4',
        torchvision_version: '0.21.0+cu124',
        torchvision_error: null,
        devices: DEVICES,
      })
      expect(verified.result.probe!.training_scripts).toEqual([
        { name: 'sdxl_train_network', ok: true, error: null },
        { name: 'sdxl_train', ok: true, error: null },
      ])

      // The tokenizer step downloaded both repositories through HF_ENDPOINT ...
      for (const id of Object.keys(TOKENIZER_REPOS))
        expect(mirrors.requests).toContain(`GET /hf/${id}/resolve/main/vocab.json`)
      // ... into folders that load offline with CLIP's ids and each model's pad token.
      const tokenizers = path.join(envDir, 'tokenizers')
      const check = [
        'import json, sys',
        'from transformers import CLIPTokenizer',
        'out = {}',
        'for name in sys.argv[2:]:',
        '    t = CLIPTokenizer.from_pretrained(sys.argv[1] + "/" + name)',
        '    out[name] = {"ids": t("a photo of a cat")["input_ids"], "pad": t.pad_token_id, "max": t.model_max_length}',
        'print(json.dumps(out))',
      ].join('\n')
      const before = mirrors.requests.length
      const rec = await services.env.manager.get('gpu')
      const offline = await runAsync(
        rec.venvPython,
        ['-c', check, tokenizers, ...Object.values(TOKENIZER_REPOS)],
        // Offline, and (like the prefill) without importing torch: the stand-in has no torch.utils.
        { ...process.env, HF_HUB_OFFLINE: '1', HF_HOME: path.join(root, 'empty-hf-home'), USE_TORCH: '0' },
      )
      expect(offline.code, offline.stderr).toBe(0)
      const loaded = JSON.parse(offline.stdout) as Record<string, { ids: number[]; pad: number; max: number }>
      expect(loaded).toEqual({
        'openai_clip-vit-large-patch14': { ids: CAT_IDS, pad: 49407, max: 77 },
        'laion_CLIP-ViT-bigG-14-laion2B-39B-b160k': { ids: CAT_IDS, pad: 0, max: 77 },
      })
      expect(mirrors.requests.length).toBe(before)
    } finally {
      await services.dispose()
    }

    // The same environment where torch sees no GPU: verify names the CUDA problem and its repair.
    const noGpu = servicesFor(dataDir, [])
    try {
      const v = await noGpu.env.manager.verify('gpu', false)
      expect(v.ok).toBe(false)
      expect(v.problems).toEqual([
        {
          check: 'cuda',
          message: expect.stringMatching(/torch 2\.6\.0\+cu124 cannot use the GPU/) as unknown as string,
          code: 'probe_cuda',
          params: { version: '2.6.0+cu124' },
          repair: ['torch'],
        },
      ])
    } finally {
      await noGpu.dispose()
    }

    // Another install replaced torch with another build (the cu118 stand-in): verify names it, and
    // Repair re-runs the torch step, which puts the planned cu124 build back from the mirror.
    const again = servicesFor(dataDir, DEVICES)
    try {
      const m = again.env.manager
      const rec = await m.get('gpu')
      execFileSync(realPython(), [
        makeIndex,
        '--out',
        path.join(root, 'torch-index'),
        '--build',
        'cu118',
        '--torch',
        '2.6.0',
        '--torchvision',
        '0.21.0',
      ])
      const swap = await runAsync(
        path.join(sharedUvBin(), 'uv'),
        ['pip', 'install', '--python', rec.venvPython, '--reinstall-package', 'torch', '--index-url'],
        testEnv(),
        [`${mirrors.torchIndexUrl}/cu118`, 'torch==2.6.0'],
      )
      expect(swap.code, swap.stderr).toBe(0)
      const replaced = await m.verify('gpu', false)
      expect(replaced.problems.map((p) => [p.check, p.repair])).toEqual([['torch', ['torch']]])
      expect(replaced.problems[0]!.message).toMatch(
        /torch 2\.6\.0\+cu118 is installed.*torch 2\.6\.0 \(CUDA 12\.4\)/,
      )
      const repair = await m.repair('gpu')
      const repaired = await repair.run!.done
      expect(repaired.state.status).toBe('done')
      expect(repaired.probe?.torch?.version).toBe('2.6.0+cu124')
      expect((await m.verify('gpu', false)).ok).toBe(true)
    } finally {
      await again.dispose()
    }
  }, 240_000)
})

describe.skipIf(process.platform === 'win32')('prefill_tokenizers.py failures', () => {
  const prefill = path.join(repoRoot, 'resources/env/prefill_tokenizers.py')
  const uvEnv = () => ({ ...process.env, UV_CACHE_DIR: path.join(sharedCache, 'uv') })
  function venv(name: string, packages: string[]): string {
    const uv = path.join(sharedUvBin(), 'uv')
    const dir = path.join(root, name)
    execFileSync(uv, ['venv', '-q', dir, '--python', realPython()], { env: uvEnv() })
    const python = path.join(dir, 'bin', 'python')
    if (packages.length)
      execFileSync(uv, ['pip', 'install', '-q', '--python', python, ...packages], { env: uvEnv() })
    return python
  }
  /** The open-clip-torch wheel, already "downloaded" into the environment's downloads folder. */
  const downloadsWithWheel = (dir: string) => {
    mkdirSync(dir, { recursive: true })
    copyFileSync(wheel!, path.join(dir, path.basename(wheel!)))
    return dir
  }
  const runPrefill = (python: string, out: string, endpoint: string, more: string[] = []) =>
    runAsync(python, [prefill, '--out', out, ...more], {
      ...process.env,
      HF_ENDPOINT: endpoint,
      HF_HOME: path.join(out, '..', 'hf_home'),
    })
  const sources = (out: string) =>
    JSON.parse(readFileSync(path.join(out, 'source.json'), 'utf8')) as Record<string, string>

  it('a mirror without one repository: that one is built offline (and the log says so), the other comes from the mirror', async (ctx) => {
    if (!wheel) ctx.skip()
    const python = venv('venv-transformers', ['transformers==4.54.1'])
    const partialMirror = await startLocalMirrors({
      torchRoot: path.join(root, 'torch-index'),
      hfRepos: { 'openai/clip-vit-large-patch14': path.join(root, 'hub', 'openai_clip-vit-large-patch14') },
    })
    const out = path.join(root, 'prefill-partial', 'tokenizers')
    try {
      const downloads = downloadsWithWheel(path.join(root, 'prefill-partial', 'downloads'))
      const r = await runPrefill(python, out, partialMirror.hfEndpoint, ['--downloads', downloads])
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toMatch(
        /Hugging Face could not give laion\/CLIP-ViT-bigG-14-laion2B-39B-b160k .*built offline/,
      )
      expect(sources(out)).toEqual({
        'openai_clip-vit-large-patch14': `downloaded from Hugging Face (${partialMirror.hfEndpoint})`,
        'laion_CLIP-ViT-bigG-14-laion2B-39B-b160k': expect.stringMatching(
          /^built offline from the open-clip-torch wheel \(open_clip_torch-3\.3\.0-py3-none-any\.whl, already downloaded\), token ids checked$/,
        ),
      })
      expect(r.stdout).toMatch(/tokenizers: openai_clip-vit-large-patch14: downloaded from Hugging Face/)
      expect(readdirSync(out).sort()).toEqual([...Object.values(TOKENIZER_REPOS), 'source.json'].sort())
    } finally {
      await partialMirror.close()
    }
    // A rerun keeps what is there.
    const again = await runPrefill(python, out, 'http://127.0.0.1:9')
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toContain(
      'already cached: openai_clip-vit-large-patch14 (downloaded from Hugging Face',
    )
  }, 120_000)

  it('without transformers (or without Hugging Face): built offline and checked with our own BPE encoder', async (ctx) => {
    if (!wheel) ctx.skip()
    const python = venv('venv-bare', [])
    const out = path.join(root, 'prefill-bare', 'tokenizers')
    const downloads = downloadsWithWheel(path.join(root, 'prefill-bare', 'downloads'))
    const r = await runPrefill(python, out, 'http://127.0.0.1:9', ['--downloads', downloads])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Not using Hugging Face: transformers does not import/)
    expect(r.stdout).toMatch(/check \(stdlib BPE \(transformers not importable\)\): ok/)
    expect(Object.values(sources(out)).every((w) => w.startsWith('built offline'))).toBe(true)
    for (const folder of Object.values(TOKENIZER_REPOS))
      expect(existsSync(path.join(out, folder, 'tokenizer_config.json'))).toBe(true)
  }, 60_000)

  it('neither way works (no endpoint, no index): fails naming both, and nothing half-made stays', async () => {
    const python = venv('venv-nothing', [])
    const out = path.join(root, 'prefill-nothing', 'tokenizers')
    const r = await runPrefill(python, out, 'http://127.0.0.1:9', [
      '--index-url',
      'http://127.0.0.1:9/simple',
      '--downloads',
      path.join(root, 'prefill-nothing', 'downloads'),
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /Could not save the tokenizers .*transformers does not import.*building them offline failed: URLError.*--index-url.*then press Resume/s,
    )
    expect(readdirSync(out)).toEqual([])
  }, 60_000)
})
