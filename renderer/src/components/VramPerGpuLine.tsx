import { Text } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { TrainingConfig } from '../../../core/config/schema'
import { parseGpuIds } from '../../../core/gpu/selection'
import { perGpuFit } from '../../../core/vram/per-gpu'
import { useSubscription } from '../api/hooks'

/** What the gauge's per-GPU line needs from the config (several processes only). */
export interface MultiGpuLaunch {
  processes: number
  gpu_ids: number[]
  batch_size: number
  gradient_accumulation_steps: number
  half_gradients: boolean
  bucket_view: boolean
}

/** The config's multi-GPU launch, or undefined for one process (the gauge then says nothing more). */
export function multiGpuLaunch(c: TrainingConfig): MultiGpuLaunch | undefined {
  if (c.launch.num_processes <= 1) return undefined
  const ids = parseGpuIds(c.launch.gpu_ids ?? '')
  const view = c.extra_args.ddp_gradient_as_bucket_view
  return {
    processes: c.launch.num_processes,
    gpu_ids: ids.ok ? ids.ids : [],
    batch_size: c.training.batch_size,
    gradient_accumulation_steps: c.training.gradient_accumulation_steps,
    half_gradients: c.memory.full_bf16 || c.memory.full_fp16,
    bucket_view: view !== undefined && view !== false,
  }
}

/**
 * One line under the gauge for a run on several GPUs: each process holds a full replica, so the need
 * is per GPU (the single-GPU peak at the per-process batch plus DDP's gradient buckets, core/vram/per-gpu),
 * compared with the smallest chosen GPU; and the effective batch.
 */
export function VramPerGpuLine({
  launch,
  prediction,
}: {
  launch: MultiGpuLaunch
  prediction: { peak_gib: number; trainable_params: number }
}) {
  const { t, i18n } = useTranslation('vram')
  const { data } = useSubscription('gpu.watch', {})
  const gpus = data?.ok ? data.snapshot.gpus.filter((g) => launch.gpu_ids.includes(g.index)) : []
  const fit = perGpuFit({ ...prediction, ...launch }, gpus)
  const num = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1, minimumFractionDigits: 1 })
  return (
    <Text size="xs" c={fit.fits === false ? 'red' : 'dimmed'} data-testid="vram-per-gpu">
      {t('perGpu.line', {
        count: fit.processes,
        gib: num.format(fit.per_gpu_gib),
        buckets: num.format(fit.ddp_buckets_gib),
        batch: fit.effective_batch,
      })}
      {fit.smallest
        ? ` ${t('perGpu.smallest', { index: fit.smallest.index, name: fit.smallest.name ?? 'GPU', total: num.format(fit.smallest.total_gib) })}`
        : ''}
    </Text>
  )
}
