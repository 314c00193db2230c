import { z } from 'zod'

/**
 * Typed events read off an sd-scripts console stream. The parser (progress-parser.ts) produces them
 * (the runner adds `gpu_memory`), the runner stores them as JSON lines and streams them to the UI, and
 * summary.ts folds them into the few facts a run record needs.
 */

/** One value of a tqdm postfix (`avr_loss=0.121`): numbers when they parse, text otherwise ("nan", "inf"). */
export const PostfixValue = z.union([z.number(), z.string()])

export const ProgressEvent = z.object({
  type: z.literal('progress'),
  /** Which bar: the training `steps` bar, a validation bar, latent/text-encoder caching, or another one. */
  bar: z.enum(['train', 'validation', 'caching_latents', 'caching_text_encoder', 'other']),
  desc: z.string().nullable(),
  step: z.number().int().nonnegative(),
  /** null for a bar without a total (`37it [00:05, 7.38it/s]`). */
  total: z.number().int().nonnegative().nullable(),
  percent: z.number().nullable(),
  elapsed_s: z.number().nullable(),
  remaining_s: z.number().nullable(),
  /** Speed as printed: tqdm switches to s/it when slower than one step a second. */
  rate: z.object({ value: z.number(), unit: z.enum(['it/s', 's/it']) }).nullable(),
  /** Steps per second whichever unit was printed; null while unknown (`?it/s`). */
  it_per_s: z.number().nullable(),
  avr_loss: z.number().nullable(),
  postfix: z.record(z.string(), PostfixValue),
})

export const EpochEvent = z.object({
  type: z.literal('epoch'),
  epoch: z.number().int(),
  total: z.number().int(),
})

/** The "running training / 学習開始" block; fields the log did not print are null. */
export const StartupEvent = z.object({
  type: z.literal('startup'),
  variant: z.enum(['network', 'finetune']),
  train_images_with_repeats: z.number().int().nullable(),
  validation_images_with_repeats: z.number().int().nullable(),
  reg_images: z.number().int().nullable(),
  /** Fine-tune (`sdxl_train.py`) prints `num examples` instead of images × repeats. */
  num_examples: z.number().int().nullable(),
  batches_per_epoch: z.number().int().nullable(),
  epochs: z.number().int().nullable(),
  batch_size_per_device: z.array(z.number().int()).nullable(),
  gradient_accumulation_steps: z.number().int().nullable(),
  total_steps: z.number().int().nullable(),
})

export const CachingEvent = z.object({
  type: z.literal('caching'),
  what: z.enum(['latents', 'text_encoder']),
  phase: z.enum(['start', 'done']),
})

export const CheckpointEvent = z.object({
  type: z.literal('checkpoint'),
  action: z.enum(['saved', 'removed']),
  /** As printed (separators untouched). */
  path: z.string(),
  /** The last path component, whichever separator the log used. */
  file: z.string(),
})

export const StateEvent = z.object({
  type: z.literal('state_saved'),
  epoch: z.number().int().nullable(),
  step: z.number().int().nullable(),
  path: z.string().nullable(),
})

export const SampleEvent = z.object({
  type: z.literal('sampling'),
  step: z.number().int(),
})

export const SamplePromptEvent = z.object({
  type: z.literal('sample_prompt'),
  prompt: z.string(),
})

export const ModelSavedEvent = z.object({ type: z.literal('model_saved') })

export const FailureEvent = z.object({
  type: z.literal('failure'),
  kind: z.enum(['oom', 'traceback', 'exception', 'missing_module', 'nan_loss', 'no_data']),
  /** The line that told us (for an exception: `OutOfMemoryError: CUDA out of memory. …`). */
  message: z.string(),
  /** Exception class for `exception`, module name for `missing_module`. */
  detail: z.string().nullable(),
})

/**
 * GPU memory held by the run's processes, recorded by the runner (not read off the log) whenever the
 * sampled amount changes: the memory chart of the Runs page.
 */
export const GpuMemoryEvent = z.object({
  type: z.literal('gpu_memory'),
  /** Seconds since the run started. */
  elapsed_s: z.number().nonnegative(),
  used_mib: z.number().nonnegative(),
  /**
   * The same memory per GPU (nvidia-smi index → MiB) when the GPUs could be told apart: a run on
   * several GPUs has one process per GPU, each holding a full replica. Absent in older records.
   */
  per_gpu: z.record(z.string().regex(/^\d+$/), z.number().nonnegative()).optional(),
})

/** A line nothing above recognised; kept so nothing the trainer printed is lost. */
export const TextEvent = z.object({ type: z.literal('text'), line: z.string() })

export const RunEvent = z.discriminatedUnion('type', [
  ProgressEvent,
  EpochEvent,
  StartupEvent,
  CachingEvent,
  CheckpointEvent,
  StateEvent,
  SampleEvent,
  SamplePromptEvent,
  ModelSavedEvent,
  FailureEvent,
  TextEvent,
  GpuMemoryEvent,
])

export type ProgressEvent = z.infer<typeof ProgressEvent>
export type EpochEvent = z.infer<typeof EpochEvent>
export type StartupEvent = z.infer<typeof StartupEvent>
export type CheckpointEvent = z.infer<typeof CheckpointEvent>
export type FailureEvent = z.infer<typeof FailureEvent>
export type GpuMemoryEvent = z.infer<typeof GpuMemoryEvent>
export type RunEvent = z.infer<typeof RunEvent>

/** What `run parse-log` prints as "summary", and what a run record keeps of its log. */
export const LogSummary = z.object({
  total_steps: z.number().int().nullable(),
  last_step: z.number().int().nullable(),
  epochs_total: z.number().int().nullable(),
  last_epoch: z.number().int().nullable(),
  last_avr_loss: z.number().nullable(),
  error: z.enum(['oom', 'traceback']).nullable(),
  saved_checkpoints: z.array(z.string()),
})
export type LogSummary = z.infer<typeof LogSummary>
