import { z } from 'zod'

/** One GPU as nvidia-smi reports it. Fields nvidia-smi reports as [N/A] or [Not Supported] are null. */
export const GpuInfo = z.object({
  index: z.number().int(),
  uuid: z.string().nullable(),
  name: z.string().nullable(),
  memory_total_mib: z.number().nullable(),
  memory_used_mib: z.number().nullable(),
  memory_free_mib: z.number().nullable(),
  utilization_percent: z.number().nullable(),
  temperature_c: z.number().nullable(),
})
export type GpuInfo = z.infer<typeof GpuInfo>

/** A process using GPU memory (from --query-compute-apps). */
export const GpuProcess = z.object({
  pid: z.number().int(),
  used_memory_mib: z.number().nullable(),
  gpu_uuid: z.string().nullable(),
})
export type GpuProcess = z.infer<typeof GpuProcess>

/** What `gpu list --json` prints and what the GPU page shows. */
export const GpuSnapshot = z.object({
  driver_version: z.string().nullable(),
  cuda_version: z.string().nullable(),
  gpus: z.array(GpuInfo),
})
export type GpuSnapshot = z.infer<typeof GpuSnapshot>

export const GpuErrorKind = z.enum(['not_found', 'failed', 'timeout', 'unparseable'])
export type GpuErrorKind = z.infer<typeof GpuErrorKind>

/** A live reading: the snapshot with per-process memory and when it was taken, or why there is none. */
export const GpuReading = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    at: z.number(),
    snapshot: GpuSnapshot,
    processes: z.array(GpuProcess),
  }),
  z.object({
    ok: z.literal(false),
    at: z.number(),
    error: z.object({ kind: GpuErrorKind, message: z.string() }),
  }),
])
export type GpuReading = z.infer<typeof GpuReading>

/** A GPU's CUDA compute capability ("8.9"), for picking a torch build. Null where the driver cannot tell. */
export const GpuComputeCapability = z.object({
  index: z.number().int(),
  name: z.string().nullable(),
  compute_cap: z.string().nullable(),
})
export type GpuComputeCapability = z.infer<typeof GpuComputeCapability>
