import { z } from 'zod'
import { commandLine, type ShellFlavor } from '../sdscripts/quote'
import { LogSummary } from './events'

/** Where a run is in its life. queued → starting → running → (stopping →) finished | failed | stopped. */
export const RunState = z.enum(['queued', 'starting', 'running', 'stopping', 'finished', 'failed', 'stopped'])
export type RunState = z.infer<typeof RunState>

export const ACTIVE_STATES: readonly RunState[] = ['starting', 'running', 'stopping']
export const ENDED_STATES: readonly RunState[] = ['finished', 'failed', 'stopped']

export const StopMode = z.enum(['now', 'after_checkpoint'])
export type StopMode = z.infer<typeof StopMode>

/** What starts a run: a command as an argument array (never a shell string), a folder, an environment. */
export const RunStartInput = z
  .object({
    command: z.array(z.string().min(1)).min(1, 'The command is empty: give the program and its arguments.'),
    cwd: z.string().min(1),
    /** Added to (or overriding) the app's environment for this run. */
    env: z.record(z.string(), z.string()).optional(),
    /** GPU indexes; become CUDA_VISIBLE_DEVICES and decide which queue the run waits in. */
    gpus: z.array(z.number().int().nonnegative()).optional(),
    name: z.string().optional(),
    /** Whatever settings produced the command (kept in the record for re-runs and reading later). */
    config: z.unknown().optional(),
    dataset_toml: z.string().optional(),
    /** Where checkpoints and samples land; read from `--output_dir` in the command when absent. */
    output_dir: z.string().optional(),
    /** Allows "stop after the next saved checkpoint"; read from --save_every_n_* when absent. */
    save_configured: z.boolean().optional(),
    /** A failure of this run holds the queue until it is resumed. */
    stop_on_failure: z.boolean().optional(),
    /** Hugging Face offline flags (safe once the tokenizers are cached). */
    offline: z.boolean().optional(),
    /** HF_HOME for the tokenizer cache. */
    hf_home: z.string().optional(),
    predicted_peak_mib: z.number().nonnegative().optional(),
  })
  .strict()
export type RunStartInput = z.infer<typeof RunStartInput>

export const RunRecord = z.object({
  id: z.string(),
  name: z.string(),
  state: RunState,
  /** Why it ended (or why it is stopping), in words a user can act on. */
  reason: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  command: z.array(z.string()),
  display_command: z.string(),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  gpus: z.array(z.number().int()).nullable(),
  output_dir: z.string().nullable(),
  save_configured: z.boolean(),
  stop_on_failure: z.boolean(),
  stop_requested: StopMode.nullable(),
  pid: z.number().int().nullable(),
  /** The app process that owns the pty; a record left "running" by a dead owner is a crash leftover. */
  owner_pid: z.number().int().nullable(),
  summary: LogSummary,
  /** Live figures from the last progress frame. */
  it_per_s: z.number().nullable(),
  remaining_s: z.number().nullable(),
  failure: z.object({ kind: z.string(), message: z.string() }).nullable(),
  samples: z.array(z.string()),
  /** GPU memory of the run's processes at the last reading (nvidia-smi), and the highest seen. */
  gpu_memory_mib: z.number().nullable().default(null),
  peak_gpu_memory_mib: z.number().nullable(),
  predicted_peak_mib: z.number().nullable(),
  rerun_of: z.string().nullable(),
  input: RunStartInput,
})
export type RunRecord = z.infer<typeof RunRecord>

/** A command as one line a user could paste into a shell (display only; runs never go through a shell). */
/**
 * The command as a line to paste into the platform's shell (POSIX sh: single quotes; Windows:
 * PowerShell), so nothing in a path ($, backticks, !, %) is expanded.
 */
export function displayCommand(command: readonly string[], flavor: ShellFlavor = 'posix'): string {
  return commandLine(command, flavor === 'windows' ? 'powershell' : 'posix')
}

/** Value of `--name value` or `--name=value` in an argument array. */
export function argValue(command: readonly string[], name: string): string | null {
  for (let i = 0; i < command.length; i++) {
    const a = command[i] ?? ''
    if (a === `--${name}`) return command[i + 1] ?? null
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3)
  }
  return null
}
