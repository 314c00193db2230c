import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { cudaFromDriver } from '../../core/env/driver-cuda'
import { joinPath } from '../../core/env/layout'
import { githubArchiveUrl, isGitUrl, NO_MIRRORS, plan, type GpuFacts } from '../../core/env/plan'
import { layoutByName } from '../../core/env/torch-source'
import { planInput, RTX_4090_CUDA_124 } from '../helpers/env-plan-input'
import { UV_VERSION } from '../../core/env/uv-wheel'
import { SUPPORTED_VERSIONS } from '../../core/env/versions'

const repoRoot = path.resolve(import.meta.dirname, '../..')

const input = planInput

/** GPU facts as nvidia-smi reports them on the machines users have (header CUDA, compute_cap, name). */
const RTX_3060_CUDA_122: GpuFacts = {
  driverCuda: '12.2',
  driverVersion: '535.183.01',
  computeCaps: [8.6],
  names: ['NVIDIA GeForce RTX 3060'],
}
const RTX_3090_OLD_DRIVER_118: GpuFacts = {
  driverCuda: '11.8',
  driverVersion: '520.61.05',
  computeCaps: [8.6],
  names: ['NVIDIA GeForce RTX 3090'],
}
const RTX_5090_CUDA_128: GpuFacts = {
  driverCuda: '12.8',
  driverVersion: '570.124.06',
  computeCaps: [12.0],
  names: ['NVIDIA GeForce RTX 5090'],
}
const RTX_5090_4090_CUDA_130: GpuFacts = {
  driverCuda: '13.0',
  driverVersion: '580.65.06',
  computeCaps: [12.0, 8.9],
  names: ['NVIDIA GeForce RTX 5090', 'NVIDIA GeForce RTX 4090'],
}
const RTX_5080_DRIVER_TOO_OLD: GpuFacts = {
  driverCuda: '12.6',
  driverVersion: '560.94',
  computeCaps: [12.0],
  names: ['NVIDIA GeForce RTX 5080'],
}

function stepIds(result: ReturnType<typeof plan>) {
  if (!result.ok) throw new Error(result.error.message)
  return result.plan.steps.map((s) => s.id)
}

describe('plan: torch build from driver CUDA and GPU generation', () => {
  const table: Array<[string, GpuFacts, string, string, string]> = [
    ['RTX 30 on driver CUDA 12.2', RTX_3060_CUDA_122, '2.6.0', '0.21.0', 'cu121'],
    ['RTX 40 on driver CUDA 12.4', RTX_4090_CUDA_124, '2.6.0', '0.21.0', 'cu124'],
    ['RTX 30 on an old driver (CUDA 11.8)', RTX_3090_OLD_DRIVER_118, '2.6.0', '0.21.0', 'cu118'],
    ['RTX 50 on driver CUDA 12.8', RTX_5090_CUDA_128, '2.8.0', '0.23.0', 'cu128'],
    ['RTX 5090 + 4090 on driver CUDA 13.0', RTX_5090_4090_CUDA_130, '2.8.0', '0.23.0', 'cu128'],
    [
      'RTX 50 without compute_cap (name only)',
      { ...RTX_5090_CUDA_128, computeCaps: [] },
      '2.8.0',
      '0.23.0',
      'cu128',
    ],
    [
      'no CUDA in header: driver 551.86 on Windows means CUDA 12.4',
      { ...RTX_4090_CUDA_124, driverCuda: null },
      '2.6.0',
      '0.21.0',
      'cu124',
    ],
  ]
  for (const [name, gpu, torch, torchvision, index] of table) {
    it(name, () => {
      const r = plan(input({ gpu, os: name.includes('Windows') ? 'win32' : 'linux' }))
      if (!r.ok) throw new Error(r.error.message)
      expect(r.plan.torch).toMatchObject({ torch, torchvision, index })
      const torchStep = r.plan.steps.find((s) => s.id === 'torch')!
      const run = torchStep.commands.find((c) => c.kind === 'run')
      expect(run?.kind === 'run' && run.argv).toEqual(
        expect.arrayContaining([
          `torch==${torch}+${index}`,
          `torchvision==${torchvision}+${index}`,
          `https://download.pytorch.org/whl/${index}`,
        ]),
      )
      const constraints = torchStep.commands.find((c) => c.kind === 'write-file')
      expect(constraints?.kind === 'write-file' && constraints.content).toBe(
        `torch==${torch}\ntorchvision==${torchvision}\n`,
      )
    })
  }

  const errors: Array<[string, GpuFacts | null, string, RegExp]> = [
    ['no GPU', null, 'no_gpu', /No NVIDIA GPU.*--torch cpu/s],
    [
      'nvidia-smi lists no GPU',
      { driverCuda: '12.4', driverVersion: null, computeCaps: [], names: [] },
      'no_gpu',
      /--torch cpu/,
    ],
    [
      'RTX 50 on a driver without CUDA 12.8',
      RTX_5080_DRIVER_TOO_OLD,
      'driver_too_old',
      /RTX 5080.*CUDA 12\.8.*CUDA 12\.6.*Update the NVIDIA driver/s,
    ],
    [
      'driver CUDA 11.4',
      { driverCuda: '11.4', driverVersion: '470.256.02', computeCaps: [7.5], names: ['Tesla T4'] },
      'driver_too_old',
      /supports CUDA 11\.4.*needs CUDA 11\.8.*Update the NVIDIA driver/s,
    ],
    [
      'no CUDA version and no driver version',
      { driverCuda: null, driverVersion: null, computeCaps: [8.6], names: ['NVIDIA GeForce RTX 3080'] },
      'driver_unknown',
      /Update the NVIDIA driver/,
    ],
  ]
  for (const [name, gpu, kind, message] of errors) {
    it(`refuses: ${name}`, () => {
      const r = plan(input({ gpu }))
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.error.kind).toBe(kind)
      expect(r.error.message).toMatch(message)
    })
  }

  it('builds a CPU-only environment only when asked, even without a GPU', () => {
    const r = plan(input({ gpu: null, choices: { torch: 'cpu' } }))
    if (!r.ok) throw new Error(r.error.message)
    expect(r.plan.torch).toMatchObject({ index: 'cpu', indexUrl: 'https://download.pytorch.org/whl/cpu' })
    const acc = r.plan.steps.find((s) => s.id === 'accelerate')!.commands[0]!
    expect(acc.kind === 'write-file' && acc.content).toMatch(/use_cpu: true/)
    expect(r.plan.steps.find((s) => s.id === 'verify')!.probe).toEqual({
      torch: true,
      cuda: false,
      trainingScripts: true,
    })
  })

  it('--torch none installs no torch: uv leaves torch and torchvision out; verify still needs them', () => {
    const r = plan(input({ gpu: null, choices: { torch: 'none' } }))
    if (!r.ok) throw new Error(r.error.message)
    const byId = Object.fromEntries(r.plan.steps.map((s) => [s.id, s]))
    expect(byId.torch!.skipReason).toMatch(/none/)
    expect(r.plan.torch).toBeNull()
    const excludes = '/home/u/.local/share/sdxl-studio/envs/default/torch-excluded.txt'
    for (const id of ['requirements', 'extras'] as const) {
      const [write, run] = byId[id]!.commands
      expect(write).toEqual({ kind: 'write-file', path: excludes, content: 'torch\ntorchvision\n' })
      expect(run?.kind === 'run' && run.argv).toEqual(expect.arrayContaining(['--excludes', excludes]))
      expect(run?.kind === 'run' && run.argv).not.toContain('-c')
    }
    // The tokenizers no longer need torch (nor Hugging Face): the step runs.
    expect(byId.tokenizers!.skipReason).toBeUndefined()
    expect(byId.verify!.probe).toMatchObject({ torch: true, cuda: false, trainingScripts: true })
    expect(byId.verify!.probe!.torchFix).toMatch(
      /leaves torch to you.*pip install --python .*venv\/bin\/python torch==2\.6\.0 torchvision==0\.21\.0 --index-url https:\/\/download\.pytorch\.org\/whl\/cu124.*Resume/,
    )
    const verify = byId.verify!.commands[0]!
    expect(verify.kind === 'run' && verify.argv).not.toContain('--light')
  })

  it('--torch none with the pip installer is refused: pip cannot leave torch out', () => {
    const r = plan(input({ gpu: null, choices: { torch: 'none', installer: 'pip' } }))
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.kind).toBe('torch_none_needs_uv')
    expect(r.error.message).toMatch(/uv installer.*--excludes.*auto or cpu/s)
  })
})

describe('plan: torch from a PyPI-style index', () => {
  const pypi = { layout: 'pypi' as const, why: 'https://pypi.org/simple serves /torch/ directly' }
  const withIndex = (more: Parameters<typeof input>[0] = {}) =>
    input({
      ...more,
      torchIndex: pypi,
      choices: {
        ...more.choices,
        mirrors: { pypiIndex: null, torchIndex: 'https://pypi.org/simple/', hfEndpoint: null },
      },
    })

  it("Linux, CPU on purpose: PyPI's unlabelled CUDA 12.4 build (it runs on the CPU), reinstalled by Repair", () => {
    const r = plan(withIndex({ gpu: null, choices: { torch: 'cpu' } }))
    if (!r.ok) throw new Error(r.error.message)
    expect(r.plan.torch).toMatchObject({
      torch: '2.6.0',
      index: 'cu124',
      cuda: '12.4',
      layout: 'pypi',
      indexUrl: 'https://pypi.org/simple',
    })
    expect(r.plan.torch!.why).toMatch(
      /serves \/torch\/ directly.*CUDA 12\.4 build \(it runs on the CPU too\)/,
    )
    const step = r.plan.steps.find((s) => s.id === 'torch')!
    expect(step.title).toMatch(/PyPI build, CUDA 12\.4/)
    const run = step.commands.find((c) => c.kind === 'run')!
    expect(run.kind === 'run' && run.argv).toEqual(
      expect.arrayContaining([
        'torch==2.6.0',
        'torchvision==0.21.0',
        '--index-url',
        'https://pypi.org/simple',
        '--reinstall-package',
        'torch',
      ]),
    )
    expect(run.kind === 'run' && run.argv.some((a) => a.includes('+'))).toBe(false)
  })

  it('Linux GPU on a CUDA 12.4 driver: the same build; a 12.2 driver is told to update', () => {
    const r = plan(withIndex())
    if (!r.ok) throw new Error(r.error.message)
    expect(r.plan.torch).toMatchObject({ index: 'cu124', cuda: '12.4', layout: 'pypi' })
    const old = plan(withIndex({ gpu: RTX_3060_CUDA_122 }))
    expect(old.ok).toBe(false)
    if (!old.ok) {
      expect(old.error.kind).toBe('driver_too_old')
      expect(old.error.message).toMatch(/CUDA 12\.4.*supports CUDA 12\.2.*cu121.*--torch-index-url/s)
    }
  })

  it('RTX 50 on Linux: PyPI serves torch 2.8.0 as the CUDA 12.8 build', () => {
    const r = plan(withIndex({ gpu: RTX_5090_CUDA_128 }))
    if (!r.ok) throw new Error(r.error.message)
    expect(r.plan.torch).toMatchObject({ torch: '2.8.0', index: 'cu128', cuda: '12.8' })
  })

  it("Windows GPU: refused, PyPI's Windows torch is CPU-only; Windows CPU on purpose is fine", () => {
    const gpu = plan(withIndex({ os: 'win32', choices: { envDir: 'C:\\SDXL\\envs\\default' } }))
    expect(gpu.ok).toBe(false)
    if (!gpu.ok) {
      expect(gpu.error.kind).toBe('torch_index_cpu_only')
      expect(gpu.error.message).toMatch(
        /CPU-only build: NVIDIA GeForce RTX 4090 would not be used.*--torch-index-url/s,
      )
    }
    const cpu = plan(
      withIndex({ os: 'win32', gpu: null, choices: { torch: 'cpu', envDir: 'C:\\SDXL\\envs\\x' } }),
    )
    if (!cpu.ok) throw new Error(cpu.error.message)
    expect(cpu.plan.torch).toMatchObject({ index: 'cpu', cuda: null, layout: 'pypi' })
  })

  it('a torch index root keeps the labelled pins; without facts, the address decides the layout', () => {
    const root = plan(
      input({
        choices: { mirrors: { pypiIndex: null, torchIndex: 'https://m.example/whl', hfEndpoint: null } },
      }),
    )
    if (!root.ok) throw new Error(root.error.message)
    expect(root.plan.torch).toMatchObject({
      layout: 'torch',
      indexUrl: 'https://m.example/whl/cu124',
      cuda: '12.4',
    })
    const simple = plan(
      input({
        choices: {
          mirrors: { pypiIndex: null, torchIndex: 'https://mirror.example/pypi/simple/', hfEndpoint: null },
        },
      }),
    )
    if (!simple.ok) throw new Error(simple.error.message)
    expect(simple.plan.torch).toMatchObject({
      layout: 'pypi',
      indexUrl: 'https://mirror.example/pypi/simple',
    })
    expect(simple.plan.torch!.why).toMatch(/ends in \/simple/)
  })

  it("layoutByName: PEP 503 addresses end in /simple (or devpi's /+simple)", () => {
    for (const url of [
      'https://pypi.org/simple',
      'https://pypi.tuna.tsinghua.edu.cn/simple/',
      'https://d/root/pypi/+simple/',
    ])
      expect(layoutByName(url).layout, url).toBe('pypi')
    for (const url of [
      'https://download.pytorch.org/whl',
      'https://mirrors.example.com/pytorch-wheels/',
      'https://x/simplex',
    ])
      expect(layoutByName(url).layout, url).toBe('torch')
  })

  it('the tokenizer step fetches the open-clip-torch wheel from the PyPI index (the mirror when set)', () => {
    const r = plan(
      input({
        choices: {
          mirrors: { pypiIndex: 'https://mirror.example/simple', torchIndex: null, hfEndpoint: null },
        },
      }),
    )
    if (!r.ok) throw new Error(r.error.message)
    const cmd = r.plan.steps.find((s) => s.id === 'tokenizers')!.commands[0]!
    expect(cmd.kind === 'run' && cmd.argv).toEqual(
      expect.arrayContaining([
        '--index-url',
        'https://mirror.example/simple',
        '--downloads',
        '/home/u/.local/share/sdxl-studio/envs/default/downloads',
      ]),
    )
    const plain = plan(input())
    if (!plain.ok) throw new Error(plain.error.message)
    const c2 = plain.plan.steps.find((s) => s.id === 'tokenizers')!.commands[0]!
    expect(c2.kind === 'run' && c2.argv).toEqual(
      expect.arrayContaining(['--index-url', 'https://pypi.org/simple']),
    )
  })
})

describe('plan: real nvidia-smi samples from ../shared', () => {
  const samples = path.resolve(repoRoot, '../shared/reference/samples/nvidia-smi')
  const have = existsSync(samples)
  it.skipIf(!have)('GRID K520 (CUDA 10.1, Kepler) is refused with a reason', () => {
    const facts = JSON.parse(
      readFileSync(path.join(samples, '01-linux-grid-k520-with-processes.expected.json'), 'utf8'),
    ) as { driver_version: string; cuda_version: string | null; gpus: Array<{ name: string }> }
    const r = plan(
      input({
        gpu: {
          driverCuda: facts.cuda_version,
          driverVersion: facts.driver_version,
          computeCaps: [3.0], // GK104: compute capability 3.0
          names: facts.gpus.map((g) => g.name),
        },
      }),
    )
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.kind).toBe('gpu_unsupported')
      expect(r.error.message).toContain('GRID K520')
    }
  })
  it.skipIf(!have)('V100 on driver 410.48 (no CUDA in header) is too old', () => {
    const facts = JSON.parse(
      readFileSync(path.join(samples, '02-linux-v100-no-cuda-version-in-header.expected.json'), 'utf8'),
    ) as { driver_version: string; cuda_version: string | null; gpus: Array<{ name: string }> }
    const r = plan(
      input({
        gpu: {
          driverCuda: facts.cuda_version,
          driverVersion: facts.driver_version,
          computeCaps: [],
          names: facts.gpus.map((g) => g.name),
        },
      }),
    )
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.kind).toBe('driver_too_old')
      expect(r.error.message).toMatch(/CUDA 10\.0/)
    }
  })
  if (!have) it('skipped: ../shared/reference is absent in this clone', () => undefined)
})

describe('plan: steps, Python, uv, git and paths', () => {
  it('orders every step and pins the tag', () => {
    const r = plan(input())
    expect(stepIds(r)).toEqual([
      'uv',
      'python',
      'source',
      'venv',
      'torch',
      'requirements',
      'extras',
      'accelerate',
      'tokenizers',
      'verify',
    ])
    if (!r.ok) return
    const source = r.plan.steps.find((s) => s.id === 'source')!
    const clone = source.commands.find((c) => c.kind === 'run')!
    // "--" ends git's options: the source and the folder are never read as options.
    expect(clone.kind === 'run' && clone.argv).toEqual([
      'git',
      '-c',
      'advice.detachedHead=false',
      'clone',
      '--branch',
      'v0.10.1',
      '--depth',
      '1',
      '--',
      'https://github.com/kohya-ss/sd-scripts.git',
      '/home/u/.local/share/sdxl-studio/envs/default/sd-scripts',
    ])
    expect(r.plan.totalBytes).toBeGreaterThan(8 * 1024 ** 3)
  })

  it('Linux paths', () => {
    const r = plan(input())
    if (!r.ok) throw new Error(r.error.message)
    const env = '/home/u/.local/share/sdxl-studio/envs/default'
    expect(r.plan.venvPython).toBe(`${env}/venv/bin/python`)
    const uv = r.plan.steps.find((s) => s.id === 'uv')!
    expect(uv.commands).toEqual([
      {
        kind: 'fetch-uv',
        index: 'https://pypi.org/simple',
        version: UV_VERSION,
        to: `${env}/.bootstrap/uv-${UV_VERSION}`,
      },
    ])
    const req = r.plan.steps.find((s) => s.id === 'requirements')!.commands[0]!
    expect(req).toEqual({
      kind: 'run',
      argv: [
        `${env}/.bootstrap/uv-${UV_VERSION}/uv`,
        'pip',
        'install',
        '--python',
        `${env}/venv/bin/python`,
        '-r',
        'requirements.txt',
        '-c',
        `${env}/constraints.txt`,
      ],
      cwd: `${env}/sd-scripts`,
    })
    const acc = r.plan.steps.find((s) => s.id === 'accelerate')!.commands[0]!
    expect(acc.kind === 'write-file' && acc.path).toBe(`${env}/hf_home/accelerate/default_config.yaml`)
    expect(r.plan.runEnv).toEqual({ HF_HOME: `${env}/hf_home` })
  })

  it('Windows paths, the py launcher and the Store stub', () => {
    const env = 'D:\\AI\\SDXL Studio\\envs\\default'
    const r = plan(
      input({
        os: 'win32',
        pythonCandidates: [
          { path: 'C:\\Users\\u\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe', version: '3.11.9' },
          {
            path: 'C:\\Users\\u\\AppData\\Local\\Programs\\Python\\Python310\\python.exe',
            version: '3.10.11',
          },
        ],
        uvOnPath: 'C:\\Users\\u\\.local\\bin\\uv.exe',
        resourcesDir: 'C:\\Program Files\\SDXL Studio\\resources',
        choices: { envDir: env },
      }),
    )
    if (!r.ok) throw new Error(r.error.message)
    expect(r.plan.venvPython).toBe(`${env}\\venv\\Scripts\\python.exe`)
    const byId = Object.fromEntries(r.plan.steps.map((s) => [s.id, s]))
    expect(byId.uv!.skipReason).toContain('uv.exe')
    expect(byId.python!.skipReason).toContain('Python310\\python.exe')
    expect(byId.venv!.commands[1]).toEqual({
      kind: 'run',
      argv: [
        'C:\\Users\\u\\.local\\bin\\uv.exe',
        'venv',
        `${env}\\venv`,
        '--python',
        'C:\\Users\\u\\AppData\\Local\\Programs\\Python\\Python310\\python.exe',
      ],
    })
    const probe = byId.verify!.commands[0]!
    expect(probe.kind === 'run' && probe.argv[1]).toBe(
      'C:\\Program Files\\SDXL Studio\\resources\\env\\probe.py',
    )
  })

  it('no supported Python: uv installs one (Python mirror from the settings, if any)', () => {
    const r = plan(input({ pythonCandidates: [{ path: '/usr/bin/python3.12', version: '3.12.3' }] }))
    if (!r.ok) throw new Error(r.error.message)
    const byId = Object.fromEntries(r.plan.steps.map((s) => [s.id, s]))
    expect(byId.python!.commands[0]).toEqual({
      kind: 'run',
      argv: [expect.stringMatching(/uv$/), 'python', 'install', '3.11'],
    })
    expect(byId.venv!.commands[1]).toMatchObject({ argv: expect.arrayContaining(['--python', '3.11']) })
    const mirrored = plan(
      input({
        pythonCandidates: [],
        choices: { mirrors: { ...NO_MIRRORS, pythonMirror: 'http://127.0.0.1:9/pbs' } },
      }),
    )
    if (!mirrored.ok) throw new Error(mirrored.error.message)
    const m = Object.fromEntries(mirrored.plan.steps.map((s) => [s.id, s]))
    expect(m.python!.title).toContain('from http://127.0.0.1:9/pbs')
    // uv reads the mirror from its variable, for the install and for a venv that would fetch Python too.
    expect(m.python!.commands[0]).toMatchObject({
      env: { UV_PYTHON_INSTALL_MIRROR: 'http://127.0.0.1:9/pbs' },
    })
    expect(m.venv!.commands[1]).toMatchObject({ env: { UV_PYTHON_INSTALL_MIRROR: 'http://127.0.0.1:9/pbs' } })
  })

  it('prefers the newest supported Python', () => {
    const r = plan(
      input({
        pythonCandidates: [
          { path: '/usr/bin/python3.10', version: '3.10.12' },
          { path: '/usr/bin/python3.12', version: '3.12.3' },
          { path: '/usr/local/bin/python3.11', version: '3.11.9' },
          { path: '/usr/bin/python3.9', version: '3.9.2' },
        ],
      }),
    )
    if (!r.ok) throw new Error(r.error.message)
    expect(r.plan.steps.find((s) => s.id === 'python')!.skipReason).toContain('/usr/local/bin/python3.11')
  })

  it('no Python, no uv, no git (a new Windows PC): uv from the PyPI mirror, Python by uv, the tag archive', () => {
    const r = plan(
      input({
        os: 'win32',
        pythonCandidates: [],
        uvOnPath: null,
        gitAvailable: false,
        toolsDir: 'C:\\Users\\Иван\\AppData\\Local\\SDXL Studio\\tools',
        choices: {
          envDir: 'C:\\Users\\Иван\\AppData\\Local\\SDXL Studio\\envs\\default',
          mirrors: { ...NO_MIRRORS, pypiIndex: 'https://pypi.mirror.example/simple' },
        },
      }),
    )
    if (!r.ok) throw new Error(r.error.message)
    const byId = Object.fromEntries(r.plan.steps.map((s) => [s.id, s]))
    const uvDir = `C:\\Users\\Иван\\AppData\\Local\\SDXL Studio\\tools\\uv-${UV_VERSION}`
    expect(byId.uv!.commands).toEqual([
      { kind: 'fetch-uv', index: 'https://pypi.mirror.example/simple', version: UV_VERSION, to: uvDir },
    ])
    expect(byId.python!.commands[0]).toEqual({
      kind: 'run',
      argv: [`${uvDir}\\uv.exe`, 'python', 'install', '3.11'],
    })
    expect(byId.source!.commands).toContainEqual(
      expect.objectContaining({
        kind: 'download',
        url: 'https://github.com/kohya-ss/sd-scripts/archive/refs/tags/v0.10.1.tar.gz',
      }),
    )
    // A uv downloaded before is found like one on PATH: nothing to download again.
    const again = plan(input({ pythonCandidates: [], uvOnPath: `${uvDir}\\uv.exe`, os: 'win32' }))
    if (!again.ok) throw new Error(again.error.message)
    expect(again.plan.steps[0]!.skipReason).toContain(`${uvDir}\\uv.exe`)
  })

  it('pip installer: needs a supported Python, uses python -m pip', () => {
    const bad = plan(
      input({
        pythonCandidates: [{ path: '/usr/bin/python3.9', version: '3.9.2' }],
        choices: { installer: 'pip' },
      }),
    )
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error.message).toMatch(/3\.9\.2.*3\.10–3\.11/)
    const r = plan(input({ choices: { installer: 'pip' } }))
    if (!r.ok) throw new Error(r.error.message)
    const byId = Object.fromEntries(r.plan.steps.map((s) => [s.id, s]))
    expect(byId.uv!.skipReason).toMatch(/pip/)
    expect(byId.venv!.commands[1]).toMatchObject({
      argv: ['/usr/bin/python3.11', '-m', 'venv', expect.any(String)],
    })
    expect(byId.extras!.commands[0]).toMatchObject({
      argv: expect.arrayContaining(['-m', 'pip', 'install', 'lycoris-lora==3.2.0.post2', 'dadaptation==3.2']),
    })
  })

  it('git missing: GitHub archive, local folder copy, or a clear error', () => {
    const gh = plan(input({ gitAvailable: false }))
    if (!gh.ok) throw new Error(gh.error.message)
    const src = gh.plan.steps.find((s) => s.id === 'source')!
    expect(src.commands).toContainEqual({
      kind: 'download',
      url: 'https://github.com/kohya-ss/sd-scripts/archive/refs/tags/v0.10.1.tar.gz',
      to: expect.stringMatching(/downloads\/sd-scripts-v0\.10\.1\.tar\.gz$/),
    })
    expect(src.commands).toContainEqual({
      kind: 'write-file',
      path: expect.stringMatching(/sd-scripts\/\.sdxl-studio-version$/),
      content: 'v0.10.1\n',
    })
    const local = plan(input({ gitAvailable: false, choices: { source: '/srv/mirror/sd-scripts' } }))
    if (!local.ok) throw new Error(local.error.message)
    expect(local.plan.steps.find((s) => s.id === 'source')!.commands).toContainEqual({
      kind: 'copy-tree',
      from: '/srv/mirror/sd-scripts',
      to: expect.stringMatching(/sd-scripts$/),
    })
    const other = plan(
      input({ gitAvailable: false, choices: { source: 'https://gitlab.example/x/sd-scripts.git' } }),
    )
    expect(other.ok).toBe(false)
    if (!other.ok) expect(other.error.kind).toBe('no_git')
  })

  it('mirrors reach every install and the tokenizer download', () => {
    const r = plan(
      input({
        choices: {
          mirrors: {
            pypiIndex: 'https://pypi.mirror.example/simple',
            torchIndex: 'https://torch.mirror.example/whl/',
            hfEndpoint: 'https://hf-mirror.com',
          },
        },
      }),
    )
    if (!r.ok) throw new Error(r.error.message)
    const byId = Object.fromEntries(r.plan.steps.map((s) => [s.id, s]))
    for (const id of ['requirements', 'extras'] as const) {
      expect(byId[id]!.commands[0]).toMatchObject({
        argv: expect.arrayContaining(['--index-url', 'https://pypi.mirror.example/simple']),
      })
    }
    expect(byId.torch!.commands[1]).toMatchObject({
      argv: expect.arrayContaining(['--index-url', 'https://torch.mirror.example/whl/cu124']),
    })
    expect(byId.tokenizers!.commands[0]).toMatchObject({ env: { HF_ENDPOINT: 'https://hf-mirror.com' } })
  })

  it('unknown version lists the supported ones', () => {
    const r = plan(input({ version: 'v9.9.9' }))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.message).toContain('v0.10.1')
  })

  it('adding a version is a data change', () => {
    const next = { ...SUPPORTED_VERSIONS[0]!, tag: 'v0.11.0' }
    ;(SUPPORTED_VERSIONS as unknown as unknown[]).push(next)
    try {
      const r = plan(input({ version: 'v0.11.0' }))
      if (!r.ok) throw new Error(r.error.message)
      const clone = r.plan.steps.find((s) => s.id === 'source')!.commands[1]!
      expect(clone.kind === 'run' && clone.argv).toContain('v0.11.0')
    } finally {
      ;(SUPPORTED_VERSIONS as unknown as unknown[]).pop()
    }
  })
})

describe('helpers', () => {
  it('joinPath', () => {
    expect(joinPath('win32', 'C:\\a\\', '/b/c', 'd')).toBe('C:\\a\\b\\c\\d')
    expect(joinPath('linux', '/a/', 'b')).toBe('/a/b')
  })
  it('cudaFromDriver', () => {
    expect(cudaFromDriver('570.124.06', 'linux')).toBe('12.8')
    expect(cudaFromDriver('551.86', 'win32')).toBe('12.4')
    expect(cudaFromDriver('535.183.01', 'linux')).toBe('12.1')
    expect(cudaFromDriver('390.12', 'linux')).toBeNull()
  })
  it('git URL detection', () => {
    expect(isGitUrl('https://github.com/kohya-ss/sd-scripts.git')).toBe(true)
    expect(isGitUrl('git@github.com:kohya-ss/sd-scripts.git')).toBe(true)
    expect(isGitUrl('C:\\src\\sd-scripts')).toBe(false)
    expect(isGitUrl('/srv/sd-scripts')).toBe(false)
    expect(githubArchiveUrl('https://github.com/kohya-ss/sd-scripts', 'v0.10.1')).toBe(
      'https://github.com/kohya-ss/sd-scripts/archive/refs/tags/v0.10.1.tar.gz',
    )
  })
})
