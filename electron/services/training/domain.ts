import { randomBytes } from 'node:crypto'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Issue, ValidationResult } from '../../../core/api/domains/configs'
import type { TrainPreview, TrainStartInput } from '../../../core/api/domains/training'
import { ApiError } from '../../../core/api/errors'
import { parseConfig } from '../../../core/config/schema'
import type { RunRecord } from '../../../core/runs/record'
import { validateWithFiles } from '../configs/checks'
import type { ServiceOptions } from '../context'
import type { EnvManager } from '../env/manager'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import type { RunService } from '../runs/run-service'
import type { RunStore } from '../runs/run-store'
import { removeWithRetry } from '../store/fs-retry'
import { writeFileAtomic } from '../store/atomic'
import { readiness } from '../env/readiness'
import { resolveTrainingEnvironment, type ResolvedEnvironment } from './environment'
import { writeExport, type ExportResult } from './export'
import { buildLaunch, type LaunchPlan } from './launch'

export interface TrainingDeps {
  env: EnvManager
  runs: () => RunService
  /** nvidia-smi indexes of this machine's GPUs; undefined when they cannot be read (no driver). */
  gpuIndexes?: () => Promise<number[] | undefined>
}

/**
 * The config as it will run, for validation: the request's GPUs (as given, so "0,0" is named) with
 * one process each. The launch plan itself is built by withGpus.
 */
function withRequestedGpus(input: unknown, gpus: number[] | undefined): unknown {
  const parsed = parseConfig(input)
  if (!parsed.ok) return input
  const c = parsed.config
  const ids = gpus && gpus.length > 0 ? gpus : c.launch.gpu_ids?.split(',').map(Number)
  if (!ids) return c
  return { ...c, launch: { ...c.launch, gpu_ids: ids.join(','), num_processes: ids.length } }
}

/** <dataDir>/training/<time>-<random>: the files one run reads (config.toml, dataset.toml, prompts.txt). */
export function newInputsDir(dataDir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')
  return path.join(dataDir, 'training', `${stamp}-${randomBytes(3).toString('hex')}`)
}

/** Inputs folders younger than this are never pruned: another process may be about to record its run. */
const PRUNE_AFTER_MS = 60 * 60 * 1000

/**
 * Removes inputs folders no run record refers to any more (their run was deleted). Runs are deleted in
 * the runs service, which does not know about these folders; this keeps <dataDir>/training from growing.
 */
export async function pruneInputs(
  dataDir: string,
  runs: Array<Pick<RunRecord, 'command'>>,
  now = Date.now(),
): Promise<string[]> {
  const root = path.join(dataDir, 'training')
  let names: string[]
  try {
    names = await readdir(root)
  } catch {
    return []
  }
  const used = new Set<string>()
  for (const r of runs)
    for (const arg of r.command)
      if (arg.startsWith(root + path.sep)) used.add(path.relative(root, arg).split(path.sep)[0]!)
  const removed: string[] = []
  for (const name of names) {
    if (used.has(name)) continue
    const dir = path.join(root, name)
    try {
      if (now - (await stat(dir)).mtimeMs < PRUNE_AFTER_MS) continue
      await removeWithRetry(dir, { recursive: true })
      removed.push(dir)
    } catch {
      // Gone already, or not ours to remove: try again next time.
    }
  }
  return removed
}

/**
 * Prunes after a run starts. Records are read from disk, not from this process's memory: the app and a
 * headless server (or a CLI) may each have started runs. A run whose record is damaged still keeps the
 * inputs its command.json names, and never stops the pruning of the others.
 */
export async function pruneUnusedInputs(dataDir: string, store: RunStore): Promise<string[]> {
  const { records, unreadable } = await store.scan()
  const damaged = await Promise.all(
    unreadable.map(async (u) => ({ command: (await store.command(u.id)) ?? [] })),
  )
  return pruneInputs(dataDir, [...records, ...damaged])
}

interface Prepared {
  validation: ValidationResult
  environment: ResolvedEnvironment | null
  /** Validation errors first, then the environment problem: every reason the start is refused. */
  blocking: string[]
  envError: ApiError | null
  plan: LaunchPlan | null
  inputsDir: string
}

function platformName() {
  return process.platform === 'win32' ? 'windows' : process.platform === 'darwin' ? 'mac' : 'linux'
}

function flavor() {
  return process.platform === 'win32' ? ('windows' as const) : ('posix' as const)
}

export function createTrainingDomain(options: ServiceOptions, deps: TrainingDeps) {
  async function prepare(
    input: TrainStartInput,
    at: { inputsDir?: string; requireReady?: boolean } = {},
  ): Promise<Prepared> {
    let environment: ResolvedEnvironment | null = null
    let envError: ApiError | null = null
    try {
      environment = await resolveTrainingEnvironment(deps.env, { requireReady: at.requireReady ?? true })
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      envError = error
    }
    // The GPU choice changes launch.num_processes, so the config is validated as it will run.
    const effective = withRequestedGpus(input.config, input.gpus)
    const gpus = await deps.gpuIndexes?.().catch(() => undefined)
    const validation = await validateWithFiles(effective, {
      checkFiles: true,
      ...(environment?.packages ? { packages: environment.packages } : {}),
      ...(gpus ? { gpus } : {}),
      platform: platformName(),
    })
    const blocking = validation.issues.filter((i) => i.severity === 'error').map((i) => i.message)
    if (envError) blocking.push(envError.message)
    const inputsDir = at.inputsDir ?? newInputsDir(options.dataDir)
    const plan =
      validation.config && environment
        ? buildLaunch({
            config: validation.config,
            gpus: input.gpus,
            environment,
            inputsDir,
            flavor: flavor(),
          })
        : null
    return { validation, environment, blocking, envError, plan, inputsDir }
  }

  const pruneUnused = () => pruneUnusedInputs(options.dataDir, deps.runs().store)

  async function start(input: TrainStartInput): Promise<RunRecord> {
    const p = await prepare(input)
    const errors: Issue[] = p.validation.issues.filter((i) => i.severity === 'error')
    if (errors.length > 0) {
      // Every reason at once, the missing environment included (rule "environment").
      if (p.envError) errors.push({ rule: 'environment', severity: 'error', message: p.envError.message })
      throw new ApiError(
        'domain',
        `The config cannot start training:\n${errors.map((e) => `- ${e.message}`).join('\n')}`,
        { kind: 'config_invalid', errors: errors.map((e) => e.message), issues: errors },
      )
    }
    if (p.envError) throw p.envError
    const plan = p.plan
    if (!plan) throw new ApiError('internal', 'The run could not be prepared.')
    const c = plan.config
    let rec: RunRecord
    try {
      for (const [name, content] of Object.entries(plan.files))
        await writeFileAtomic(path.join(p.inputsDir, name), content)
      rec = await deps.runs().start({
        command: plan.argv,
        cwd: plan.cwd,
        env: plan.env,
        ...(plan.gpus ? { gpus: plan.gpus } : {}),
        name: input.name ?? `${c.saving.output_name} (${c.type})`,
        config: c,
        dataset_toml: plan.files['dataset.toml'],
        ...(c.saving.output_dir ? { output_dir: c.saving.output_dir } : {}),
        save_configured: plan.saveConfigured,
        predicted_peak_mib: plan.predictedPeakMib,
      })
    } catch (error) {
      // Nothing refers to the files of a run that never got a record: leave no half-written folder.
      await removeWithRetry(p.inputsDir, { recursive: true })
      throw error
    }
    await pruneUnused().catch(() => undefined)
    return rec
  }

  async function preview(input: TrainStartInput): Promise<TrainPreview> {
    const p = await prepare(input)
    const e = p.environment
    const plan = p.plan
    return {
      ready: p.blocking.length === 0 && plan !== null,
      blocking: p.blocking,
      validation: p.validation,
      environment: e
        ? {
            name: e.name,
            kind: e.kind,
            sd_scripts_dir: e.sd_scripts_dir,
            python: e.python,
            tokenizer_cache_dir: e.tokenizer_cache_dir,
            offline: e.offline,
            hf_home: e.hf_home,
          }
        : null,
      script: plan?.script ?? null,
      argv: plan?.argv ?? null,
      display: plan?.display ?? null,
      cwd: plan?.cwd ?? null,
      env: plan?.env ?? null,
      inputs_dir: plan ? p.inputsDir : null,
      files: plan?.files ?? null,
      predicted_peak_mib: plan?.predictedPeakMib ?? null,
      prediction_notes: plan?.predictionNotes ?? [],
      save_configured: plan?.saveConfigured ?? null,
    }
  }

  /**
   * `config export`: what train.start would run, written into `out` instead of a run's inputs folder:
   * the same files, command, working folder and variables, plus command.txt and the launchers. Written
   * even when the run would be refused today (the reasons come back as warnings).
   */
  async function exportRun(input: TrainStartInput, out: string): Promise<ExportResult> {
    const dir = path.resolve(out)
    const p = await prepare(input, { inputsDir: dir, requireReady: false })
    if (p.envError) throw p.envError
    if (!p.plan || !p.environment) {
      const errors = p.validation.issues.filter((i) => i.severity === 'error').map((i) => i.message)
      throw new ApiError(
        'domain',
        `The config cannot be exported:\n${errors.map((e) => `- ${e}`).join('\n')}`,
        {
          kind: 'config_invalid',
          errors,
        },
      )
    }
    const registry = await deps.env.registry()
    const rec = registry.environments.find((e) => e.name === p.environment!.name)
    const notReady = rec ? await readiness(rec) : null
    return writeExport({
      dir,
      plan: p.plan,
      environment: p.environment,
      flavor: flavor(),
      warnings: [
        ...p.validation.issues.filter((i) => i.severity === 'error').map((i) => i.message),
        ...(notReady ? [notReady] : []),
      ],
    })
  }

  const requests = {
    'train.start': (input) => start(input),
    'train.preview': (input) => preview(input),
  } satisfies Partial<RequestHandlers>
  const subscriptions = {} satisfies Partial<SubscriptionHandlers>
  return { requests, subscriptions, start, preview, exportRun, dispose: () => undefined }
}
