import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import { argValue, type RunRecord } from '../../../core/runs/record'
import type { ServiceOptions } from '../context'
import type { EnvManager } from '../env/manager'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import type { RunService } from '../runs/run-service'
import { resolveTrainingEnvironment } from '../training/environment'
import { EventFilesReader } from './event-files'
import { TensorboardServers } from './server'

export interface TensorboardDeps {
  env: EnvManager
  runs: () => RunService
}

/**
 * Where a run's event files are: the launched config's logging.logging_dir (train.start gives each
 * logging run its own folder, see training/launch.ts), else a `--logging_dir` in the command.
 */
export function runLoggingDir(rec: RunRecord): string | null {
  const config = rec.input.config as { logging?: { logging_dir?: unknown } } | undefined
  const fromConfig = config?.logging?.logging_dir
  const dir = typeof fromConfig === 'string' && fromConfig ? fromConfig : argValue(rec.command, 'logging_dir')
  return dir ? path.resolve(rec.cwd, dir) : null
}

/** Readers kept per run (each remembers how far it has read); the least recently used go first. */
const MAX_READERS = 16

export function createTensorboardDomain(options: ServiceOptions, deps: TensorboardDeps) {
  const readers = new Map<string, EventFilesReader>()
  const servers = new TensorboardServers()

  function reader(id: string, dir: string): EventFilesReader {
    let r = readers.get(id)
    if (r && r.root !== dir) r = undefined
    if (r) readers.delete(id)
    else r = new EventFilesReader(dir)
    readers.set(id, r)
    while (readers.size > MAX_READERS) readers.delete(readers.keys().next().value as string)
    return r
  }

  const requests = {
    'tensorboard.scalars': async ({ id }) => {
      const rec = await deps.runs().get(id)
      const dir = runLoggingDir(rec)
      if (!dir) return { logging_dir: null, files: 0, scalars: {}, problems: [] }
      return { logging_dir: dir, ...(await reader(id, dir).read()) }
    },
    'tensorboard.open': async ({ id }) => {
      const rec = await deps.runs().get(id)
      const dir = runLoggingDir(rec)
      if (!dir)
        throw new ApiError(
          'domain',
          `Run ${rec.name} does not log to TensorBoard. Turn on TensorBoard logging in the training form and run it again.`,
          { kind: 'no_logging' },
        )
      // A tool checks what it needs itself; the environment need not be verified for training.
      const environment = await resolveTrainingEnvironment(deps.env, { requireReady: false })
      return servers.open({
        id,
        python: environment.python,
        logdir: dir,
        env: options.env,
        envName: environment.name,
      })
    },
    'tensorboard.close': async ({ id }) => ({ closed: await servers.close(id) }),
  } satisfies Partial<RequestHandlers>

  const subscriptions = {} satisfies Partial<SubscriptionHandlers>

  return { requests, subscriptions, servers, dispose: () => servers.dispose() }
}
