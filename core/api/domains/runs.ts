import { z } from 'zod'
import { event, request } from '../define'
import { RunEvent } from '../../runs/events'
import { RunRecord, RunStartInput, StopMode } from '../../runs/record'

const Id = z.object({ id: z.string().min(1) }).strict()

export const RunList = z.object({
  runs: z.array(RunRecord),
  /** Ids of queued runs in the order they will start. */
  queue: z.array(z.string()),
  /** A run with stop_on_failure failed and holds the queue (resume with queue.resume). */
  held_by: z.string().nullable(),
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
    z.object({ id: z.string().min(1), mode: StopMode.default('now') }).strict(),
    RunRecord,
    'Stop a run now (nothing is saved) or after its next saved checkpoint; a queued run is removed',
  ),
  'run.delete': request(Id, z.object({ deleted: z.literal(true) }), 'Delete an ended run and its folder'),
  'run.rerun': request(Id, RunRecord, 'Queue a new run with the same command and settings'),
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
  'run.progress': event(
    z.object({ id: z.string().optional() }).strict(),
    RunUpdate,
    'Run state and parsed events as they happen (all runs, or one)',
  ),
}
