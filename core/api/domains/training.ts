import { z } from 'zod'
import { RunRecord } from '../../runs/record'
import { ValidationResult } from './configs'
import { request } from '../define'

/*
 * "Start training": a TrainingConfig becomes a run. The service validates it (with file checks),
 * resolves the active sd-scripts environment, writes the sd-scripts files into a per-run inputs folder,
 * builds the command and starts it through the runs service (docs/training.md).
 */

export const TrainStartInput = z
  .object({
    /** A TrainingConfig (core/config/schema.ts); checked by the configs validation, so every problem is named. */
    config: z.unknown(),
    /** GPU indexes (nvidia-smi order). One → the venv's Python runs the script; several → accelerate launch. */
    gpus: z.array(z.number().int().nonnegative()).max(64).optional(),
    /** Shown in the runs list; default: the output name and the training type. */
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
export type TrainStartInput = z.infer<typeof TrainStartInput>

export const TrainEnvironment = z.object({
  name: z.string(),
  kind: z.enum(['managed', 'external']),
  sd_scripts_dir: z.string(),
  python: z.string(),
  /** --tokenizer_cache_dir given to sd-scripts; null when the environment has none. */
  tokenizer_cache_dir: z.string().nullable(),
  /** Both SDXL tokenizers are cached, so the run goes offline (HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1). */
  offline: z.boolean(),
  hf_home: z.string().nullable(),
})
export type TrainEnvironment = z.infer<typeof TrainEnvironment>

export const TrainPreview = z.object({
  /** No validation errors and an environment: train.start would start it. */
  ready: z.boolean(),
  /** Everything that blocks the start, one message each (validation errors, a missing environment). */
  blocking: z.array(z.string()),
  validation: ValidationResult,
  environment: TrainEnvironment.nullable(),
  /** The rest is null when the config cannot be read or there is no environment. */
  script: z.string().nullable(),
  /** The command as spawned (argument array, no shell). */
  argv: z.array(z.string()).nullable(),
  /** The same quoted for this machine's shell, to show or paste. */
  display: z.string().nullable(),
  cwd: z.string().nullable(),
  /** Environment variables added for the run (CUDA_VISIBLE_DEVICES, offline flags, OMP_NUM_THREADS, HF_HOME). */
  env: z.record(z.string(), z.string()).nullable(),
  /** Where train.start writes the files (a new folder per run). */
  inputs_dir: z.string().nullable(),
  /** File name → content: config.toml, dataset.toml, prompts.txt when sampling. */
  files: z.record(z.string(), z.string()).nullable(),
  /** Peak GPU memory the VRAM model predicts (MiB, per process). */
  predicted_peak_mib: z.number().nullable(),
  /** What the VRAM mapping had to assume. */
  prediction_notes: z.array(z.string()),
  save_configured: z.boolean().nullable(),
})
export type TrainPreview = z.infer<typeof TrainPreview>

export const requests = {
  'train.start': request(
    TrainStartInput,
    RunRecord,
    'Start (or queue) a training run from a config: validate, write the sd-scripts files, launch in the active environment',
  ),
  'train.preview': request(
    TrainStartInput,
    TrainPreview,
    'What train.start would do: validation, environment, command, files and predicted peak memory (starts nothing)',
  ),
}

export const events = {}
