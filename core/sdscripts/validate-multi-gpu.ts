import type { TrainingConfig as Config } from '../config/schema'
import { missingGpus, parseGpuIds } from '../gpu/selection'
import { scenarioFromConfig } from '../vram/from-config'
import { predict } from '../vram/model'
import { ddpBucketsGib } from '../vram/per-gpu'
import { label, msg } from './messages'
import type { Issue, ValidationContext } from './validate'

/*
 * What sd-scripts v0.10.1 does differently, or not at all, with several processes (accelerate's DDP):
 * - sdxl_train.py's fused backward pass and fused optimizer groups step the optimizer in a
 *   post-accumulate-grad hook, i.e. on the local gradient before DDP's all-reduce: the replicas drift.
 * - --ddp_timeout / --ddp_gradient_as_bucket_view / --ddp_static_graph only build DDP kwargs; with one
 *   process they are ignored (train_util.prepare_accelerator).
 * - latents cached in memory: every process encodes every image (the split by process index only
 *   applies to the disk cache, train_util.cache_latents).
 * - Windows: the process group uses gloo (no NCCL), gradients go through the CPU.
 * - each process has its own DataLoader workers.
 * - batch_size is per process; steps per epoch are len(dataloader) / processes / accumulation
 *   (core/config/steps.ts and core/dataset/plan.ts compute the same).
 */

const DDP_OPTIONS = ['ddp_timeout', 'ddp_gradient_as_bucket_view', 'ddp_static_graph'] as const

/** The extra option is set to something other than "off". */
function extraOn(c: Config, name: string): boolean {
  const v = c.extra_args[name]
  return v !== undefined && v !== false
}

/** Below this the bucket copy is noise next to the prediction's own error. */
const BUCKETS_WORTH_SAYING_GIB = 0.5

export interface MultiGpuRule {
  id: string
  check: (c: Config, ctx: ValidationContext) => Issue[]
}

export const multiGpuRules: MultiGpuRule[] = [
  {
    id: 'launch.gpu_ids',
    check: (c) => {
      if (c.launch.gpu_ids === undefined) return []
      const parsed = parseGpuIds(c.launch.gpu_ids)
      if (parsed.ok) return []
      const p = parsed.problem
      const issue: Issue = {
        rule: 'launch.gpu_ids',
        severity: 'error',
        field: 'launch.gpu_ids',
        ...msg(p.code, p.params),
      }
      if (p.code === 'gpu_ids_duplicate') {
        const unique = [...new Set(c.launch.gpu_ids.split(',').map(Number))]
        issue.fix = {
          ...label('gpu_ids_unique', { ids: unique.join(',') }),
          set: [
            { path: 'launch.gpu_ids', value: unique.join(',') },
            { path: 'launch.num_processes', value: unique.length },
          ],
        }
      }
      return [issue]
    },
  },
  {
    id: 'launch.gpu_missing',
    check: (c, ctx) => {
      if (!ctx.gpus || ctx.gpus.length === 0 || c.launch.gpu_ids === undefined) return []
      const parsed = parseGpuIds(c.launch.gpu_ids)
      if (!parsed.ok) return []
      const missing = missingGpus(parsed.ids, ctx.gpus)
      if (missing.length === 0) return []
      const present = parsed.ids.filter((i) => !missing.includes(i))
      const issue: Issue = {
        rule: 'launch.gpu_missing',
        severity: 'error',
        field: 'launch.gpu_ids',
        ...msg('gpu_missing', { missing: missing.join(', '), present: ctx.gpus.join(', ') }),
      }
      const keep = present.length > 0 ? present : [ctx.gpus[0]!]
      issue.fix = {
        ...label('gpu_ids_present', { ids: keep.join(',') }),
        set: [
          { path: 'launch.gpu_ids', value: keep.join(',') },
          { path: 'launch.num_processes', value: keep.length },
        ],
      }
      return [issue]
    },
  },
  {
    id: 'multi_gpu.fused_backward',
    check: (c) =>
      c.launch.num_processes > 1 && c.memory.fused_backward_pass
        ? [
            {
              rule: 'multi_gpu.fused_backward',
              severity: 'error',
              field: 'memory.fused_backward_pass',
              ...msg('multi_gpu_fused_backward'),
              fix: { ...label('fused_off'), set: [{ path: 'memory.fused_backward_pass', value: false }] },
            },
          ]
        : [],
  },
  {
    id: 'multi_gpu.fused_groups',
    check: (c) =>
      c.launch.num_processes > 1 && c.type === 'dreambooth' && extraOn(c, 'fused_optimizer_groups')
        ? [
            {
              rule: 'multi_gpu.fused_groups',
              severity: 'error',
              field: 'extra_args.fused_optimizer_groups',
              ...msg('multi_gpu_fused_groups'),
              fix: {
                ...label('remove_arg', { name: '--fused_optimizer_groups' }),
                set: [{ path: 'extra_args.fused_optimizer_groups' }],
              },
            },
          ]
        : [],
  },
  {
    id: 'multi_gpu.ddp_single',
    check: (c) =>
      c.launch.num_processes > 1
        ? []
        : DDP_OPTIONS.filter((name) => extraOn(c, name)).map((name) => ({
            rule: 'multi_gpu.ddp_single',
            severity: 'warning' as const,
            field: `extra_args.${name}`,
            ...msg('multi_gpu_ddp_single', { name }),
            fix: { ...label('remove_arg', { name: `--${name}` }), set: [{ path: `extra_args.${name}` }] },
          })),
  },
  {
    id: 'multi_gpu.cache_in_memory',
    check: (c) =>
      c.launch.num_processes > 1 && c.memory.cache_latents && !c.memory.cache_latents_to_disk
        ? [
            {
              rule: 'multi_gpu.cache_in_memory',
              severity: 'warning',
              field: 'memory.cache_latents_to_disk',
              ...msg('multi_gpu_cache_in_memory', { processes: c.launch.num_processes }),
              fix: {
                ...label('cache_to_disk'),
                set: [{ path: 'memory.cache_latents_to_disk', value: true }],
              },
            },
          ]
        : [],
  },
  {
    id: 'multi_gpu.windows_gloo',
    check: (c, ctx) =>
      c.launch.num_processes > 1 && ctx.platform === 'windows'
        ? [
            {
              rule: 'multi_gpu.windows_gloo',
              severity: 'warning',
              field: 'launch.gpu_ids',
              ...msg('multi_gpu_windows_gloo', { processes: c.launch.num_processes }),
            },
          ]
        : [],
  },
  {
    id: 'multi_gpu.ddp_buckets',
    check: (c, ctx) => {
      if (c.launch.num_processes <= 1 || extraOn(c, 'ddp_gradient_as_bucket_view')) return []
      let trainable: number
      try {
        const { scenario } = scenarioFromConfig(c, ctx.platform === 'windows' ? 'windows' : 'linux')
        trainable = predict(scenario).trainable_params
      } catch {
        return []
      }
      const gib = ddpBucketsGib({
        trainable_params: trainable,
        half_gradients: c.memory.full_bf16 || c.memory.full_fp16,
        bucket_view: false,
        processes: c.launch.num_processes,
      })
      if (gib < BUCKETS_WORTH_SAYING_GIB) return []
      return [
        {
          rule: 'multi_gpu.ddp_buckets',
          severity: 'info',
          field: 'extra_args',
          ...msg('multi_gpu_ddp_buckets', { gib: gib.toFixed(1) }),
          fix: {
            ...label('bucket_view'),
            set: [{ path: 'extra_args.ddp_gradient_as_bucket_view', value: true }],
          },
        },
      ]
    },
  },
  {
    id: 'multi_gpu.workers',
    check: (c) => {
      const n = c.launch.num_processes
      const w = c.memory.max_data_loader_n_workers
      return n > 1 && w > 0 && c.memory.persistent_data_loader_workers
        ? [
            {
              rule: 'multi_gpu.workers',
              severity: 'info',
              field: 'memory.max_data_loader_n_workers',
              ...msg('multi_gpu_workers', { processes: n, workers: w, total: n * w }),
            },
          ]
        : []
    },
  },
  {
    id: 'multi_gpu.effective_batch',
    check: (c) => {
      const n = c.launch.num_processes
      if (n <= 1) return []
      const batch = c.training.batch_size
      return [
        {
          rule: 'multi_gpu.effective_batch',
          severity: 'info',
          field: 'training.batch_size',
          ...msg('multi_gpu_effective_batch', {
            processes: n,
            batch,
            effective: batch * n * c.training.gradient_accumulation_steps,
          }),
        },
      ]
    },
  },
]
