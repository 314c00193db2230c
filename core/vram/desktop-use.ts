import type { GpuReading } from '../gpu/types'

const MIB_PER_GIB = 1024

/**
 * Memory the desktop and other programs already use on a GPU, GiB: nvidia-smi's used memory minus the
 * compute processes' own (a training run is one), so a run in progress is not counted against itself.
 * null when it cannot be told: no reading, or a compute process whose memory the driver does not report
 * (Windows often reports none); callers then keep their last known value.
 */
export function desktopUseGib(reading: GpuReading | undefined, gpuIndex: number | null): number | null {
  if (!reading?.ok || gpuIndex === null) return null
  const gpu = reading.snapshot.gpus.find((g) => g.index === gpuIndex)
  if (!gpu || gpu.memory_used_mib === null) return null
  const mine = reading.processes.filter((p) => !gpu.uuid || !p.gpu_uuid || p.gpu_uuid === gpu.uuid)
  if (mine.some((p) => p.used_memory_mib === null)) return null
  const compute = mine.reduce((sum, p) => sum + (p.used_memory_mib ?? 0), 0)
  return Math.max(0, gpu.memory_used_mib - compute) / MIB_PER_GIB
}
