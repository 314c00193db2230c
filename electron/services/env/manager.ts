import { existsSync, promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import {
  keepMaskedPassword,
  redactChoices,
  redactCoded,
  splitChoiceCredentials,
} from '../../../core/env/credentials'
import { envText, type EnvCodedText, type EnvParams } from '../../../core/env/messages'
import { envLayout } from '../../../core/env/layout'
import { listNames } from '../../../core/env/ownership'
import {
  chooseTorch,
  DEFAULT_SOURCE,
  existingTorchCommand,
  plan as makePlan,
  type GpuFacts,
  type InstallPlan,
  type Mirrors,
  type PlanError,
  type StepId,
} from '../../../core/env/plan'
import { evaluatePrechecks, type PrecheckReport } from '../../../core/env/prechecks'
import { evaluateProbe, ProbeReport, type ProbeProblem } from '../../../core/env/probe'
import {
  EnvRegistry,
  EnvSettings,
  type EnvChoices,
  type EnvRecord,
  type LastVerify,
} from '../../../core/env/registry'
import {
  maskedPasswordProblem,
  MIRROR_FIELDS,
  mirrorUrlProblem,
  sourceFolderMessage,
  sourceIsFolder,
  sourceSyntaxProblem,
  type EnvSettingField,
  type MirrorField,
} from '../../../core/env/settings-check'
import { parseSource } from '../../../core/env/source'
import { UV_VERSION } from '../../../core/env/uv-wheel'
import { toProgress, type InstallProgress, type InstallState } from '../../../core/env/state'
import { DEFAULT_VERSION, findVersion } from '../../../core/env/versions'
import { resourceFile, resourcesDir } from '../app-files'
import type { ServiceOptions } from '../context'
import { queryComputeCapabilities, querySnapshot } from '../gpu/nvidia-smi'
import { readJsonFile } from '../store/atomic'
import { restrictFile, writePrivateJson } from '../store/private-file'
import { NO_ACCESS, type RunAccess } from './access'
import { execShort, findOnPath, findPythons, type PythonCandidate } from './detect'
import { inspectFolder, removeOwned } from './ownership'
import { gatherPrecheckFacts } from './prechecks'
import { InstallRunner, installEnv, readState, type RunOutcome } from './runner'
import { notReadyReason, withoutAction } from './readiness'
import { envError } from './env-error'
import { detectTorchIndex } from './torch-index'
import { mirrorFolderProblem, thisMirrorOs } from './mirror-folder'
import { isExecutableFile } from '../which'

export interface PlanRequest {
  name: string
  version?: string
  torch?: 'auto' | 'none' | 'cpu'
  installer?: 'uv' | 'pip'
  source?: string | null
  mirrors?: Partial<Mirrors>
  /** Install somewhere other than <dataDir>/envs/<name>. */
  envDir?: string | null
}

export interface MachineFacts {
  os: 'linux' | 'win32'
  pythons: PythonCandidate[]
  uvOnPath: string | null
  gitAvailable: boolean
  gpu: GpuFacts | null
}

export interface PlanResponse {
  ok: boolean
  plan: InstallPlan | null
  error: PlanError | null
  prechecks: PrecheckReport | null
  facts: MachineFacts
  envDir: string
}

export interface VerifyResult {
  name: string
  ok: boolean
  light: boolean
  problems: ProbeProblem[]
  probe: ProbeReport | null
  /** Set when the probe itself could not run (no venv, Python broken). */
  error: string | null
  /** The error's code and parameters (core/env/messages.ts: verify_*). */
  errorCode?: string
  errorParams?: EnvParams
}

type Listener<T> = (value: T) => void

/** The build verify compares the installed torch with (null: the plan installs none). */
function torchBuildOf(plan: InstallPlan) {
  const t = plan.torch
  return t ? { torch: t.torch, index: t.index, ...(t.cuda !== undefined ? { cuda: t.cuda } : {}) } : null
}

/** What an install put on disk: the bytes its steps measured. */
function installedBytes(state: InstallState): number {
  return Object.values(state.steps).reduce((n, s) => n + (s.bytes ?? 0), 0)
}

function lastVerifyOf(
  problems: ProbeProblem[],
  probe: ProbeReport | null,
  error: { message: string; code?: string | undefined; params?: EnvParams | undefined } | null,
): LastVerify {
  const list: LastVerify['problems'] = problems.map((p) => ({
    check: p.check as string,
    message: p.message,
    ...(p.code ? { code: p.code, params: p.params ?? {} } : {}),
  }))
  if (error && list.length === 0)
    list.push({
      check: 'probe',
      message: error.message,
      ...(error.code ? { code: error.code, params: error.params ?? {} } : {}),
    })
  return {
    ok: list.length === 0,
    at: Date.now(),
    problems: list,
    packages: Object.entries(probe?.packages ?? {})
      .filter(([, v]) => v !== null)
      .map(([k]) => k),
  }
}

/** A plan's refusal as an API error; details carry its code and parameters for the UI's language. */
function planRefused(error: PlanError): ApiError {
  return new ApiError('domain', error.message, {
    kind: error.kind,
    ...(error.code ? { code: error.code, params: error.params ?? {} } : {}),
  })
}

/**
 * A refused setting or mirror as the API error every caller gets (Settings, plan, install, resume):
 * coded (details.code/params) for the UI's language, details.field for the input to mark, and no
 * password in the text or the parameters.
 */
function invalidSetting(field: EnvSettingField, problem: EnvCodedText): ApiError {
  const shown = redactCoded(problem)
  return new ApiError('bad_request', shown.message, {
    kind: 'invalid_setting',
    field,
    code: shown.code,
    params: shown.params,
  })
}

const LOG_HISTORY = 256 * 1024

/**
 * Environments: the registry (<dataDir>/environments.json, one active), plans, installs, verify,
 * repair, update, remove, and adopting an existing install. One install/repair at a time (lock file).
 */
export class EnvManager {
  private readonly registryFile: string
  private readonly settingsFile: string
  private registryQueue: Promise<unknown> = Promise.resolve()
  private settingsQueue: Promise<unknown> = Promise.resolve()
  private runner: InstallRunner | null = null
  private runningName: string | null = null
  /** Whose output `history` holds (kept after the install ends). */
  private historyName: string | null = null
  private readonly logListeners = new Set<Listener<{ name: string; data: string }>>()
  private readonly progressListeners = new Set<Listener<InstallProgress>>()
  private readonly pressured = new Set<number>()
  private history = ''
  private lastProgress = new Map<string, InstallProgress>()

  constructor(private readonly options: ServiceOptions) {
    this.registryFile = path.join(options.dataDir, 'environments.json')
    this.settingsFile = path.join(options.dataDir, 'env-settings.json')
  }

  // --- registry and settings -----------------------------------------------------------------

  async registry(): Promise<EnvRegistry> {
    return readJsonFile(this.registryFile, EnvRegistry, () => ({
      schema: 1 as const,
      active: null,
      environments: [],
    }))
  }

  private updateRegistry(fn: (r: EnvRegistry) => EnvRegistry | void): Promise<EnvRegistry> {
    const next = this.registryQueue.then(async () => {
      const r = await this.registry()
      const out = fn(r) ?? r
      // Records keep each install's mirrors, with any passwords: user-only, like the settings.
      await writePrivateJson(this.options.dataDir, this.registryFile, out)
      return out
    })
    this.registryQueue = next.catch(() => undefined)
    return next
  }

  /** The stored settings, passwords included (for installs; never returned over the API). */
  async settings(): Promise<EnvSettings> {
    return readJsonFile(this.settingsFile, EnvSettings, () => EnvSettings.parse({}))
  }

  /** The settings as shown to users and API callers: every password in a URL replaced by ****. */
  async publicSettings(): Promise<EnvSettings> {
    const s = await this.settings()
    const shown = redactChoices({ source: s.source ?? '', mirrors: s.mirrors })
    return { ...s, source: s.source === null ? null : shown.source, mirrors: shown.mirrors }
  }

  /**
   * Changes settings (one change at a time). A value shown masked and saved back unchanged keeps
   * its stored password. Written user-only (0600): mirror and proxy addresses may hold passwords.
   */
  updateSettings(
    patch: Partial<Omit<EnvSettings, 'mirrors'>> & { mirrors?: Partial<Mirrors> | undefined },
  ): Promise<EnvSettings> {
    const next = this.settingsQueue.then(async () => {
      const current = await this.settings()
      const mirrors: Partial<Mirrors> = {}
      for (const [k, v] of Object.entries(patch.mirrors ?? {}) as Array<
        [MirrorField, string | null | undefined]
      >) {
        if (v === undefined) continue
        mirrors[k] = v === null ? null : keepMaskedPassword(v.trim(), current.mirrors[k])
      }
      const source =
        typeof patch.source === 'string'
          ? keepMaskedPassword(patch.source.trim(), current.source)
          : patch.source
      const checked = { ...patch, ...(source !== undefined ? { source } : {}), mirrors }
      await this.checkSettingsPatch(checked)
      const merged = EnvSettings.parse({
        ...current,
        ...checked,
        mirrors: { ...current.mirrors, ...mirrors },
      })
      await writePrivateJson(this.options.dataDir, this.settingsFile, merged)
      return this.publicSettings()
    })
    this.settingsQueue = next.catch(() => undefined)
    return next
  }

  /** Refuses values that would only fail mid-install; details.field says which input to mark. */
  private async checkSettingsPatch(patch: {
    source?: string | null | undefined
    mirrors?: Partial<Mirrors> | undefined
  }): Promise<void> {
    await this.checkMirrors(patch.mirrors)
    const source = patch.source
    if (typeof source !== 'string') return
    const syntax = sourceSyntaxProblem(source) ?? maskedPasswordProblem('source', source)
    if (syntax) throw invalidSetting('source', syntax)
    if (sourceIsFolder(source)) {
      const stat = await fs.stat(path.resolve(source.trim())).catch(() => null)
      if (!stat) throw invalidSetting('source', sourceFolderMessage(source, 'missing'))
      if (!stat.isDirectory()) throw invalidSetting('source', sourceFolderMessage(source, 'not-a-folder'))
    }
  }

  /**
   * The one check of mirror and proxy values (core/env/settings-check.ts), for Settings and for every
   * request that carries mirrors, before anything is planned or started: a typo is refused now, not
   * minutes into an install. A file:// folder must exist here, on the machine that runs the installs.
   */
  private async checkMirrors(mirrors: Partial<Mirrors> | null | undefined): Promise<void> {
    const os = thisMirrorOs()
    for (const field of MIRROR_FIELDS) {
      const value = mirrors?.[field]
      if (typeof value !== 'string') continue
      const problem =
        mirrorUrlProblem(field, value, os) ??
        maskedPasswordProblem(field, value) ??
        (await mirrorFolderProblem(field, value, os))
      if (problem) throw invalidSetting(field, problem)
    }
  }

  /** Makes the files that hold passwords user-only, also when an older version wrote them (called at start). */
  async restrictPrivateFiles(): Promise<void> {
    await Promise.all([restrictFile(this.settingsFile), restrictFile(this.registryFile)])
  }

  async get(name: string): Promise<EnvRecord> {
    const r = await this.registry()
    const rec = r.environments.find((e) => e.name === name)
    if (!rec) {
      const known = r.environments.map((e) => e.name)
      throw known.length
        ? envError('not_found', 'env_unknown', { env: name, known: known.join(', ') })
        : envError('not_found', 'env_unknown_none', { env: name })
    }
    return rec
  }

  /** The name to act on: the one given, else the active one. */
  async resolveName(name: string | undefined | null): Promise<string> {
    if (name) return name
    const r = await this.registry()
    if (r.active) return r.active
    throw envError('not_found', 'env_none_active')
  }

  async list() {
    const r = await this.registry()
    const environments = await Promise.all(
      r.environments.map(async (e) => {
        const state = e.kind === 'managed' ? await readState(e.envDir).catch(() => null) : null
        const reason = await notReadyReason(e)
        return {
          ...e,
          choices: e.choices ? redactChoices(e.choices) : null,
          active: r.active === e.name,
          status: e.kind === 'external' ? ('external' as const) : (state?.status ?? ('missing' as const)),
          running: this.runningName === e.name,
          ready: reason === null,
          notReady: reason?.message ?? null,
          notReadyReason: reason ? withoutAction(reason) : null,
          sizeBytes: state ? installedBytes(state) : null,
        }
      }),
    )
    return { active: r.active, environments }
  }

  /** Packages an environment's last verify found (its install's probe for older records); undefined: unknown. */
  packagesOf(rec: EnvRecord): string[] | undefined {
    if (rec.lastVerify) return rec.lastVerify.packages
    if (rec.kind !== 'managed') return undefined
    try {
      const file = envLayout(process.platform === 'win32' ? 'win32' : 'linux', rec.envDir).probeFile
      const report = ProbeReport.safeParse(JSON.parse(readFileSync(file, 'utf8')))
      if (!report.success) return undefined
      return Object.entries(report.data.packages)
        .filter(([, v]) => v !== null)
        .map(([k]) => k)
    } catch {
      return undefined
    }
  }

  /** The active environment's packages, for config checks that depend on them (undefined: unknown). */
  async activePackages(): Promise<string[] | undefined> {
    const r = await this.registry()
    const rec = r.environments.find((e) => e.name === r.active)
    return rec ? this.packagesOf(rec) : undefined
  }

  async activate(name: string): Promise<void> {
    await this.get(name)
    await this.updateRegistry((r) => {
      r.active = name
    })
  }

  // --- events --------------------------------------------------------------------------------

  /**
   * Live install output. A new listener first gets the tail of the latest install's output, running
   * or finished, so a log view opened (or reloaded) after a failure still shows what failed.
   */
  onLog(listener: Listener<{ name: string; data: string }>, replay = true): () => void {
    if (replay && this.history && this.historyName) listener({ name: this.historyName, data: this.history })
    this.logListeners.add(listener)
    return () => this.logListeners.delete(listener)
  }

  onProgress(listener: Listener<InstallProgress>): () => void {
    for (const p of this.lastProgress.values()) listener(p)
    this.progressListeners.add(listener)
    return () => this.progressListeners.delete(listener)
  }

  /** A log consumer is behind (flow control): pause the running command's output until all catch up. */
  setPressure(consumer: number, paused: boolean): void {
    if (paused) this.pressured.add(consumer)
    else this.pressured.delete(consumer)
    this.runner?.setPaused(this.pressured.size > 0)
  }

  private emitLog(name: string, data: string): void {
    this.history = (this.history + data).slice(-LOG_HISTORY)
    for (const l of this.logListeners) l({ name, data })
  }

  private emitProgress(p: InstallProgress): void {
    this.lastProgress.set(p.name, p)
    for (const l of this.progressListeners) l(p)
  }

  async progress(name: string): Promise<InstallProgress | null> {
    const live = this.lastProgress.get(name)
    if (live && this.runningName === name) return live
    const rec = await this.get(name)
    const state = rec.kind === 'managed' ? await readState(rec.envDir) : null
    return state ? toProgress(state) : null
  }

  // --- facts and plans -----------------------------------------------------------------------

  private get env(): NodeJS.ProcessEnv {
    return this.options.env
  }

  async gpuFacts(): Promise<GpuFacts | null> {
    try {
      const snap = await querySnapshot({ env: this.env })
      if (snap.gpus.length === 0) return null
      // Drivers older than the compute_cap field give null capabilities; the GPU name still tells RTX 50 apart.
      const caps = await queryComputeCapabilities({ env: this.env }).catch(() => [])
      const computeCaps = caps
        .map((c) => (c.compute_cap === null ? Number.NaN : Number.parseFloat(c.compute_cap)))
        .filter((n) => Number.isFinite(n))
      return {
        driverCuda: snap.cuda_version,
        driverVersion: snap.driver_version,
        computeCaps,
        names: snap.gpus.map((g) => g.name ?? '').filter(Boolean),
      }
    } catch {
      // nvidia-smi missing or failing (no driver, no device): no usable NVIDIA GPU.
      return null
    }
  }

  /** Where a downloaded uv is kept, shared by every environment of this data folder. */
  get toolsDir(): string {
    return path.join(this.options.dataDir, 'tools')
  }

  /** uv on PATH, else the one the app downloaded before (then the plan need not download it again). */
  private async findUv(): Promise<string | null> {
    const onPath = await findOnPath('uv', this.env)
    if (onPath) return onPath
    const fetched = path.join(
      this.toolsDir,
      `uv-${UV_VERSION}`,
      process.platform === 'win32' ? 'uv.exe' : 'uv',
    )
    return isExecutableFile(fetched) ? fetched : null
  }

  async machineFacts(): Promise<MachineFacts> {
    const [pythons, uvOnPath, git, gpu] = await Promise.all([
      findPythons(this.env),
      this.findUv(),
      findOnPath('git', this.env),
      this.gpuFacts(),
    ])
    return {
      os: process.platform === 'win32' ? 'win32' : 'linux',
      pythons,
      uvOnPath,
      gitAvailable: !!git,
      gpu,
    }
  }

  defaultEnvDir(name: string): string {
    return path.join(this.options.dataDir, 'envs', name)
  }

  async choicesFor(req: PlanRequest): Promise<EnvChoices> {
    const s = await this.settings()
    const pick = (k: keyof Mirrors) => req.mirrors?.[k] ?? s.mirrors[k]
    const mirrors: Mirrors = {
      pypiIndex: pick('pypiIndex'),
      torchIndex: pick('torchIndex'),
      hfEndpoint: pick('hfEndpoint'),
      pythonMirror: pick('pythonMirror'),
      proxy: pick('proxy'),
    }
    const source = (req.source ?? s.source ?? DEFAULT_SOURCE).trim()
    return {
      torch: req.torch ?? 'auto',
      installer: req.installer ?? s.installer,
      // A local folder is resolved now: the install runs in other working directories. Anything
      // else (a URL, or a source the plan refuses) is kept as typed.
      source: parseSource(source).kind === 'folder' ? path.resolve(source) : source,
      mirrors,
    }
  }

  async plan(req: PlanRequest): Promise<PlanResponse> {
    const choices = await this.choicesFor(req)
    // The request's mirrors, and the settings' ones it keeps (a wheel folder may have gone since).
    await this.checkMirrors(choices.mirrors)
    const facts = await this.machineFacts()
    const envDir = path.resolve(req.envDir ?? this.defaultEnvDir(req.name))
    // Plans are shown, logged and stored: they get every URL without its password.
    const split = splitChoiceCredentials(choices)
    const { clean } = split
    const version = req.version ?? DEFAULT_VERSION
    const refuse = (error: PlanError): PlanResponse => ({
      ok: false,
      plan: null,
      error,
      prechecks: null,
      facts,
      envDir,
    })
    const sourceProblem = await this.sourceFolderProblem(clean.source)
    if (sourceProblem) return refuse({ kind: 'bad_source', ...sourceProblem })
    const torchIndex = await this.torchIndexFacts(version, split, facts)
    const result = makePlan({
      version,
      os: facts.os,
      pythonCandidates: facts.pythons,
      uvOnPath: facts.uvOnPath,
      gitAvailable: facts.gitAvailable,
      gpu: facts.gpu,
      resourcesDir: resourcesDir(this.env),
      ...(torchIndex ? { torchIndex } : {}),
      toolsDir: this.toolsDir,
      choices: { ...clean, envDir },
    })
    if (!result.ok) return refuse(redactCoded(result.error))
    const report = evaluatePrechecks(
      {
        ...(await gatherPrecheckFacts({
          envDir,
          neededBytes: result.plan.totalBytes,
          gitAvailable: facts.gitAvailable,
          sourceIsUrl: parseSource(clean.source).kind === 'url',
          pythonVersions: facts.pythons.map((p) => p.version),
          uvAvailable: !!facts.uvOnPath,
          installer: clean.installer,
          env: this.env,
        })),
        folder: await this.folderFacts(envDir, req.name),
      },
      findVersion(version)!,
    )
    return { ok: report.ok, plan: result.plan, error: null, prechecks: report, facts, envDir }
  }

  /**
   * Asks the user's torch index what kind it is (a torch root or PyPI-style); null: the default index.
   * Asked through the install's proxy with the mirror's credentials; the URL shown has no password.
   */
  private async torchIndexFacts(
    version: string,
    split: ReturnType<typeof splitChoiceCredentials<EnvChoices>>,
    facts: MachineFacts,
  ) {
    const { clean, credentials, proxy } = split
    const url = clean.mirrors.torchIndex
    const v = findVersion(version)
    if (!url || !v || clean.torch === 'none') return null
    const picked = chooseTorch(v, clean.torch, facts.gpu, facts.os)
    const build = picked && 'build' in picked ? picked.build.index : null
    return detectTorchIndex(url, build, { credentials, proxy, env: this.env })
  }

  /** A local-folder source must exist and be a folder (URLs are checked by git or the download). */
  private async sourceFolderProblem(source: string) {
    const parsed = parseSource(source)
    if (parsed.kind !== 'folder') return null
    const st = await fs.stat(parsed.path).catch(() => null)
    if (!st) return sourceFolderMessage(source, 'missing')
    return st.isDirectory() ? null : sourceFolderMessage(source, 'not-a-folder')
  }

  /** Whose the install folder is: new, empty, ours (and whether another environment lives there), or the user's. */
  private async folderFacts(envDir: string, name: string) {
    const claim = await inspectFolder(envDir)
    const other = (await this.registry()).environments.find(
      (e) => e.name !== name && path.resolve(e.envDir) === envDir,
    )
    return {
      kind: claim.kind,
      entries: claim.kind === 'foreign' ? claim.entries : [],
      otherEnv: other?.name ?? null,
    }
  }

  /** The credentials and proxy an environment's commands get (from its record, else the settings). */
  private accessFor(choices: EnvChoices | null): RunAccess {
    if (!choices) return NO_ACCESS
    const { credentials, proxy } = splitChoiceCredentials(choices)
    return { credentials, proxy }
  }

  // --- install, resume, repair, update -------------------------------------------------------

  private ensureIdle(): void {
    if (this.runner) {
      throw envError('conflict', 'env_busy', { env: this.runningName ?? '' }, { kind: 'busy' })
    }
  }

  /**
   * Plans, pre-checks, registers and runs an install. `started` resolves once the run has begun (the
   * lock is held), so API callers can return while the CLI awaits `done`.
   */
  async install(req: PlanRequest): Promise<{ started: Promise<void>; done: Promise<RunOutcome> }> {
    this.ensureIdle()
    const existing = (await this.registry()).environments.find((e) => e.name === req.name)
    if (existing?.kind === 'external') {
      throw envError('conflict', 'env_external_name', { env: req.name })
    }
    const planned = await this.plan(req)
    if (!planned.plan) throw planRefused(planned.error!)
    if (!planned.ok) {
      const errors = planned.prechecks!.problems.filter((p) => p.severity === 'error')
      throw new ApiError('domain', errors.map((p) => p.message).join('\n'), {
        kind: 'precheck',
        problems: errors,
      })
    }
    const choices = await this.choicesFor(req)
    const p = planned.plan
    await this.updateRegistry((r) => {
      r.environments = r.environments.filter((e) => e.name !== req.name)
      r.environments.push({
        name: req.name,
        kind: 'managed',
        envDir: p.envDir,
        srcDir: p.srcDir,
        venvPython: p.venvPython,
        version: p.version,
        choices,
        createdAt: existing?.createdAt ?? Date.now(),
      })
      // Installing an environment makes it the one runs use (runs refuse it until it verifies).
      r.active = req.name
    })
    return this.runPlan(req.name, p, { fresh: true, action: 'install', access: this.accessFor(choices) })
  }

  /** Runs a plan (install, resume, repair and update all come here); exposed for tests of the runner chain. */
  runPlan(
    name: string,
    plan: InstallPlan,
    opts: {
      fresh?: boolean
      redo?: StepId[]
      action: 'install' | 'repair' | 'update'
      /** Passwords for mirror hosts and the proxy, from the environment's record. */
      access?: RunAccess
    },
  ): { started: Promise<void>; done: Promise<RunOutcome> } {
    this.ensureIdle()
    const version = findVersion(plan.version)!
    this.history = ''
    this.historyName = name
    const runner = new InstallRunner({
      name,
      plan,
      dataDir: this.options.dataDir,
      baseEnv: this.env,
      probe: {
        pythonRange: version.python,
        tag: plan.version,
        extras: version.extras,
        torchBuild: torchBuildOf(plan),
      },
      onLog: (data) => this.emitLog(name, data),
      onProgress: (p) => this.emitProgress(p),
      ...(opts.redo ? { redo: opts.redo } : {}),
      ...(opts.fresh ? { fresh: true } : {}),
      action: opts.action,
      access: opts.access ?? NO_ACCESS,
    })
    this.runner = runner
    this.runningName = name
    runner.setPaused(this.pressured.size > 0)
    let markStarted: () => void = () => undefined
    let failStart: (e: unknown) => void = () => undefined
    const started = new Promise<void>((resolve, reject) => {
      markStarted = resolve
      failStart = reject
    })
    const unsub = this.onProgressOnce(name, () => markStarted())
    const done = runner
      .run()
      .then(async (outcome) => {
        const verified = outcome.state.status === 'done'
        const failedVerify = outcome.state.lastError?.step === 'verify'
        await this.updateRegistry((r) => {
          const rec = r.environments.find((e) => e.name === name)
          if (!rec) return
          if (verified) rec.version = plan.version
          // The install's own verify counts as the last verify, passed or failed.
          if (verified || failedVerify)
            rec.lastVerify = lastVerifyOf(
              outcome.problems,
              outcome.probe,
              failedVerify ? (outcome.state.lastError ?? null) : null,
            )
        })
        return outcome
      })
      .catch((error: unknown) => {
        failStart(error)
        throw error
      })
      .finally(() => {
        unsub()
        if (this.runner === runner) {
          this.runner = null
          this.runningName = null
        }
      })
    // Never an unhandled rejection: callers still see the error on the promise they await.
    done.catch(() => undefined)
    started.catch(() => undefined)
    return { started, done }
  }

  private onProgressOnce(name: string, fn: () => void): () => void {
    const l = (p: InstallProgress) => {
      if (p.name === name) {
        this.progressListeners.delete(l)
        fn()
      }
    }
    this.progressListeners.add(l)
    return () => this.progressListeners.delete(l)
  }

  private async managedState(name: string): Promise<{ rec: EnvRecord; state: InstallState }> {
    const rec = await this.get(name)
    if (rec.kind === 'external') {
      throw envError('conflict', 'env_external_unmanaged', { env: name })
    }
    const state = await readState(rec.envDir)
    if (!state) {
      throw envError('not_found', 'env_no_install_record', { env: name, dir: rec.envDir })
    }
    return { rec, state }
  }

  /**
   * Continues from the first unfinished step. New mirrors (after a network failure, say) re-plan the
   * remaining commands with them; finished steps stay finished.
   */
  async resume(
    name: string,
    mirrors?: Partial<Mirrors>,
  ): Promise<{ started: Promise<void>; done: Promise<RunOutcome> }> {
    this.ensureIdle()
    const { rec, state } = await this.managedState(name)
    const changed = Object.fromEntries(Object.entries(mirrors ?? {}).filter(([, v]) => v !== undefined))
    // The new mirrors, and the recorded ones the install goes on with, before a step runs or the record changes.
    await this.checkMirrors({ ...rec.choices?.mirrors, ...changed })
    if (Object.keys(changed).length === 0) {
      return this.runPlan(name, state.plan, { action: 'install', access: this.accessFor(rec.choices) })
    }
    const base = rec.choices ?? (await this.choicesFor({ name }))
    const choices: EnvChoices = { ...base, mirrors: { ...base.mirrors, ...changed } }
    const planned = await this.plan({
      name,
      version: state.plan.version,
      envDir: rec.envDir,
      torch: choices.torch,
      installer: choices.installer,
      source: choices.source,
      mirrors: choices.mirrors,
    })
    if (!planned.plan) throw planRefused(planned.error!)
    await this.updateRegistry((r) => {
      const e = r.environments.find((x) => x.name === name)
      if (e) e.choices = choices
    })
    return this.runPlan(name, planned.plan, { action: 'install', access: this.accessFor(choices) })
  }

  /** Re-runs the steps that verify found broken (and verify itself). */
  async repair(name: string): Promise<{
    problems: ProbeProblem[]
    run: { started: Promise<void>; done: Promise<RunOutcome> } | null
  }> {
    this.ensureIdle()
    const { rec, state } = await this.managedState(name)
    const verify = await this.verify(name)
    const unfinished = state.status !== 'done'
    if (verify.ok && !unfinished) return { problems: [], run: null }
    const redo = new Set<StepId>(['verify'])
    for (const p of verify.problems) for (const s of p.repair) redo.add(s as StepId)
    if (verify.error) for (const s of ['venv', 'torch', 'requirements', 'extras'] as const) redo.add(s)
    return {
      problems: verify.problems,
      run: this.runPlan(name, state.plan, {
        redo: [...redo],
        action: 'repair',
        access: this.accessFor(rec.choices),
      }),
    }
  }

  /** Moves an environment to another supported version: new checkout and requirements, same venv where possible. */
  async update(
    name: string,
    version: string,
  ): Promise<{ started: Promise<void>; done: Promise<RunOutcome> }> {
    this.ensureIdle()
    const { rec, state } = await this.managedState(name)
    if (!findVersion(version)) {
      throw envError('bad_request', 'env_unsupported_version', { version })
    }
    const choices = rec.choices ?? (await this.choicesFor({ name }))
    const planned = await this.plan({ name, version, envDir: rec.envDir, ...choices })
    if (!planned.plan) throw planRefused(planned.error!)
    const sameTorch =
      JSON.stringify(planned.plan.torch) === JSON.stringify(state.plan.torch) &&
      state.steps.torch?.state === 'done'
    const redo: StepId[] = ['source', 'requirements', 'extras', 'accelerate', 'tokenizers', 'verify']
    if (!sameTorch) redo.push('torch')
    return this.runPlan(name, planned.plan, { redo, action: 'update', access: this.accessFor(choices) })
  }

  // --- verify --------------------------------------------------------------------------------

  async verify(name: string, light?: boolean): Promise<VerifyResult> {
    const rec = await this.get(name)
    const state = rec.kind === 'managed' ? await readState(rec.envDir).catch(() => null) : null
    const planned = state?.plan.steps.find((s) => s.id === 'verify')?.probe
    const expect = planned ?? { torch: true, cuda: false, trainingScripts: true }
    const isLight = light ?? !expect.trainingScripts
    const effective = isLight ? { torch: false, cuda: false, trainingScripts: false } : expect
    const version = findVersion(rec.version ?? DEFAULT_VERSION) ?? findVersion(DEFAULT_VERSION)!
    const base: VerifyResult = { name, ok: false, light: isLight, problems: [], probe: null, error: null }
    if (!existsSync(rec.venvPython)) {
      const m = envText(rec.kind === 'managed' ? 'verify_python_missing_managed' : 'verify_python_missing', {
        python: rec.venvPython,
      })
      const missing = { ...base, error: m.message, errorCode: m.code, errorParams: m.params }
      if (!isLight) await this.recordVerify(name, missing)
      return missing
    }
    const out = path.join(this.options.dataDir, 'tmp', `probe-${process.pid}-${Date.now()}.json`)
    await fs.mkdir(path.dirname(out), { recursive: true })
    const probeScript = resourceFile(this.env, 'env', 'probe.py')
    const env = installEnv(this.env, this.options.dataDir, {
      HF_HOME: envLayout(process.platform === 'win32' ? 'win32' : 'linux', rec.envDir).hfHome,
    })
    const r = await execShort(
      rec.venvPython,
      [probeScript, '--sd-scripts', rec.srcDir, '--out', out, ...(isLight ? ['--light'] : [])],
      { env, cwd: rec.srcDir, timeoutMs: 300_000 },
    )
    let raw: unknown = null
    try {
      raw = JSON.parse(await fs.readFile(out, 'utf8'))
    } catch {
      // handled below
    } finally {
      await fs.rm(out, { force: true })
    }
    const parsed = ProbeReport.safeParse(raw)
    if (!parsed.success) {
      const m = envText('verify_probe_failed', {
        exit: String(r.code),
        output: (r.stderr || r.error || '').trim().slice(-1000),
      })
      const broken = { ...base, error: m.message, errorCode: m.code, errorParams: m.params }
      if (!isLight) await this.recordVerify(name, broken)
      return broken
    }
    const os = process.platform === 'win32' ? 'win32' : 'linux'
    const problems = evaluateProbe(parsed.data, {
      expect: effective,
      pythonRange: version.python,
      tag: rec.kind === 'managed' ? rec.version : null,
      extras: rec.kind === 'managed' ? version.extras : [],
      torchBuild: state ? torchBuildOf(state.plan) : null,
      ...(rec.kind === 'external'
        ? { existing: { torchCommand: existingTorchCommand(version, rec.venvPython, os) } }
        : {}),
    })
    const result = { ...base, ok: problems.length === 0, problems, probe: parsed.data }
    if (!isLight) await this.recordVerify(name, result)
    return result
  }

  /** Keeps a full verify's outcome with the record: readiness and the package rules read it. */
  private async recordVerify(name: string, v: VerifyResult): Promise<void> {
    await this.updateRegistry((r) => {
      const rec = r.environments.find((e) => e.name === name)
      if (rec)
        rec.lastVerify = lastVerifyOf(
          v.problems,
          v.probe,
          v.error === null ? null : { message: v.error, code: v.errorCode, params: v.errorParams },
        )
    })
  }

  // --- remove and adopt ----------------------------------------------------------------------

  /**
   * Deletes a managed environment's files: only what its install created, plus the entries the user
   * confirmed by name (`confirmForeign`); refuses, deleting nothing, while its folder holds anything
   * else. An existing install used as it is is only forgotten.
   */
  async remove(
    name: string,
    confirm: boolean,
    confirmForeign: readonly string[] = [],
  ): Promise<{ removed: boolean; deletedFiles: boolean; deleted: string[] }> {
    if (!confirm) {
      throw envError('bad_request', 'env_remove_unconfirmed')
    }
    const rec = await this.get(name)
    if (this.runningName === name) {
      throw envError('conflict', 'env_remove_installing', { env: name })
    }
    let deleted: string[] = []
    if (rec.kind === 'managed') {
      const claim = await inspectFolder(rec.envDir)
      // Only ever delete from a folder we created: it must hold our manifest or install record.
      if (claim.kind === 'ours') {
        const outcome = await removeOwned(rec.envDir, {
          confirmForeign,
          legacyCreatedRoot: path.resolve(rec.envDir) === path.resolve(this.defaultEnvDir(name)),
        })
        if (!outcome.ok) {
          throw envError(
            'conflict',
            'env_remove_foreign',
            { dir: rec.envDir, names: listNames(outcome.unconfirmed) },
            {
              kind: 'foreign_files',
              folder: rec.envDir,
              files: outcome.foreign,
              unconfirmed: outcome.unconfirmed,
            },
          )
        }
        deleted = outcome.deleted
      }
    }
    await this.updateRegistry((r) => {
      r.environments = r.environments.filter((e) => e.name !== name)
      if (r.active === name) r.active = r.environments[0]?.name ?? null
    })
    // A log view opened from now on should not show the install of an environment that is gone.
    if (this.historyName === name) {
      this.history = ''
      this.historyName = null
    }
    return { removed: true, deletedFiles: deleted.length > 0, deleted }
  }

  /**
   * Registers an existing sd-scripts install (an sd-scripts folder, or a kohya_ss folder holding one)
   * with its venv, without changing anything in it, and verifies it.
   */
  async useExisting(
    name: string,
    folder: string,
    venv?: string | null,
  ): Promise<{ record: EnvRecord; verify: VerifyResult }> {
    const root = path.resolve(folder)
    const candidates = [root, path.join(root, 'sd-scripts')]
    const srcDir = candidates.find(
      (d) => existsSync(path.join(d, 'sdxl_train_network.py')) || existsSync(path.join(d, 'library')),
    )
    if (!srcDir) {
      throw envError('bad_request', 'env_no_sd_scripts', { dir: root })
    }
    const bin = process.platform === 'win32' ? path.join('Scripts', 'python.exe') : path.join('bin', 'python')
    const venvDirs = venv
      ? [path.resolve(venv)]
      : [
          path.join(root, 'venv'),
          path.join(root, '.venv'),
          path.join(srcDir, 'venv'),
          path.join(srcDir, '.venv'),
        ]
    const venvDir = venvDirs.find((d) => existsSync(path.join(d, bin)))
    if (!venvDir) {
      throw envError('bad_request', 'env_no_venv', { dirs: venvDirs.join(', ') })
    }
    if ((await this.registry()).environments.some((e) => e.name === name)) {
      throw envError('conflict', 'env_name_taken', { env: name })
    }
    const record: EnvRecord = {
      name,
      kind: 'external',
      envDir: root,
      srcDir,
      venvPython: path.join(venvDir, bin),
      version: null,
      choices: null,
      createdAt: Date.now(),
    }
    await this.updateRegistry((r) => {
      r.environments.push(record)
      // Adopting an install makes it the one runs use (they refuse it while it does not verify).
      r.active = name
    })
    const verify = await this.verify(name)
    const tag = verify.probe?.sd_scripts.tag ?? null
    if (tag) {
      await this.updateRegistry((r) => {
        const rec = r.environments.find((e) => e.name === name)
        if (rec) rec.version = tag
      })
      record.version = tag
    }
    return { record, verify }
  }

  stop(): void {
    this.runner?.stop()
  }

  async dispose(): Promise<void> {
    this.runner?.stop()
    this.logListeners.clear()
    this.progressListeners.clear()
  }
}
