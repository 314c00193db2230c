import { mkdir } from 'node:fs/promises'
import type { IntentBatch, WorkState } from '../../../core/api/domains/desktop'
import { ApiError } from '../../../core/api/errors'
import type { DropIntent } from '../../../core/desktop/drop-policy'
import { ACTIVE_STATES } from '../../../core/runs/record'
import type { ServiceOptions } from '../context'
import type { EnvManager } from '../env/manager'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { openFolder } from '../runs/domain'
import type { RunService } from '../runs/run-service'
import { IntentHub } from './intent-hub'
import { outputLocation } from './output-location'
import { RecentStore } from './recent-store'
import { routePaths } from './route-paths'

/**
 * What only the desktop host can do with files, handed in by Electron's main process (this folder never
 * imports electron): open a folder, or show a file selected in the system file manager.
 */
export interface DesktopShell {
  /** Resolves to an error message, or '' when it worked (Electron's shell.openPath contract). */
  openPath(path: string): Promise<string>
  showItemInFolder(path: string): void
}

export interface DesktopDeps {
  runs: () => RunService
  env: EnvManager
  /** LoRA tool jobs (state only). */
  toolJobs: () => Promise<Array<{ state: string }>>
  shell?: DesktopShell | undefined
}

/** Recent entries an opened plan adds: the image folders and config files that were opened by path. */
function recentFrom(intents: readonly DropIntent[]): Array<{ kind: 'config' | 'folder'; path: string }> {
  const out: Array<{ kind: 'config' | 'folder'; path: string }> = []
  for (const i of intents) {
    if (i.type === 'add-image-folder') out.push({ kind: 'folder', path: i.path })
    else if ((i.type === 'import-kohya-json' || i.type === 'import-toml') && i.path)
      out.push({ kind: 'config', path: i.path })
  }
  return out
}

export function createDesktopDomain(options: ServiceOptions, deps: DesktopDeps) {
  const recent = new RecentStore(options.dataDir)
  const intents = new IntentHub()

  /** Routes paths and remembers what was opened in the recent lists. */
  async function open(paths: readonly string[]) {
    const { plan } = await routePaths(paths)
    for (const r of recentFrom(plan.intents)) await recent.add(r.kind, r.path).catch(() => undefined)
    return plan
  }

  async function run(id: string) {
    return deps.runs().get(id)
  }

  async function work(): Promise<WorkState> {
    const runs = await deps.runs().list()
    const envs = await deps.env
      .list()
      .catch(() => ({ environments: [] as Array<{ name: string; running: boolean }> }))
    const jobs = await deps.toolJobs().catch(() => [])
    return {
      runs: runs
        .filter((r) => ACTIVE_STATES.includes(r.state))
        .map((r) => ({ id: r.id, name: r.name, state: r.state })),
      queued: runs.filter((r) => r.state === 'queued').length,
      installs: envs.environments.filter((e) => e.running).map((e) => e.name),
      tools: jobs.filter((j) => j.state === 'running' || j.state === 'queued').length,
    }
  }

  /** "Open output folder": the system file manager on the run's output folder (made if not there yet). */
  async function openOutput(id: string): Promise<{ opened: string }> {
    const rec = await run(id)
    if (!rec.output_dir) throw new ApiError('not_found', `Run ${id} has no output folder (no --output_dir).`)
    if (!deps.shell)
      throw new ApiError(
        'unavailable',
        `Open this folder on the machine running SDXL Studio: ${rec.output_dir}`,
      )
    await mkdir(rec.output_dir, { recursive: true })
    const error = await deps.shell.openPath(rec.output_dir)
    if (error)
      throw new ApiError('unavailable', `Could not open ${rec.output_dir}: ${error}. Open it by hand.`)
    return { opened: rec.output_dir }
  }

  const requests = {
    'files.open': ({ paths }) => open(paths),
    'recent.list': () => recent.get(),
    'recent.add': ({ kind, path }) => recent.add(kind, path),
    'recent.remove': ({ kind, path }) => recent.remove(kind, path),
    'recent.clear': ({ kind }) => recent.clear(kind),
    'app.work': () => work(),
    'run.output_location': async ({ id }) => outputLocation(await run(id)),
    'run.reveal_output': async ({ id }) => {
      const rec = await run(id)
      const where = await outputLocation(rec)
      const target = where.file_exists ? where.file : where.folder_exists ? where.folder : null
      if (!target)
        throw new ApiError(
          'not_found',
          where.folder
            ? `Run ${rec.name} has saved nothing yet, and its output folder ${where.folder} does not exist.`
            : `Run ${rec.name} has no output folder (no --output_dir).`,
        )
      if (deps.shell) deps.shell.showItemInFolder(target)
      else if (options.mode === 'headless')
        // The file is on the machine running SDXL Studio, not the browser's.
        throw new ApiError('unavailable', `Find it on the machine running SDXL Studio: ${target}`)
      else await openFolder(where.folder_exists && where.folder ? where.folder : target, options.env)
      return { revealed: target }
    },
  } satisfies Partial<RequestHandlers>

  const subscriptions = {
    'app.intents': (_params, sink) => intents.subscribe((batch) => sink.emit(batch)),
  } satisfies Partial<SubscriptionHandlers>

  return {
    requests,
    subscriptions,
    recent,
    /** The host (Electron's main process) publishes here; every open page receives it. */
    publish: (batch: IntentBatch) => intents.publish(batch),
    /** Routes paths (second launch, recent menu) and sends the result to the page. */
    openAndPublish: async (paths: readonly string[]) => {
      const plan = await open(paths)
      intents.publish(plan)
      return plan
    },
    openOutput,
    work,
    dispose: () => undefined,
  }
}
