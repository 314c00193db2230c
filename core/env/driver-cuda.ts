import { compareVersionPrefix } from './versions'

/**
 * Highest CUDA version a driver supports, from the driver version, for nvidia-smi outputs whose header
 * has no "CUDA Version" (drivers before 410.72 print none). Values: NVIDIA's CUDA toolkit release notes,
 * minimum driver for each toolkit's GA release (Linux / Windows numbering differ).
 */
const TABLE: ReadonlyArray<{ cuda: string; linux: string; win32: string }> = [
  { cuda: '12.8', linux: '570.26', win32: '570.65' },
  { cuda: '12.6', linux: '560.28.03', win32: '560.76' },
  { cuda: '12.4', linux: '550.54.14', win32: '551.61' },
  { cuda: '12.1', linux: '530.30.02', win32: '531.14' },
  { cuda: '12.0', linux: '525.60.13', win32: '527.41' },
  { cuda: '11.8', linux: '520.61.05', win32: '520.06' },
  { cuda: '11.0', linux: '450.36.06', win32: '451.22' },
  { cuda: '10.0', linux: '410.48', win32: '411.31' },
]

export function cudaFromDriver(driverVersion: string, os: 'linux' | 'win32'): string | null {
  for (const row of TABLE) {
    if (compareDriver(driverVersion, row[os]) >= 0) return row.cuda
  }
  return null
}

/** Driver versions compare over all their parts ("550.54.14" > "550.54"). */
function compareDriver(a: string, b: string): number {
  const c = compareVersionPrefix(a, b)
  if (c !== 0) return c
  return a.split('.').length - b.split('.').length
}
