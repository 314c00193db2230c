import { z } from 'zod'
import { event, request } from '../define'
import { RunEvent } from '../../runs/events'
import { RunNotice } from '../../runs/notice'
import {
  RunRecord,
  RunStartInput,
  StopAction,
  StopGraceSeconds,
  StopMode,
  UnreadableRun,
} from '../../runs/record'

const Id = z.object({ id: z.string().min(1) }).strict()

export const RunList = z.object({
  runs: z.array(RunRecord),
  /** Ids of queued runs in the order they will start. */
  queue: z.array(z.string()),
  /** A run with stop_on_failure failed and holds the queue (resume with queue.resume). */
  held_by: z.string().nullable(),
  /** Run folders whose record is damaged or missing, each with its file (delete them with run.delete). */
  unreadable: z.array(UnreadableRun).default([]),
})

export const RunStopResult = z.object({
  /** The record after the stop (ended when the stop waited for the end, else stopping). */
  run: RunRecord,
  /** What was done, in order. */
  actions: z.array(StopAction),
})

export const RunHistory = z.object({
  /** [step, avr_loss] for the loss chart. */
  loss: z.array(z.tuple([z.number(), z.number()])),
  /** [seconds since the start, MiB] each time the run's GPU memory changed, for the memory chart. */
  memory: z.array(z.tuple([z.number(), z.number()])),
  /** The same per GPU (nvidia-smi index → points) for runs whose GPUs could be told apart. */
  memory_per_gpu: z.record(z.string(), z.array(z.tuple([z.number(), z.number()]))).default({}),
  /** Everything but progress frames and memory samples: start-up, epochs, saves, samples, failures. */
  events: z.array(RunEvent),
})

/** What a queued run may still change before it starts (queue.edit); absent fields stay. */
export const QueueEdit = z
  .object({
    id: z.string().min(1),
    name: z
      .string()
      .trim()
      .min(1, 'The name is empty.')
      .max(200, 'The name is longer than 200 characters.')
      .optional(),
    command: RunStartInput.shape.command.optional(),
    gpus: RunStartInput.shape.gpus,
    stop_on_failure: z.boolean().optional(),
  })
  .strict()
export type QueueEdit = z.infer<typeof QueueEdit>

export const RunUpdate = z.object({ run: RunRecord, events: z.array(RunEvent) })

export const requests = {
  'run.start': request(
    RunStartInput,
    RunRecord,
    'Queue a training run: command (argument array), working folder, environment, GPUs',
  ),
  'run.list': request(z.object({}).strict(), RunList, 'All run records, newest first, and the queue'),
  'run.get': request(Id, RunRecord, 'One run record'),
  'run.history': request(Id, RunHistory, 'Loss per step and the parsed events of a run'),
  'run.log': request(
    z.object({ id: z.string().min(1), tail_bytes: z.number().int().positive().optional() }).strict(),
    z.object({ text: z.string(), truncated: z.boolean() }),
    'The end of the raw console log of a run',
  ),
  'run.stop': request(
    z
      .object({
        id: z.string().min(1),
        mode: StopMode.default('now'),
        /** Seconds from Ctrl-C to the tree kill; the stop_grace_s setting when absent. */
        grace_s: StopGraceSeconds.optional(),
      })
      .strict(),
    RunStopResult,
    'Stop a run now (Ctrl-C, then a tree kill after the grace period; nothing is saved) or after its next saved checkpoint; a queued run is removed. A run of another process is stopped too; then the call waits for its end and reports what it did',
  ),
  'run.delete': request(
    Id,
    z.object({ deleted: z.literal(true) }),
    'Delete an ended run (or one whose record is damaged) and its folder',
  ),
  'run.rerun': request(Id, RunRecord, 'Queue a new run with the same command and settings'),
  'run.resume': request(
    z
      .object({
        id: z.string().min(1),
        /** A state folder the run saved; its newest one that still exists when absent. */
        state: z.string().min(1).optional(),
      })
      .strict(),
    RunRecord,
    'Resume an ended run from a state it saved (sd-scripts --resume): the same command, queued as the next part of the same run',
  ),
  'run.sample': request(
    z.object({ id: z.string().min(1), name: z.string().min(1) }).strict(),
    z.object({ data_url: z.string() }),
    "One of a run's sample images (as listed in its record), as a data: URL",
  ),
  'run.open_output': request(
    Id,
    z.object({ opened: z.string() }),
    "Open a run's output folder in the system file manager (desktop app only)",
  ),
  'run.resize': request(
    z
      .object({
        id: z.string().min(1),
        cols: z.number().int().min(20).max(1000),
        rows: z.number().int().min(5).max(500),
      })
      .strict(),
    z.object({ ok: z.literal(true) }),
    "Resize a run's pseudo-terminal to the viewer's terminal",
  ),
  'queue.reorder': request(
    z.object({ ids: z.array(z.string()) }).strict(),
    z.object({ queue: z.array(z.string()) }),
    'Set the order of the queued runs (every queued id exactly once)',
  ),
  'queue.pause': request(
    z.object({ id: z.string().min(1), paused: z.boolean() }).strict(),
    RunRecord,
    'Hold a queued run (it keeps its place and holds no GPU; runs behind it may start) or let it go again',
  ),
  'queue.edit': request(
    QueueEdit,
    RunRecord,
    'Change a queued run before it starts: its name, command (argument array), GPUs, stop-on-failure',
  ),
  'queue.resume': request(
    z.object({}).strict(),
    z.object({ queue: z.array(z.string()) }),
    'Let the queue go on after a stop-on-failure run failed',
  ),
}

export const events = {
  'run.output': event(
    z.object({ id: z.string().min(1) }).strict(),
    z.object({ data: z.string() }),
    'Terminal output of a run: recent output first, then live batches (flow-controlled: acknowledge what the terminal has written)',
    { flow: true },
  ),
  'run.notify': event(
    z.object({}).strict(),
    RunNotice,
    'A run finished or failed: its name, final loss and training time (for a desktop or browser notification)',
  ),
  'run.progress': event(
    z.object({ id: z.string().optional() }).strict(),
    RunUpdate,
    'Run state and parsed events as they happen (all runs, or one)',
  ),
}
