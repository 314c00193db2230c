import { z } from 'zod'
import { envText, type EnvCode, type EnvParams } from './messages'
import { cudaFromDriver } from './driver-cuda'
import { envLayout, joinPath, type EnvOs } from './layout'
import { displayCommand } from '../sdscripts/quote'
import { parseSource } from './source'
import {
  DEFAULT_PYPI_INDEX,
  DEFAULT_TORCH_INDEX,
  layoutByName,
  OFFICIAL_INDEX_FACTS,
  TorchIndexFacts,
  TorchIndexLayout,
  torchSource,
} from './torch-source'
import { UV_VERSION } from './uv-wheel'
import {
  compareVersionPrefix,
  findVersion,
  pythonSupported,
  SUPPORTED_VERSIONS,
  type SdScriptsVersion,
  type TorchBuild,
} from './versions'

export const EnvOsSchema = z.enum(['linux', 'win32'])

export const Mirrors = z.object({
  /** Replaces PyPI for every install (pip/uv --index-url). */
  pypiIndex: z.string().nullable().default(null),
  /**
   * Replaces https://download.pytorch.org/whl: a torch index root (the build suffix, /cu124, is appended)
   * or a PyPI-style index (PyPI's own builds; see core/env/torch-source.ts).
   */
  torchIndex: z.string().nullable().default(null),
  /** Hugging Face endpoint for the tokenizer download (HF_ENDPOINT). */
  hfEndpoint: z.string().nullable().default(null),
  /** Replaces uv's Python download site (UV_PYTHON_INSTALL_MIRROR) when uv installs Python. */
  pythonMirror: z.string().nullable().default(null),
  /** HTTP(S) proxy for every download of an install; null: the HTTPS_PROXY/HTTP_PROXY variables, if any. */
  proxy: z.string().nullable().default(null),
})
export type Mirrors = z.infer<typeof Mirrors>
/**
 * A change to some mirrors. Not `Mirrors.partial()`: zod 4 applies the defaults inside a partial
 * object, so `{ proxy: null }` would come out with every other mirror set to null (cleared).
 */
export const MirrorsPatch = z
  .object({
    pypiIndex: z.string().nullable().optional(),
    torchIndex: z.string().nullable().optional(),
    hfEndpoint: z.string().nullable().optional(),
    pythonMirror: z.string().nullable().optional(),
    proxy: z.string().nullable().optional(),
  })
  .strict()
export type MirrorsPatch = z.infer<typeof MirrorsPatch>
export const NO_MIRRORS: Mirrors = {
  pypiIndex: null,
  torchIndex: null,
  hfEndpoint: null,
  pythonMirror: null,
  proxy: null,
}

export const TorchChoice = z.enum(['auto', 'none', 'cpu'])
export type TorchChoice = z.infer<typeof TorchChoice>
export const InstallerChoice = z.enum(['uv', 'pip'])

export const DEFAULT_SOURCE = 'https://github.com/kohya-ss/sd-scripts.git'
export { DEFAULT_PYPI_INDEX, DEFAULT_TORCH_INDEX }

export const GpuFacts = z.object({
  /** "CUDA Version" from nvidia-smi's header, e.g. "12.4"; null when the header has none. */
  driverCuda: z.string().nullable(),
  driverVersion: z.string().nullable().default(null),
  /** compute_cap per GPU, e.g. [8.6]; may be empty where nvidia-smi is too old to report it. */
  computeCaps: z.array(z.number()),
  names: z.array(z.string()),
})
export type GpuFacts = z.infer<typeof GpuFacts>

export const PlanInput = z.object({
  version: z.string(),
  os: EnvOsSchema,
  pythonCandidates: z.array(z.object({ path: z.string(), version: z.string() })),
  uvOnPath: z.string().nullable().optional(),
  gitAvailable: z.boolean(),
  gpu: GpuFacts.nullable(),
  /** Folder holding the app's resources (env/probe.py, env/prefill_tokenizers.py). */
  resourcesDir: z.string(),
  /** What kind of index the torch index is (asked by the service); absent: judged by its address. */
  torchIndex: TorchIndexFacts.nullable().optional(),
  /** Where a downloaded uv is kept (<dataDir>/tools, shared by environments); default <envDir>/.bootstrap. */
  toolsDir: z.string().optional(),
  choices: z.object({
    torch: TorchChoice.default('auto'),
    installer: InstallerChoice.default('uv'),
    envDir: z.string().min(1),
    source: z.string().min(1).default(DEFAULT_SOURCE),
    mirrors: Mirrors.default(NO_MIRRORS),
  }),
})
export type PlanInput = z.input<typeof PlanInput>

/** What a step does. `run` is a process; the others are done by the runner itself (portable, no shell). */
export const StepCommand = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('run'),
    argv: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
  }),
  z.object({ kind: z.literal('write-file'), path: z.string(), content: z.string() }),
  z.object({ kind: z.literal('mkdir'), path: z.string() }),
  /** Copies a folder, leaving out VCS metadata, virtual environments and caches. */
  z.object({ kind: z.literal('copy-tree'), from: z.string(), to: z.string() }),
  z.object({ kind: z.literal('download'), url: z.string(), to: z.string() }),
  /** Downloads uv's wheel for this machine from a simple index, checks its sha256, unpacks uv into `to`. */
  z.object({ kind: z.literal('fetch-uv'), index: z.string(), version: z.string(), to: z.string() }),
  /** Deletes what a previous, interrupted attempt of this step left behind. */
  z.object({ kind: z.literal('remove'), path: z.string() }),
])
export type StepCommand = z.infer<typeof StepCommand>

export const StepId = z.enum([
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
export type StepId = z.infer<typeof StepId>

export const ProbeExpectations = z.object({
  torch: z.boolean(),
  cuda: z.boolean(),
  trainingScripts: z.boolean(),
  /** torch is the user's to install (torch: none): how to do it, named when it is missing. */
  torchFix: z.string().optional(),
  /** The install command inside torchFix (code torch_fix_user); absent in records written before. */
  torchFixCommand: z.string().optional(),
})
export type ProbeExpectations = z.infer<typeof ProbeExpectations>

/** Parameters of a coded message (core/env/messages.ts). */
const CodeParams = z.record(z.string(), z.union([z.string(), z.number()]))

export const PlanStep = z.object({
  id: StepId,
  title: z.string(),
  /** The title's code and parameters (core/env/messages.ts), for the UI's language. */
  titleCode: z.string().optional(),
  titleParams: CodeParams.optional(),
  commands: z.array(StepCommand),
  estimateBytes: z.number().optional(),
  /** Set when the step has nothing to do, with the reason shown to the user. */
  skipReason: z.string().optional(),
  skipCode: z.string().optional(),
  skipParams: CodeParams.optional(),
  /** The verify step: what the probe must find. */
  probe: ProbeExpectations.optional(),
})
export type PlanStep = z.infer<typeof PlanStep>

export const InstallPlan = z.object({
  version: z.string(),
  os: EnvOsSchema,
  envDir: z.string(),
  srcDir: z.string(),
  venvDir: z.string(),
  venvPython: z.string(),
  installer: InstallerChoice,
  torch: z
    .object({
      torch: z.string(),
      torchvision: z.string(),
      index: z.string(),
      indexUrl: z.string(),
      why: z.string(),
      /** Records written before the PyPI-style layout existed are torch roots. */
      layout: TorchIndexLayout.default('torch'),
      /** torch.version.cuda the installed build must report (null: CPU); absent in older records. */
      cuda: z.string().nullable().optional(),
      /** The reason's code when `why` was one reason (records of earlier versions). */
      whyCode: z.string().optional(),
      whyParams: CodeParams.optional(),
      /** The reasons `why` joins ("; "): the build's, the index's, what PyPI serves; coded. */
      whyParts: z.array(z.object({ code: z.string(), params: CodeParams })).optional(),
    })
    .nullable(),
  /** Environment variables every later run in this environment needs (HF_HOME for accelerate's config). */
  runEnv: z.record(z.string(), z.string()),
  tokenizerCacheDir: z.string(),
  totalBytes: z.number(),
  steps: z.array(PlanStep),
})
export type InstallPlan = z.infer<typeof InstallPlan>

export const PlanErrorKind = z.enum([
  'unknown_version',
  'no_gpu',
  'driver_too_old',
  'driver_unknown',
  'gpu_unsupported',
  'no_python',
  'no_git',
  'torch_index_cpu_only',
  'torch_not_on_index',
  'torch_none_needs_uv',
  'bad_source',
])
export type PlanErrorKind = z.infer<typeof PlanErrorKind>
export const PlanError = z.object({
  kind: PlanErrorKind,
  message: z.string(),
  code: z.string().optional(),
  params: CodeParams.optional(),
})
export type PlanError = z.infer<typeof PlanError>

export type PlanResult = { ok: true; plan: InstallPlan } | { ok: false; error: PlanError }

export { isGitUrl } from './source'

/** GitHub serves each tag as a tarball; the fallback when git is missing. */
export function githubArchiveUrl(source: string, tag: string): string | null {
  const m = /^https?:\/\/github\.com\/([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/i.exec(source)
  return m ? `https://github.com/${m[1]}/${m[2]}/archive/refs/tags/${tag}.tar.gz` : null
}

const planError = (kind: PlanErrorKind, code: EnvCode, params: EnvParams = {}): PlanError => ({
  kind,
  ...envText(code, params),
})
const fail = (kind: PlanErrorKind, code: EnvCode, params: EnvParams = {}): PlanResult => ({
  ok: false,
  error: planError(kind, code, params),
})
/** A step's title fields: English, code and parameters. */
const titled = (code: EnvCode, params: EnvParams = {}) => {
  const m = envText(code, params)
  return { title: m.message, titleCode: code, titleParams: params }
}
/** A step's "nothing to do" fields. */
const skipped = (code: EnvCode, params: EnvParams = {}) => {
  const m = envText(code, params)
  return { skipReason: m.message, skipCode: code, skipParams: params }
}

/** Picks the torch build for the GPU, or says why none fits. */
export function chooseTorch(
  version: SdScriptsVersion,
  torch: TorchChoice,
  gpu: GpuFacts | null,
  os: EnvOs,
):
  | {
      build: TorchBuild
      why: string
      whyCode: EnvCode
      whyParams: EnvParams
      driverCuda: string | null
      gpuLabel: string
    }
  | { error: PlanError }
  | null {
  if (torch === 'none') return null
  if (torch === 'cpu')
    return {
      build: version.torch.cpu,
      why: envText('torch_why_cpu').message,
      whyCode: 'torch_why_cpu',
      whyParams: {},
      driverCuda: null,
      gpuLabel: 'CPU',
    }
  const names = gpu?.names.filter((n) => n.trim() !== '') ?? []
  if (!gpu || (names.length === 0 && gpu.computeCaps.length === 0)) {
    return { error: planError('no_gpu', 'plan_no_gpu') }
  }
  const driverCuda = gpu.driverCuda ?? (gpu.driverVersion ? cudaFromDriver(gpu.driverVersion, os) : null)
  if (!driverCuda) {
    return { error: planError('driver_unknown', 'plan_driver_unknown') }
  }
  // (A name that reads the same in every language when nvidia-smi gives none.)
  const gpuLabel = names.length ? names.join(', ') : 'NVIDIA GPU'
  const maxCap = gpu.computeCaps.length ? Math.max(...gpu.computeCaps) : null
  const minCap = gpu.computeCaps.length ? Math.min(...gpu.computeCaps) : null
  // Compute capability is missing on old nvidia-smi; the name still identifies an RTX 50 card.
  const newArch =
    (maxCap !== null && maxCap >= version.torch.newArch.minComputeCapability) ||
    names.some((n) => /RTX\s*50\d0|RTX PRO \d+ Blackwell|\bB200\b|\bGB10\b/i.test(n))
  if (minCap !== null && minCap < version.torch.minComputeCapability) {
    return {
      error: planError('gpu_unsupported', 'plan_gpu_unsupported', {
        gpu: gpuLabel,
        cap: minCap.toFixed(1),
        min: version.torch.minComputeCapability.toFixed(1),
      }),
    }
  }
  const candidates = newArch ? version.torch.newArch.builds : version.torch.cuda
  const fit = candidates.find(
    (b) => b.minDriverCuda !== null && compareVersionPrefix(driverCuda, b.minDriverCuda) >= 0,
  )
  if (!fit) {
    const need = candidates[candidates.length - 1]?.minDriverCuda ?? '?'
    const p = { gpu: gpuLabel, torch: candidates[0]?.torch ?? '?', need, have: driverCuda }
    return {
      error: newArch
        ? planError('driver_too_old', 'plan_driver_too_old_new_arch', p)
        : planError('driver_too_old', 'plan_driver_too_old', { have: driverCuda, torch: p.torch, need }),
    }
  }
  const why = newArch
    ? envText('torch_why_new_arch', { gpu: gpuLabel, torch: fit.torch, index: fit.index, cuda: driverCuda })
    : envText('torch_why_newest', { cuda: driverCuda, gpu: gpuLabel })
  return { build: fit, why: why.message, whyCode: why.code, whyParams: why.params, driverCuda, gpuLabel }
}

function pickPython(
  version: SdScriptsVersion,
  candidates: Array<{ path: string; version: string }>,
  os: EnvOs,
) {
  // The Microsoft Store stub ("WindowsApps\python.exe") opens the Store instead of running Python.
  const usable = candidates.filter((c) => !(os === 'win32' && /\\WindowsApps\\/i.test(c.path)))
  const sorted = [...usable].sort((a, b) => compareVersionPrefix(b.version, a.version))
  return {
    supported: sorted.find((c) => pythonSupported(version, c.version)) ?? null,
    all: sorted,
  }
}

/**
 * uv and Python. uv on PATH (or one fetched before) is used; otherwise the app downloads uv's wheel
 * from the PyPI index itself (no Python needed: a new Windows PC has none). A supported Python on
 * the machine is used; otherwise uv installs one, from the Python mirror when one is set.
 */
function planPythonAndUv(
  input: z.output<typeof PlanInput>,
  version: SdScriptsVersion,
):
  | {
      steps: PlanStep[]
      uv: string | null
      pythonSpec: string
      pythonVersion: string
      pythonEnv: { env?: Record<string, string> }
    }
  | { error: PlanError } {
  const { os, choices } = input
  const py = pickPython(version, input.pythonCandidates, os)
  const range = `${version.python.min}–${version.python.max}`
  const steps: PlanStep[] = []
  if (choices.installer === 'pip' && !py.supported) {
    return {
      error: py.all.length
        ? planError('no_python', 'plan_no_python_pip_found', {
            versions: py.all.map((c) => c.version).join(', '),
            tag: version.tag,
            range,
            install: version.python.install,
          })
        : planError('no_python', 'plan_no_python_pip_none', { install: version.python.install }),
    }
  }
  const uvOnPath = input.uvOnPath ?? null
  const toolsDir = input.toolsDir ?? joinPath(os, choices.envDir, '.bootstrap')
  const uvDir = joinPath(os, toolsDir, `uv-${UV_VERSION}`)
  const fetchedUv = joinPath(os, uvDir, os === 'win32' ? 'uv.exe' : 'uv')
  const uv = choices.installer === 'pip' ? null : (uvOnPath ?? fetchedUv)
  if (choices.installer === 'pip') {
    steps.push({ id: 'uv', ...titled('step_uv_get'), commands: [], ...skipped('skip_pip_chosen') })
  } else if (uvOnPath) {
    steps.push({
      id: 'uv',
      ...titled('step_uv_get'),
      commands: [],
      ...skipped('skip_uv_on_path', { path: uvOnPath }),
    })
  } else {
    const index = choices.mirrors.pypiIndex ?? DEFAULT_PYPI_INDEX
    steps.push({
      id: 'uv',
      ...titled('step_uv_fetch', { version: UV_VERSION, index }),
      estimateBytes: version.sizes.uv,
      commands: [{ kind: 'fetch-uv', index, version: UV_VERSION, to: uvDir }],
    })
  }
  const mirror = choices.mirrors.pythonMirror
  const pythonEnv = mirror ? { env: { UV_PYTHON_INSTALL_MIRROR: mirror } } : {}
  if (py.supported) {
    steps.push({
      id: 'python',
      ...titled('step_python_get', { range }),
      commands: [],
      ...skipped('skip_python_found', { version: py.supported.version, path: py.supported.path }),
    })
  } else {
    steps.push({
      id: 'python',
      ...(mirror
        ? titled('step_python_install_mirror', { version: version.python.install, mirror })
        : titled('step_python_install', { version: version.python.install })),
      estimateBytes: version.sizes.python,
      commands: [{ kind: 'run', argv: [uv!, 'python', 'install', version.python.install], ...pythonEnv }],
    })
  }
  return {
    steps,
    uv,
    pythonSpec: py.supported?.path ?? version.python.install,
    pythonVersion: py.supported?.version ?? version.python.install,
    pythonEnv,
  }
}

/**
 * The source step: git clone of an allowed URL or folder (with "--" before the positional arguments,
 * so nothing in them is read as an option), else GitHub's tag archive, else a copy of the folder.
 */
function planSource(
  input: z.output<typeof PlanInput>,
  L: ReturnType<typeof envLayout>,
  tag: string,
): { title: ReturnType<typeof titled>; commands: StepCommand[] } | { error: PlanError } {
  const { os, choices } = input
  const parsed = parseSource(choices.source)
  if (parsed.kind === 'invalid') return { error: planError('bad_source', parsed.code, parsed.params) }
  const source = parsed.kind === 'url' ? parsed.url : parsed.path
  if (input.gitAvailable) {
    return {
      title: titled('step_source_git', { tag }),
      commands: [
        { kind: 'remove', path: L.srcDir },
        {
          kind: 'run',
          argv: [
            'git',
            '-c',
            'advice.detachedHead=false',
            'clone',
            '--branch',
            tag,
            '--depth',
            '1',
            '--',
            source,
            L.srcDir,
          ],
        },
      ],
    }
  }
  if (parsed.kind === 'folder') {
    return {
      title: titled('step_source_copy', { source }),
      commands: [
        { kind: 'remove', path: L.srcDir },
        { kind: 'copy-tree', from: source, to: L.srcDir },
      ],
    }
  }
  const url = githubArchiveUrl(source, tag)
  if (!url) {
    return { error: planError('no_git', 'plan_no_git_archive', { source }) }
  }
  const archive = joinPath(os, L.downloadsDir, `sd-scripts-${tag}.tar.gz`)
  return {
    title: titled('step_source_archive', { tag }),
    commands: [
      { kind: 'remove', path: L.srcDir },
      { kind: 'download', url, to: archive },
      { kind: 'mkdir', path: L.srcDir },
      { kind: 'run', argv: ['tar', '-xzf', archive, '--strip-components=1', '-C', L.srcDir] },
      // Without .git the checkout cannot tell its tag; the probe reads this marker instead.
      { kind: 'write-file', path: joinPath(os, L.srcDir, '.sdxl-studio-version'), content: `${tag}\n` },
    ],
  }
}

/** Turns the facts and the user's choices into the ordered install steps, or a typed error. Pure. */
export function plan(rawInput: PlanInput): PlanResult {
  const input = PlanInput.parse(rawInput)
  const { os, choices } = input
  const version = findVersion(input.version)
  if (!version) {
    return fail('unknown_version', 'plan_unknown_version', {
      version: input.version,
      supported: SUPPORTED_VERSIONS.map((v) => v.tag).join(', '),
    })
  }
  const L = envLayout(os, choices.envDir)
  const j = (...p: string[]) => joinPath(os, ...p)
  const mirrors = choices.mirrors
  const indexArgs = mirrors.pypiIndex ? ['--index-url', mirrors.pypiIndex] : []
  const steps: PlanStep[] = []
  const installer = choices.installer

  // --- Python and uv -------------------------------------------------------------------------
  const tools = planPythonAndUv(input, version)
  if ('error' in tools) return { ok: false, error: tools.error }
  steps.push(...tools.steps)
  const { uv, pythonSpec, pythonEnv } = tools

  // --- sd-scripts source ---------------------------------------------------------------------
  const sourceStep = planSource(input, L, version.tag)
  if ('error' in sourceStep) return { ok: false, error: sourceStep.error }
  steps.push({
    id: 'source',
    ...sourceStep.title,
    commands: sourceStep.commands,
    estimateBytes: version.sizes.source,
  })

  // --- venv ----------------------------------------------------------------------------------
  steps.push({
    id: 'venv',
    ...titled('step_venv', { version: tools.pythonVersion }),
    estimateBytes: version.sizes.venv,
    commands: [
      { kind: 'remove', path: L.venvDir },
      uv
        ? { kind: 'run', argv: [uv, 'venv', L.venvDir, '--python', pythonSpec], ...pythonEnv }
        : { kind: 'run', argv: [pythonSpec, '-m', 'venv', L.venvDir] },
    ],
  })

  const install = (args: string[], extra: Partial<{ cwd: string; index: string[] }> = {}): StepCommand => ({
    kind: 'run',
    argv: uv
      ? [uv, 'pip', 'install', '--python', L.venvPython, ...(extra.index ?? indexArgs), ...args]
      : [
          L.venvPython,
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          ...(extra.index ?? indexArgs),
          ...args,
        ],
    ...(extra.cwd ? { cwd: extra.cwd } : {}),
  })

  // --- torch ---------------------------------------------------------------------------------
  const torchChoice = chooseTorch(version, choices.torch, input.gpu, os)
  if (torchChoice && 'error' in torchChoice) return { ok: false, error: torchChoice.error }
  if (!torchChoice && !uv) return fail('torch_none_needs_uv', 'plan_torch_none_needs_uv')
  const torchIndexBase = mirrors.torchIndex ?? DEFAULT_TORCH_INDEX
  let torchInfo: InstallPlan['torch'] = null
  // Pinning torch for every later install keeps packages that depend on torch (LyCORIS, diffusers[torch])
  // from replacing the planned build with another one. Without torch (torch: none) they must not pull
  // one in at all: uv leaves the packages listed in the excludes file out of the resolution.
  const constraintArgs = torchChoice ? ['-c', L.constraintsFile] : ['--excludes', L.torchExcludesFile]
  if (!torchChoice) {
    steps.push({
      id: 'torch',
      ...titled('step_torch_any'),
      commands: [],
      ...skipped('skip_torch_none'),
    })
  } else {
    const src = torchSource({
      build: torchChoice.build,
      why: { message: torchChoice.why, code: torchChoice.whyCode, params: torchChoice.whyParams },
      choice: choices.torch === 'cpu' ? 'cpu' : 'auto',
      os,
      driverCuda: torchChoice.driverCuda,
      gpuLabel: torchChoice.gpuLabel,
      indexBase: torchIndexBase,
      facts:
        input.torchIndex ?? (mirrors.torchIndex ? layoutByName(mirrors.torchIndex) : OFFICIAL_INDEX_FACTS),
    })
    if ('error' in src) return { ok: false, error: src.error }
    torchInfo = {
      torch: src.torch,
      torchvision: src.torchvision,
      index: src.index,
      indexUrl: src.indexUrl,
      why: src.why,
      ...(src.whyParts ? { whyParts: src.whyParts } : {}),
      layout: src.layout,
      cuda: src.cuda,
    }
    // PyPI's wheels carry no label, so "torch==2.6.0" is already met by any installed 2.6.0 build:
    // reinstall, so Repair really puts the planned build back.
    const reinstall =
      src.layout === 'pypi'
        ? uv
          ? ['--reinstall-package', 'torch', '--reinstall-package', 'torchvision']
          : ['--force-reinstall']
        : []
    const versions = { torch: src.torch, torchvision: src.torchvision }
    steps.push({
      id: 'torch',
      ...(src.layout === 'torch'
        ? titled('step_torch', { ...versions, index: src.index })
        : src.cuda
          ? titled('step_torch_pypi', { ...versions, cuda: src.cuda })
          : titled('step_torch_pypi_cpu', versions)),
      estimateBytes: src.index === 'cpu' ? version.sizes.torchCpu : version.sizes.torchCuda,
      commands: [
        {
          kind: 'write-file',
          path: L.constraintsFile,
          content: `torch==${src.torch}\ntorchvision==${src.torchvision}\n`,
        },
        install([...src.pins, ...reinstall], { index: ['--index-url', src.indexUrl] }),
      ],
    })
  }
  const excludesFile: StepCommand[] = torchChoice
    ? []
    : [{ kind: 'write-file', path: L.torchExcludesFile, content: 'torch\ntorchvision\n' }]

  // --- requirements and extras ---------------------------------------------------------------
  steps.push({
    id: 'requirements',
    ...titled('step_requirements'),
    estimateBytes: version.sizes.requirements,
    commands: [...excludesFile, install(['-r', 'requirements.txt', ...constraintArgs], { cwd: L.srcDir })],
  })
  steps.push({
    id: 'extras',
    ...titled('step_extras', { packages: version.extras.join(', ') }),
    estimateBytes: version.sizes.extras,
    commands: version.extras.length ? [...excludesFile, install([...version.extras, ...constraintArgs])] : [],
    ...(version.extras.length ? {} : skipped('skip_no_extras')),
  })

  // --- accelerate config ---------------------------------------------------------------------
  steps.push({
    id: 'accelerate',
    ...titled('step_accelerate'),
    commands: [
      { kind: 'write-file', path: L.accelerateConfig, content: accelerateConfig(choices.torch !== 'cpu') },
    ],
  })

  // --- tokenizers ----------------------------------------------------------------------------
  steps.push(tokenizersStep(input, L, version.sizes.tokenizers))

  // --- verify --------------------------------------------------------------------------------
  // Every environment must have a working torch and torchvision to train, whoever installed them.
  const probe: ProbeExpectations = {
    torch: true,
    cuda: choices.torch === 'auto',
    trainingScripts: true,
    ...(torchChoice ? {} : userTorchFix(version, uv!, L.venvPython, os)),
  }
  steps.push({
    id: 'verify',
    ...titled('step_verify'),
    probe,
    commands: [
      {
        kind: 'run',
        argv: [
          L.venvPython,
          j(input.resourcesDir, 'env', 'probe.py'),
          '--sd-scripts',
          L.srcDir,
          '--out',
          L.probeFile,
        ],
        env: { HF_HOME: L.hfHome },
      },
    ],
  })

  const totalBytes = steps.reduce((sum, s) => sum + (s.skipReason ? 0 : (s.estimateBytes ?? 0)), 0)
  return {
    ok: true,
    plan: {
      version: version.tag,
      os,
      envDir: choices.envDir,
      srcDir: L.srcDir,
      venvDir: L.venvDir,
      venvPython: L.venvPython,
      installer,
      torch: torchInfo,
      runEnv: { HF_HOME: L.hfHome },
      tokenizerCacheDir: L.tokenizerCacheDir,
      totalBytes,
      steps,
    },
  }
}

/** sd-scripts' tested torch build as pip/uv install arguments: the example a user installs by hand. */
function testedTorchArgs(version: SdScriptsVersion): string[] {
  const b = version.torch.cuda[0]!
  return [
    `torch==${b.torch}`,
    `torchvision==${b.torchvision}`,
    '--index-url',
    `${DEFAULT_TORCH_INDEX}/${b.index}`,
  ]
}

/** How a user who manages torch installs it into this venv (sd-scripts' tested build as the example). */
function userTorchFix(
  version: SdScriptsVersion,
  uv: string,
  venvPython: string,
  os: EnvOs,
): { torchFix: string; torchFixCommand: string } {
  const argv = [uv, 'pip', 'install', '--python', venvPython, ...testedTorchArgs(version)]
  const command = displayCommand(argv, os === 'win32' ? 'windows' : 'posix')
  return { torchFix: envText('torch_fix_user', { command }).message, torchFixCommand: command }
}

/**
 * How torch goes into an existing install's venv by hand (the app never modifies it): that venv's
 * own Python and pip, which kohya_ss and sd-scripts venvs have.
 */
export function existingTorchCommand(version: SdScriptsVersion, venvPython: string, os: EnvOs): string {
  const argv = [venvPython, '-m', 'pip', 'install', ...testedTorchArgs(version)]
  return displayCommand(argv, os === 'win32' ? 'windows' : 'posix')
}

/**
 * Saves both SDXL CLIP tokenizers into the environment's cache: from Hugging Face when its endpoint
 * answers, else built offline from the open-clip-torch wheel on the package index (same vocabulary,
 * checked against known token ids). The step's log says which way was used.
 */
function tokenizersStep(
  input: z.output<typeof PlanInput>,
  L: ReturnType<typeof envLayout>,
  bytes: number,
): PlanStep {
  const m = input.choices.mirrors
  return {
    id: 'tokenizers',
    ...titled('step_tokenizers'),
    estimateBytes: bytes,
    commands: [
      {
        kind: 'run',
        argv: [
          L.venvPython,
          joinPath(input.os, input.resourcesDir, 'env', 'prefill_tokenizers.py'),
          '--out',
          L.tokenizerCacheDir,
          '--index-url',
          m.pypiIndex ?? DEFAULT_PYPI_INDEX,
          '--downloads',
          L.downloadsDir,
        ],
        env: { ...(m.hfEndpoint ? { HF_ENDPOINT: m.hfEndpoint } : {}), HF_HOME: L.hfHome },
      },
    ],
  }
}

/**
 * accelerate's config for one local process, the answers sd-scripts' README gives to `accelerate config`
 * (this machine, no distributed training, all GPUs, fp16). Written by us, so no interactive prompt.
 */
export function accelerateConfig(gpu: boolean): string {
  return [
    'compute_environment: LOCAL_MACHINE',
    'debug: false',
    "distributed_type: 'NO'",
    "downcast_bf16: 'no'",
    `gpu_ids: ${gpu ? 'all' : "'0'"}`,
    'machine_rank: 0',
    'main_training_function: main',
    `mixed_precision: ${gpu ? 'fp16' : "'no'"}`,
    'num_machines: 1',
    'num_processes: 1',
    'rdzv_backend: static',
    'same_network: true',
    'tpu_env: []',
    'tpu_use_cluster: false',
    'tpu_use_sudo: false',
    `use_cpu: ${gpu ? 'false' : 'true'}`,
    '',
  ].join('\n')
}
