import { z } from 'zod'
import { request } from '../define'

/*
 * TensorBoard for runs that log (`log_with tensorboard`): the run's scalars read from its event files
 * (core/tensorboard), and a TensorBoard server started from the environment's Python for the rest.
 */

const Id = z.object({ id: z.string().min(1) }).strict()

export const RunScalars = z.object({
  /** The folder sd-scripts writes the run's event files under; null when the run does not log. */
  logging_dir: z.string().nullable(),
  /** Event files found under it. */
  files: z.number().int().nonnegative(),
  /** Tag → [step, value] in step order (epoch tags count epochs). */
  scalars: z.record(z.string(), z.array(z.tuple([z.number(), z.number()]))),
  /** Damaged files, one message each (what was read before the damage is kept). */
  problems: z.array(z.object({ file: z.string(), code: z.string(), message: z.string() })),
})
export type RunScalars = z.infer<typeof RunScalars>

export const TensorboardServer = z.object({
  id: z.string(),
  url: z.string(),
  port: z.number().int(),
  logdir: z.string(),
  pid: z.number().int(),
})
export type TensorboardServer = z.infer<typeof TensorboardServer>

export const requests = {
  'tensorboard.scalars': request(
    Id,
    RunScalars,
    "A run's TensorBoard scalars (loss, learning rates, loss per epoch) read from its event files",
  ),
  'tensorboard.open': request(
    Id,
    TensorboardServer,
    "Start TensorBoard (the environment's Python) on a free local port for a run's logs, or return the one running",
  ),
  'tensorboard.close': request(Id, z.object({ closed: z.boolean() }), "Stop a run's TensorBoard server"),
}

export const events = {}
