import { z } from 'zod'
import { envText, type EnvCode, type EnvParams } from './messages'
import { DEFAULT_PYPI_INDEX } from './uv-wheel'
import { compareVersionPrefix, cudaOfIndex, pypiTorchIndex, type TorchBuild } from './versions'

/**
 * Where torch comes from. Two kinds of index serve it:
 * - a torch index root (download.pytorch.org/whl, or a mirror of it): one PEP 503 index per build below
 *   it (/cu124, /cu128, /cpu), whose wheels carry the build as a local label (2.6.0+cu124);
 * - a PyPI-style index (PyPI itself, or a mirror: most end in /simple): one build per platform, with no
 *   label. On Linux x86_64 that is a CUDA build (2.6.0: CUDA 12.4; it runs without a GPU too), on
 *   Windows the CPU-only build.
 * Many users reach PyPI (or a national/corporate mirror of it) but not download.pytorch.org, so both work.
 */
export const TorchIndexLayout = z.enum(['torch', 'pypi'])
export type TorchIndexLayout = z.infer<typeof TorchIndexLayout>

/** Which kind an index is, and how that was found out (shown to the user; coded: core/env/messages.ts). */
export const TorchIndexFacts = z.object({
  layout: TorchIndexLayout,
  why: z.string(),
  code: z.string().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
})
export type TorchIndexFacts = z.infer<typeof TorchIndexFacts>

/** Index facts with their reason coded. */
export function indexFacts(layout: TorchIndexLayout, code: EnvCode, params: EnvParams = {}): TorchIndexFacts {
  const m = envText(code, params)
  return { layout, why: m.message, code, params }
}

/** The default index: download.pytorch.org/whl, a torch root. */
export const OFFICIAL_INDEX_FACTS = indexFacts('torch', 'torch_index_official')

/** One coded reason of the torch choice (the build's, the index's, what PyPI serves). */
export interface CodedReason {
  message: string
  code?: string | undefined
  params?: EnvParams | undefined
}

export const DEFAULT_TORCH_INDEX = 'https://download.pytorch.org/whl'
export { DEFAULT_PYPI_INDEX }

/**
 * The layout an address suggests when the index could not be asked: PEP 503 indexes conventionally end
 * in /simple (PyPI, Artifactory, Nexus, devpi's /+simple, the usual national mirrors); a torch root does not.
 */
export function layoutByName(url: string, asked?: 'no_page' | 'unasked'): TorchIndexFacts {
  const pypi = /\/\+?simple\/?$/i.test(url.trim())
  const code = `torch_index_name_${pypi ? 'pypi' : 'root'}${asked ? `_${asked}` : ''}` as EnvCode
  return indexFacts(pypi ? 'pypi' : 'torch', code, { url })
}

export const TorchSourceErrorKind = z.enum(['torch_index_cpu_only', 'torch_not_on_index', 'driver_too_old'])
export type TorchSourceErrorKind = z.infer<typeof TorchSourceErrorKind>

export interface TorchSource {
  torch: string
  torchvision: string
  /** The build: cu124, cu128, cpu (for a PyPI-style index, the one it serves on this OS). */
  index: string
  layout: TorchIndexLayout
  /** The --index-url of the torch step. */
  indexUrl: string
  /** What the installed torch must report as torch.version.cuda (null: a CPU build). */
  cuda: string | null
  /** The requirement strings the torch step installs. */
  pins: string[]
  /** Why this build (GPU, driver) and why this index ("; " between the reasons). */
  why: string
  /** The same reasons coded, for the UI's language; absent when one of them has no code. */
  whyParts?: Array<{ code: string; params: EnvParams }>
}

export interface TorchSourceError {
  kind: TorchSourceErrorKind
  message: string
  code: EnvCode
  params: EnvParams
}

const reasonOf = (f: TorchIndexFacts): CodedReason => ({ message: f.why, code: f.code, params: f.params })

/** The reasons joined as `why`, and coded when every one is. */
function reasons(list: CodedReason[]): Pick<TorchSource, 'why' | 'whyParts'> {
  const why = list.map((r) => r.message).join('; ')
  const coded = list.every((r) => r.code !== undefined)
  return coded ? { why, whyParts: list.map((r) => ({ code: r.code!, params: r.params ?? {} })) } : { why }
}

/**
 * The torch step's source for a chosen build. A torch root gives exactly the build (pinned with its
 * label, so Repair can replace another build of the same version). A PyPI-style index gives whatever
 * build it serves on this OS, so that one must fit: refused, with the reason, when it is CPU-only for
 * a GPU (Windows) or needs a newer driver than this one. Pure.
 */
export function torchSource(args: {
  build: TorchBuild
  /** Why this build (coded: torch_why_*). */
  why: CodedReason
  /** auto: a GPU build is wanted; cpu: a CPU environment on purpose. */
  choice: 'auto' | 'cpu'
  os: 'linux' | 'win32'
  driverCuda: string | null
  gpuLabel: string
  indexBase: string
  facts: TorchIndexFacts
}): TorchSource | { error: TorchSourceError } {
  const { build: b, os, facts } = args
  const base = args.indexBase.replace(/\/+$/, '')
  if (facts.layout === 'torch') {
    return {
      torch: b.torch,
      torchvision: b.torchvision,
      index: b.index,
      layout: 'torch',
      indexUrl: `${base}/${b.index}`,
      cuda: cudaOfIndex(b.index),
      // The exact build (2.6.0+cu124): a bare "2.6.0" is satisfied by any installed 2.6.0 build
      // (+cpu, +cu118), so Repair could not replace a wrong build with the planned one.
      pins: [`torch==${b.torch}+${b.index}`, `torchvision==${b.torchvision}+${b.index}`],
      ...reasons([args.why, reasonOf(facts)]),
    }
  }
  const served = pypiTorchIndex(b.torch, os)
  const osName = os === 'win32' ? 'Windows' : 'Linux'
  const refuse = (kind: TorchSourceErrorKind, code: EnvCode, params: EnvParams) => ({
    error: { kind, ...envText(code, params) },
  })
  if (!served) {
    return refuse('torch_not_on_index', 'plan_torch_not_on_pypi', {
      torch: b.torch,
      os: osName,
      index: args.indexBase,
      build: b.index,
    })
  }
  if (args.choice === 'auto' && served === 'cpu') {
    return refuse('torch_index_cpu_only', 'plan_torch_pypi_cpu_only', {
      index: args.indexBase,
      torch: b.torch,
      os: osName,
      gpu: args.gpuLabel,
      build: b.index,
    })
  }
  const cuda = cudaOfIndex(served)
  if (args.choice === 'auto' && cuda && args.driverCuda && compareVersionPrefix(args.driverCuda, cuda) < 0) {
    return refuse('driver_too_old', 'plan_torch_pypi_driver_too_old', {
      torch: b.torch,
      os: osName,
      cuda,
      have: args.driverCuda,
      build: b.index,
    })
  }
  const what =
    served === 'cpu' || !cuda
      ? envText('torch_pypi_cpu', { torch: b.torch, os: osName })
      : envText(args.choice === 'cpu' ? 'torch_pypi_cuda_on_cpu' : 'torch_pypi_cuda', {
          torch: b.torch,
          os: osName,
          cuda,
        })
  return {
    torch: b.torch,
    torchvision: b.torchvision,
    index: served,
    layout: 'pypi',
    indexUrl: base,
    cuda,
    // No label on PyPI: the build is checked after the install (torch.version.cuda) instead.
    pins: [`torch==${b.torch}`, `torchvision==${b.torchvision}`],
    ...reasons([args.why, reasonOf(facts), what]),
  }
}
