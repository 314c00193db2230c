import { z } from 'zod'

/**
 * The sd-scripts versions we install, as data. Adding the next sd-scripts release means adding an entry
 * here (tag, Python range, torch builds, extra packages); the plan function reads nothing else.
 */

/** One torch build line: which torch/torchvision, from which CUDA index, and the driver CUDA it needs. */
export const TorchBuild = z.object({
  torch: z.string(),
  torchvision: z.string(),
  /** The index suffix on download.pytorch.org/whl (cu124, cu128, cpu). */
  index: z.string(),
  /** Lowest driver CUDA version (as nvidia-smi prints it, e.g. "12.4") that runs this build; null for CPU. */
  minDriverCuda: z.string().nullable(),
})
export type TorchBuild = z.infer<typeof TorchBuild>

export const SdScriptsVersion = z.object({
  /** Git tag, also the name users pass with --version. */
  tag: z.string(),
  /** The commit the tag points to (first 8 hex digits), to confirm a checkout. */
  commit: z.string(),
  released: z.string(),
  python: z.object({
    min: z.string(),
    max: z.string(),
    /** what `uv python install` fetches */ install: z.string(),
  }),
  torch: z.object({
    /** Newest CUDA first: the plan takes the first the driver supports. */
    cuda: z.array(TorchBuild).min(1),
    /** GPUs of compute capability >= minComputeCapability need these builds (RTX 50 / Blackwell: 12.0). */
    newArch: z.object({ minComputeCapability: z.number(), builds: z.array(TorchBuild).min(1) }),
    cpu: TorchBuild,
    /** CUDA builds of this torch line dropped GPUs older than this (Kepler and before). */
    minComputeCapability: z.number(),
  }),
  /** Packages sd-scripts' code imports that its requirements.txt does not list (LyCORIS, DAdaptation). */
  extras: z.array(z.string()),
  /** Scripts our app runs; verify imports them (with torch). */
  trainingScripts: z.array(z.string()),
  /** Rough installed sizes for the disk pre-check, in bytes. */
  sizes: z.object({
    source: z.number(),
    python: z.number(),
    uv: z.number(),
    venv: z.number(),
    torchCuda: z.number(),
    torchCpu: z.number(),
    requirements: z.number(),
    extras: z.number(),
    tokenizers: z.number(),
  }),
})
export type SdScriptsVersion = z.infer<typeof SdScriptsVersion>

const MB = 1024 * 1024
const GB = 1024 * MB

/** Torch 2.6.0 is what sd-scripts v0.10.1's README installs and tests. */
const torch26 = (index: string, minDriverCuda: string | null): TorchBuild => ({
  torch: '2.6.0',
  torchvision: '0.21.0',
  index,
  minDriverCuda,
})

export const SUPPORTED_VERSIONS: readonly SdScriptsVersion[] = [
  {
    tag: 'v0.10.1',
    commit: 'ae72efb9',
    released: '2026-02-13',
    // README: 3.10 tested, 3.11 works; kohya_ss pins >=3.10,<3.12.
    python: { min: '3.10', max: '3.11', install: '3.11' },
    torch: {
      cuda: [torch26('cu124', '12.4'), torch26('cu121', '12.1'), torch26('cu118', '11.8')],
      // README: "For RTX 50 series GPUs, PyTorch 2.8.0 with CUDA 12.8/12.9 should be used."
      newArch: {
        minComputeCapability: 12.0,
        builds: [{ torch: '2.8.0', torchvision: '0.23.0', index: 'cu128', minDriverCuda: '12.8' }],
      },
      cpu: torch26('cpu', null),
      minComputeCapability: 5.0,
    },
    extras: ['lycoris-lora==3.2.0.post2', 'dadaptation==3.2'],
    trainingScripts: ['sdxl_train_network', 'sdxl_train'],
    sizes: {
      source: 60 * MB,
      python: 120 * MB,
      uv: 60 * MB,
      venv: 30 * MB,
      torchCuda: 6 * GB,
      torchCpu: 1 * GB,
      requirements: 2.5 * GB,
      extras: 50 * MB,
      tokenizers: 10 * MB,
    },
  },
]

export const DEFAULT_VERSION = 'v0.10.1'

/**
 * The build PyPI itself serves for a torch version (its wheels carry no local label such as +cu124):
 * on Linux x86_64 the CUDA build named here (it also runs on a machine without a GPU); on Windows the
 * CPU-only build. A PyPI-style index (PyPI, or a mirror of it) therefore gives a Windows GPU user no
 * CUDA at all. Versions missing here are not known to be on PyPI.
 */
export const PYPI_TORCH_BUILDS: Readonly<Record<string, { linux: string; win32: string }>> = {
  '2.6.0': { linux: 'cu124', win32: 'cpu' },
  '2.8.0': { linux: 'cu128', win32: 'cpu' },
}

/** The index suffix of the build PyPI serves for this torch on this OS ("cu124", "cpu"), or null. */
export function pypiTorchIndex(torch: string, os: 'linux' | 'win32'): string | null {
  return PYPI_TORCH_BUILDS[torch]?.[os] ?? null
}

/** The CUDA version a build reports as torch.version.cuda: "cu124" → "12.4", "cpu" → null. */
export function cudaOfIndex(index: string): string | null {
  const m = /^cu(\d+)(\d)$/.exec(index)
  return m ? `${Number(m[1])}.${m[2]}` : null
}

export function findVersion(tag: string): SdScriptsVersion | undefined {
  return SUPPORTED_VERSIONS.find((v) => v.tag === tag)
}

/** "3.10.13" → [3, 10, 13]; non-numeric parts become 0 so a bad string never throws. */
export function parseVersion(text: string): number[] {
  return text
    .trim()
    .split('.')
    .map((p) => Number.parseInt(p, 10))
    .map((n) => (Number.isFinite(n) ? n : 0))
}

/** Compares dotted versions numerically over the parts both have ("3.11.7" vs "3.11" → 0). */
export function compareVersionPrefix(a: string, b: string): number {
  const pa = parseVersion(a)
  const pb = parseVersion(b)
  const n = Math.min(pa.length, pb.length)
  for (let i = 0; i < n; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

/** Is a Python version (e.g. "3.11.7") inside the version's supported minor range? */
export function pythonSupported(version: SdScriptsVersion, python: string): boolean {
  return (
    compareVersionPrefix(python, version.python.min) >= 0 &&
    compareVersionPrefix(python, version.python.max) <= 0
  )
}
