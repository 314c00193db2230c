import { z } from 'zod'
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

/** Which kind an index is, and how that was found out (shown to the user). */
export const TorchIndexFacts = z.object({ layout: TorchIndexLayout, why: z.string() })
export type TorchIndexFacts = z.infer<typeof TorchIndexFacts>

export const DEFAULT_TORCH_INDEX = 'https://download.pytorch.org/whl'
export { DEFAULT_PYPI_INDEX }

/**
 * The layout an address suggests when the index could not be asked: PEP 503 indexes conventionally end
 * in /simple (PyPI, Artifactory, Nexus, devpi's /+simple, the usual national mirrors); a torch root does not.
 */
export function layoutByName(url: string): TorchIndexFacts {
  const pypi = /\/\+?simple\/?$/i.test(url.trim())
  return pypi
    ? { layout: 'pypi', why: `${url} ends in /simple, so it is taken as a PyPI-style index` }
    : { layout: 'torch', why: `${url} is taken as a torch index root (/<build> is appended)` }
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
  /** Why this build (GPU, driver) and why this index. */
  why: string
}

/**
 * The torch step's source for a chosen build. A torch root gives exactly the build (pinned with its
 * label, so Repair can replace another build of the same version). A PyPI-style index gives whatever
 * build it serves on this OS, so that one must fit: refused, with the reason, when it is CPU-only for
 * a GPU (Windows) or needs a newer driver than this one. Pure.
 */
export function torchSource(args: {
  build: TorchBuild
  why: string
  /** auto: a GPU build is wanted; cpu: a CPU environment on purpose. */
  choice: 'auto' | 'cpu'
  os: 'linux' | 'win32'
  driverCuda: string | null
  gpuLabel: string
  indexBase: string
  facts: TorchIndexFacts
}): TorchSource | { error: { kind: TorchSourceErrorKind; message: string } } {
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
      why: `${args.why}; ${facts.why}`,
    }
  }
  const served = pypiTorchIndex(b.torch, os)
  const osName = os === 'win32' ? 'Windows' : 'Linux'
  if (!served) {
    return {
      error: {
        kind: 'torch_not_on_index',
        message:
          `torch ${b.torch} is not known to be on PyPI for ${osName}, so the PyPI-style index ${args.indexBase} ` +
          `cannot provide the ${b.index} build. Give a torch index root instead (--torch-index-url ` +
          `https://download.pytorch.org/whl, or a mirror of it).`,
      },
    }
  }
  if (args.choice === 'auto' && served === 'cpu') {
    return {
      error: {
        kind: 'torch_index_cpu_only',
        message:
          `${args.indexBase} is a PyPI-style index, and PyPI's torch ${b.torch} for ${osName} is the CPU-only build: ` +
          `${args.gpuLabel} would not be used and SDXL training would not run in practice. Give a torch index with ` +
          `CUDA builds (--torch-index-url https://download.pytorch.org/whl, or a mirror of it that has /${b.index}), ` +
          'or choose torch "cpu" (--torch cpu) if a CPU-only environment is what you want.',
      },
    }
  }
  const cuda = cudaOfIndex(served)
  if (args.choice === 'auto' && cuda && args.driverCuda && compareVersionPrefix(args.driverCuda, cuda) < 0) {
    return {
      error: {
        kind: 'driver_too_old',
        message:
          `PyPI's torch ${b.torch} for ${osName} is built for CUDA ${cuda}, but the NVIDIA driver supports CUDA ` +
          `${args.driverCuda} at most. Update the NVIDIA driver, or give a torch index root that has the ${b.index} ` +
          `build (--torch-index-url https://download.pytorch.org/whl, or a mirror of it).`,
      },
    }
  }
  const what =
    served === 'cpu'
      ? `PyPI's torch ${b.torch} for ${osName} is the CPU-only build`
      : `PyPI's torch ${b.torch} for ${osName} is the CUDA ${cuda} build${args.choice === 'cpu' ? ' (it runs on the CPU too)' : ''}`
  return {
    torch: b.torch,
    torchvision: b.torchvision,
    index: served,
    layout: 'pypi',
    indexUrl: base,
    cuda,
    // No label on PyPI: the build is checked after the install (torch.version.cuda) instead.
    pins: [`torch==${b.torch}`, `torchvision==${b.torchvision}`],
    why: `${args.why}; ${facts.why}; ${what}`,
  }
}
