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

/** An earlier part of a resumed run: how it ended, and where the next part took over. */
export const RunSegment = z.object({
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  state: RunState,
  reason: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  command: z.array(z.string()),
  /** The saved state this part resumed from (null for the first part). */
  resume_from: z.string().nullable(),
  last_step: z.number().int().nullable(),
  last_avr_loss: z.number().nullable(),
})
export type RunSegment = z.infer<typeof RunSegment>

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
  /**
   * The app process that queued the run and owns its pty; a record left active by a dead owner is a
   * crash leftover, and a queued run of a dead owner is taken over by the next process that starts runs.
   */
  owner_pid: z.number().int().nullable(),
  /** The owner's start time (pid + start time name one process for good); null in older records. */
  owner_start_time: z.string().nullable().default(null),
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
  /** Earlier parts of a resumed run, oldest first; the record's own fields are the current part. */
  segments: z.array(RunSegment).default([]),
  /** The state folder the current part resumed from (sd-scripts `--resume`). */
  resume_from: z.string().nullable().default(null),
  /**
   * Steps done before the current part: sd-scripts counts a resumed run's steps from 0, so the runner
   * adds this to its progress, and the loss chart and progress run on from where the state was saved.
   */
  step_offset: z.number().int().nonnegative().default(0),
  /** State folders (sd-scripts `save_state`) the run has saved, oldest first: what Resume offers. */
  saved_states: z.array(z.string()).default([]),
  /** A queued run that waits until it is let go (queue.pause); it holds no GPU meanwhile. */
  paused: z.boolean().default(false),
})
export type RunRecord = z.infer<typeof RunRecord>

/** A run folder whose record cannot be used: what is wrong, and with which file. */
export const UnreadableRun = z.object({
  id: z.string(),
  /** The record file (summary.json) that is damaged or missing. */
  file: z.string(),
  problem: z.enum(['invalid_json', 'unexpected_content', 'missing', 'unreadable']),
  /** When the file (or, if missing, the folder) last changed, ISO time: to place it among the runs. */
  modified_at: z.string().nullable(),
  /** The same in English, for the CLI and logs; the UI words it from `problem` and `file`. */
  message: z.string(),
})
export type UnreadableRun = z.infer<typeof UnreadableRun>

/** What a stop did, step by step, so the caller can report it (the CLI prints it, the UI can show it). */
export const StopAction = z.discriminatedUnion('kind', [
  /** A queued run left the queue before it started. */
  z.object({ kind: z.literal('removed_from_queue') }),
  /** Ctrl-C: SIGINT to the trainer's process group (Unix) or Ctrl-C written to its console (Windows). */
  z.object({ kind: z.literal('interrupted'), pid: z.number().int() }),
  /** The stop was handed to the process that runs it (Windows Ctrl-C, "after checkpoint", a queued run). */
  z.object({ kind: z.literal('asked_owner'), owner_pid: z.number().int() }),
  /** What is left is killed if the run has not ended after this many seconds. */
  z.object({ kind: z.literal('kill_scheduled'), after_s: z.number() }),
  /** The run ended within the grace period. */
  z.object({ kind: z.literal('ended'), after_s: z.number() }),
  /** "Stop after the next checkpoint" is armed: the run stops once its next checkpoint is saved. */
  z.object({ kind: z.literal('waiting_for_checkpoint') }),
  /** It had not ended after the grace period: these processes were killed. */
  z.object({ kind: z.literal('killed'), after_s: z.number(), pids: z.array(z.number().int()) }),
  /** Nothing of it was alive any more (its owner had died): recorded as stopped. */
  z.object({ kind: z.literal('nothing_alive') }),
])
export type StopAction = z.infer<typeof StopAction>

/** Seconds to wait after Ctrl-C before the trainer and everything it started are killed. */
export const StopGraceSeconds = z
  .number()
  .finite()
  .min(0, 'The stop grace period cannot be negative.')
  .max(600, 'The stop grace period is at most 600 seconds.')

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
