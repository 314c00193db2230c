import type { GpuInfo, GpuProcess } from './types'

/**
 * Pure parsers for nvidia-smi output. The command lines they belong to are in
 * electron/services/gpu/nvidia-smi.ts. (First version: the GPU helper makes these robust and tested.)
 */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'temperature.gpu',
  'driver_version',
] as const

export const COMPUTE_APPS_FIELDS = ['pid', 'used_memory', 'gpu_uuid'] as const

export interface ParsedGpuQuery {
  gpus: GpuInfo[]
  driverVersion: string | null
}

function num(value: string | undefined): number | null {
  if (value === undefined) return null
  const v = value.trim()
  if (v === '' || v.startsWith('[')) return null
  const n = Number(v)
  return Number.isFinite(n) ? n : null
}

function str(value: string | undefined): string | null {
  if (value === undefined) return null
  const v = value.trim()
  return v === '' || v.startsWith('[') ? null : v
}

export function parseGpuQuery(text: string): ParsedGpuQuery {
  const gpus: GpuInfo[] = []
  let driverVersion: string | null = null
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue
    const f = line.split(',')
    gpus.push({
      index: num(f[0]) ?? gpus.length,
      uuid: str(f[1]),
      name: str(f[2]),
      memory_total_mib: num(f[3]),
      memory_used_mib: num(f[4]),
      memory_free_mib: num(f[5]),
      utilization_percent: num(f[6]),
      temperature_c: num(f[7]),
    })
    driverVersion ??= str(f[8])
  }
  return { gpus, driverVersion }
}

export function parseComputeApps(text: string): GpuProcess[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const f = line.split(',')
      return { pid: num(f[0]) ?? -1, used_memory_mib: num(f[1]), gpu_uuid: str(f[2]) }
    })
}

export function parseCudaVersion(header: string): string | null {
  const m = /CUDA Version:\s*([0-9.]+)/.exec(header)
  return m?.[1] ?? null
}
