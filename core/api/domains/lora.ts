import { z } from 'zod'
import { event, request } from '../define'
import { LoraInfo, LoraProblem } from '../../lora/inspect'
import { TrainingFromLora } from '../../lora/training-settings'
import { ToolInput } from '../../lora/tools'

/*
 * LoRA tools: inspect a file, and resize / merge / extract through sd-scripts' own scripts in the
 * active environment (docs/lora-tools.md). A tool run is a job: one at a time, under a pty, with its
 * progress, its log and a stop.
 */

const File = z.object({ file: z.string().trim().min(1, 'Choose a file.').max(4096) }).strict()
const Id = z.object({ id: z.string().min(1) }).strict()

export const LoraInspection = LoraInfo.extend({
  file: z.string(),
  size_bytes: z.number().int(),
  /** The training settings from its ss_* metadata, as a config for the Train page. */
  training: TrainingFromLora,
})
export type LoraInspection = z.infer<typeof LoraInspection>

export const ToolCheck = z.object({
  ok: z.boolean(),
  problems: z.array(LoraProblem),
  /** The command as it would run (display only), when an environment is there. */
  display: z.string().nullable(),
})
export type ToolCheck = z.infer<typeof ToolCheck>

export const JobState = z.enum(['queued', 'running', 'finished', 'failed', 'stopped'])
export type JobState = z.infer<typeof JobState>

export const LoraJob = z.object({
  id: z.string(),
  tool: z.enum(['resize', 'merge', 'extract']),
  state: JobState,
  reason: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  command: z.array(z.string()),
  display_command: z.string(),
  cwd: z.string(),
  output: z.string(),
  /** The script's current progress bar (tqdm): step of total. */
  progress: z
    .object({ step: z.number().int(), total: z.number().int().nullable(), desc: z.string().nullable() })
    .nullable(),
  /** The output file inspected after a successful run (a LoRA), for before/after. */
  result: LoraInfo.nullable(),
  input: ToolInput,
})
export type LoraJob = z.infer<typeof LoraJob>

export const requests = {
  'lora.inspect': request(
    File,
    LoraInspection,
    'Inspect a LoRA file: network kind, rank, alpha, modules, rank per block, metadata and training settings',
  ),
  'lora.check': request(
    ToolInput,
    ToolCheck,
    'Check a LoRA tool run (files, SDXL keys, ranks, output) without starting it',
  ),
  'lora.run': request(
    ToolInput,
    LoraJob,
    'Start a LoRA tool (resize, merge, extract) in the active environment',
  ),
  'lora.jobs': request(z.object({}).strict(), z.array(LoraJob), 'LoRA tool jobs, newest first'),
  'lora.job': request(Id, LoraJob, 'One LoRA tool job'),
  'lora.stop': request(Id, LoraJob, 'Stop a LoRA tool job (its half-written output is removed)'),
  'lora.log': request(
    Id,
    z.object({ text: z.string(), truncated: z.boolean() }),
    "A LoRA tool job's console log",
  ),
}

export const events = {
  'lora.job': event(
    z.object({ id: z.string().optional() }).strict(),
    z.object({ job: LoraJob, output: z.string() }),
    'LoRA tool jobs as they change, with new console output (all jobs, or one)',
  ),
}
