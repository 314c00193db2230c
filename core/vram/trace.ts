import { stringify } from 'smol-toml'
import { z } from 'zod'
import type { TrainingConfig } from '../config/schema'
import { buildConfigArgs, scriptFor } from '../sdscripts/render'

/**
 * The trace: the real sd-scripts model code run for one training step on PyTorch's meta device
 * (resources/vram/trace_sdxl.py + memtrace.py), counting live tensor bytes. This module is the pure
 * part: what a config becomes for the tracer (the same --config_file TOML a real run reads) and what
 * comes back (validated here, since it crosses a process boundary).
 */

export const TraceScript = z.enum(['sdxl_train_network', 'sdxl_train'])

export const TraceJob = z.object({
  id: z.string().min(1).max(200),
  script: TraceScript,
  /** The --config_file TOML sd-scripts reads for this config (core/sdscripts/render.ts). */
  config_toml: z.string(),
  /** The largest bucket: latents are (height/8) × (width/8). */
  resolution: z.object({
    width: z.number().int().min(64).max(8192),
    height: z.number().int().min(64).max(8192),
  }),
  batch_size: z.number().int().min(1).max(256),
})
export type TraceJob = z.infer<typeof TraceJob>

/**
 * A training config as the tracer's job. `resolution` overrides the config's (e.g. the dataset's largest
 * bucket, when it is smaller than the configured resolution).
 */
export function traceJob(
  config: TrainingConfig,
  opts: { id: string; resolution?: { width: number; height: number } },
): TraceJob {
  const { args } = buildConfigArgs(config, {})
  return TraceJob.parse({
    id: opts.id,
    script: scriptFor(config),
    config_toml: stringify(args),
    resolution: opts.resolution ?? {
      width: config.dataset.resolution.width,
      height: config.dataset.resolution.height,
    },
    batch_size: config.training.batch_size,
  })
}

/**
 * A fingerprint of what a job traces (script, config TOML, resolution, batch): two 32-bit FNV-1a hashes
 * of its canonical JSON. Trace data stores it, so a changed preset or renderer shows up as stale data.
 */
export function jobHash(job: TraceJob): string {
  const text = JSON.stringify([
    job.script,
    job.config_toml,
    job.resolution.width,
    job.resolution.height,
    job.batch_size,
  ])
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193) >>> 0
    b = Math.imul(b ^ c, 0x01000193) >>> 0
    b = (b + (b << 7)) >>> 0
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0')
}

/** Where the tracer attributes each live byte; the same ids as the gauge's breakdown terms. */
export const TraceTag = z.enum([
  'unet_weights',
  'text_encoders',
  'vae',
  'trainable_weights',
  'optimizer_state',
  'gradients',
  'activations',
  'autocast_copies',
  'fp8_copies',
  'lycoris_deltas',
  'optimizer_step',
  'vae_encode',
])
export type TraceTag = z.infer<typeof TraceTag>

export const TracePhase = z.enum(['text_encode', 'vae_encode', 'forward', 'backward', 'optimizer', 'setup'])
export type TracePhase = z.infer<typeof TracePhase>

const Breakdown = z.record(z.string(), z.number())

export const TraceOk = z.object({
  id: z.string().nullable(),
  ok: z.literal(true),
  /** torch.cuda.max_memory_allocated() of the step, GiB (no CUDA context, workspaces or allocator slack). */
  allocated_peak_gib: z.number().nonnegative(),
  phase: TracePhase,
  /** GiB by tag at the peak. */
  breakdown: Breakdown,
  /** The largest moment of each phase. */
  phases: z.record(z.string(), z.object({ gib: z.number(), breakdown: Breakdown })),
  trainable_params: z.number().int().nonnegative(),
  attention: z.string(),
  seconds: z.number(),
  cpu_seconds: z.number().optional(),
  ops: z.number().int().optional(),
  /** Versions of torch, transformers, diffusers, accelerate, lycoris-lora, bitsandbytes the trace ran on. */
  versions: z.record(z.string(), z.string()).optional(),
})
export type TraceOk = z.infer<typeof TraceOk>

export const TraceFailed = z.object({
  id: z.string().nullable().optional(),
  ok: z.literal(false),
  error: z.string(),
  traceback: z.string().optional(),
})
export type TraceFailed = z.infer<typeof TraceFailed>

export const TraceLine = z.discriminatedUnion('ok', [TraceOk, TraceFailed])
export type TraceLine = z.infer<typeof TraceLine>
