/*
 * GPU memory when training on several GPUs (accelerate's DDP, one process per GPU).
 *
 * Each process holds a full replica of the models, optimizer state and activations of its own batch
 * (`batch_size` is per process in sd-scripts), so a GPU's peak is the single-GPU peak at that batch,
 * plus DDP's gradient buckets: the reducer keeps a flat copy of every trainable gradient to exchange
 * between GPUs, unless `--ddp_gradient_as_bucket_view` makes the gradients views of those buckets
 * (PyTorch DistributedDataParallel docs: "the saved memory size will be equal to the total gradients
 * size"). NCCL's own buffers (some hundred MiB) are not modelled.
 *
 * The run fits when the smallest chosen GPU holds that peak: every replica needs the same memory.
 */

const GIB = 1024 ** 3

export interface PerGpuInput {
  /** The single-process prediction (core/vram/model predict().peak_gib). */
  peak_gib: number
  trainable_params: number
  /** Trainable weights (and so their gradients) in 16 bits: full_bf16 / full_fp16. */
  half_gradients: boolean
  /** --ddp_gradient_as_bucket_view: no separate bucket copy. */
  bucket_view: boolean
  processes: number
  batch_size: number
  gradient_accumulation_steps: number
}

export interface GpuTotal {
  index: number
  name: string | null
  memory_total_mib: number | null
}

export interface PerGpuFit {
  processes: number
  /** The DDP bucket copy added per GPU (0 for one process or with bucket view). */
  ddp_buckets_gib: number
  /** What each chosen GPU needs. */
  per_gpu_gib: number
  /** Images per optimizer step over all GPUs: batch × processes × accumulation. */
  effective_batch: number
  /** The chosen GPU with the least memory (what the prediction is compared against); null when unknown. */
  smallest: { index: number; name: string | null; total_gib: number } | null
  /** Whether the smallest chosen GPU holds the per-GPU peak; null when no total is known. */
  fits: boolean | null
}

const round = (x: number) => Math.round(x * 1000) / 1000

/** The flat gradient copy DDP keeps per GPU, in GiB. */
export function ddpBucketsGib(
  input: Pick<PerGpuInput, 'trainable_params' | 'half_gradients' | 'bucket_view' | 'processes'>,
): number {
  if (input.processes <= 1 || input.bucket_view) return 0
  return round((input.trainable_params * (input.half_gradients ? 2 : 4)) / GIB)
}

export function perGpuFit(input: PerGpuInput, chosen: readonly GpuTotal[] = []): PerGpuFit {
  const processes = Number.isFinite(input.processes) ? Math.max(1, Math.floor(input.processes)) : 1
  const buckets = ddpBucketsGib({ ...input, processes })
  const perGpu = round(input.peak_gib + buckets)
  let smallest: PerGpuFit['smallest'] = null
  for (const g of chosen) {
    if (g.memory_total_mib === null || !(g.memory_total_mib > 0)) continue
    const total = g.memory_total_mib / 1024
    if (!smallest || total < smallest.total_gib) smallest = { index: g.index, name: g.name, total_gib: total }
  }
  return {
    processes,
    ddp_buckets_gib: buckets,
    per_gpu_gib: perGpu,
    effective_batch:
      Math.max(1, input.batch_size) * processes * Math.max(1, input.gradient_accumulation_steps),
    smallest,
    fits: smallest ? perGpu <= smallest.total_gib : null,
  }
}
