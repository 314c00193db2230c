import { promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import type * as pty from 'node-pty'
import { spawnPty } from '../pty'
import { PtyFlow } from '../pty-flow'
import { killRun } from '../runs/process-tree'
import { displayCommand } from '../../../core/sdscripts/quote'
import { diagnose, diagnoseError, type Diagnosis } from '../../../core/env/failures'
import { envText, envTextWithParts } from '../../../core/env/messages'
import type { InstallPlan, PlanStep, StepCommand, StepId } from '../../../core/env/plan'
import { evaluateProbe, ProbeReport, type ProbeContext, type ProbeProblem } from '../../../core/env/probe'
import {
  firstUnfinished,
  initialState,
  InstallState,
  toProgress,
  type InstallProgress,
} from '../../../core/env/state'
import { redactText, StreamRedactor } from '../../../core/env/credentials'
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../store/atomic'
import { accessEnvironment, accessSecrets, NO_ACCESS, type RunAccess } from './access'
import { findOnPath } from './detect'
import { copyTree, dirSize } from './fsops'
import { acquireInstallLock, pidAlive } from './lock'
import { downloadFile } from './net'
import { claimFolder, recordCreated } from './ownership'
import { fetchUv } from './uv-fetch'

export interface RunnerOptions {
  name: string
  plan: InstallPlan
  dataDir: string
  baseEnv: NodeJS.ProcessEnv
  probe: Omit<ProbeContext, 'expect'>
  onLog?: (text: string) => void
  onProgress?: (progress: InstallProgress) => void
  /** Steps to run again even if recorded done (Repair, Update). */
  redo?: StepId[]
  /** Start over instead of resuming a recorded state. */
  fresh?: boolean
  action?: 'install' | 'repair' | 'update'
  /** Credentials for mirror hosts and the proxy: given to the commands through variables, hidden in the log. */
  access?: RunAccess
}

export interface RunOutcome {
  state: InstallState
  probe: ProbeReport | null
  problems: ProbeProblem[]
}

class StepFailure extends Error {
  constructor(readonly diagnosis: Diagnosis) {
    super(diagnosis.message)
  }
}

const LOG_TAIL = 64 * 1024

export function stateFile(envDir: string): string {
  return path.join(envDir, 'install-state.json')
}

export async function readState(envDir: string): Promise<InstallState | null> {
  return readJsonFile(stateFile(envDir), InstallState.nullable(), () => null)
}

/**
 * Environment for every install command: the user's, minus variables that point Python elsewhere
 * (an active venv, PYTHONHOME, PYTHONPATH), plus UTF-8 output and caches/managed Pythons kept in the
 * app's data folder (on the same drive as the environments, not on a full system drive).
 */
export function installEnv(base: NodeJS.ProcessEnv, dataDir: string, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined) continue
    if (['VIRTUAL_ENV', 'PYTHONHOME', 'PYTHONPATH', 'CONDA_PREFIX', 'PIP_REQUIRE_VIRTUALENV'].includes(k))
      continue
    env[k] = v
  }
  env.PYTHONUNBUFFERED = '1'
  env.PYTHONUTF8 = '1'
  env.PYTHONNOUSERSITE = '1'
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1'
  env.UV_CACHE_DIR ??= path.join(dataDir, 'cache', 'uv')
  env.PIP_CACHE_DIR ??= path.join(dataDir, 'cache', 'pip')
  env.UV_PYTHON_INSTALL_DIR ??= path.join(dataDir, 'python')
  // uv would otherwise print a warning for every install across file systems.
  env.UV_LINK_MODE ??= 'copy'
  env.TERM ??= 'xterm-256color'
  return { ...env, ...extra }
}

/** Which folder a step fills, to measure what it added on disk. */
function measuredDir(plan: InstallPlan, id: StepId): string | null {
  switch (id) {
    case 'uv': {
      const fetch = plan.steps.find((s) => s.id === 'uv')?.commands.find((c) => c.kind === 'fetch-uv')
      return fetch?.kind === 'fetch-uv' ? fetch.to : null
    }
    case 'source':
      return plan.srcDir
    case 'venv':
    case 'torch':
    case 'requirements':
    case 'extras':
      return plan.venvDir
    case 'tokenizers':
      return plan.tokenizerCacheDir
    default:
      return null
  }
}

/**
 * Runs an install plan step by step under a pty, streaming the log, recording every step atomically in
 * <envDir>/install-state.json, and stopping at the first failure with a diagnosis. Running it again on
 * the same folder resumes at the first unfinished step.
 */
export class InstallRunner {
  private child: pty.IPty | null = null
  private stopped = false
  private paused = false
  private flow: PtyFlow | null = null
  private state: InstallState | null = null
  private logFile: string
  private logQueue: Promise<void> = Promise.resolve()
  private readonly access: RunAccess
  private readonly secrets: string[]
  /** Every byte of output passes here before the log file and the events see it. */
  private readonly redactor: StreamRedactor
  private accessEnv: Record<string, string> = {}

  constructor(private readonly o: RunnerOptions) {
    this.logFile = path.join(o.plan.envDir, 'logs', 'install.log')
    this.access = o.access ?? NO_ACCESS
    this.secrets = accessSecrets(this.access)
    this.redactor = new StreamRedactor(this.secrets)
  }

  get progress(): InstallProgress | null {
    return this.state ? toProgress(this.state) : null
  }

  /** Flow control: pause reading the pty while the log's consumers are behind. */
  setPaused(paused: boolean): void {
    this.paused = paused
    if (!this.child) return
    if (paused) this.flow?.pause()
    else this.flow?.resume()
  }

  /** Stops the running command (its whole process group); the step is recorded as interrupted. */
  stop(): void {
    this.stopped = true
    this.killChild()
  }

  private killChild(): void {
    const c = this.child
    if (!c) return
    try {
      if (process.platform !== 'win32') process.kill(-c.pid, 'SIGTERM')
      // Windows: the whole tree (uv, pip and their children), not only the process we started.
      else void killRun({ pid: c.pid, startTime: null, marker: null })
    } catch {
      try {
        c.kill()
      } catch {
        // already gone
      }
    }
  }

  /** Output for the log, with credentials hidden; returns what was logged (part may wait for the next chunk). */
  private log(text: string): string {
    return this.emit(this.redactor.push(text))
  }

  private emit(text: string): string {
    if (text === '') return text
    this.o.onLog?.(text)
    const file = this.logFile
    this.logQueue = this.logQueue.then(() => fs.appendFile(file, text).catch(() => undefined))
    return text
  }

  private async save(): Promise<void> {
    const s = this.state!
    s.updatedAt = Date.now()
    await writeJsonAtomic(stateFile(this.o.plan.envDir), s)
    this.o.onProgress?.(toProgress(s))
  }

  async run(): Promise<RunOutcome> {
    const release = await acquireInstallLock(this.o.dataDir, this.o.name, this.o.action ?? 'install')
    let cleanup = async () => undefined as void
    try {
      // Before anything is written: the folder must be new, empty or ours (never a user's folder).
      await claimFolder(this.o.plan.envDir, this.o.name)
      const prepared = await accessEnvironment(this.access, this.o.dataDir, this.o.baseEnv)
      this.accessEnv = prepared.env
      cleanup = prepared.cleanup
      return await this.runLocked()
    } finally {
      this.emit(this.redactor.flush())
      await cleanup().catch(() => undefined)
      await recordCreated(this.o.plan.envDir).catch(() => undefined)
      await this.logQueue
      await release()
    }
  }

  private async runLocked(): Promise<RunOutcome> {
    const { plan } = this.o
    await fs.mkdir(path.join(plan.envDir, 'logs'), { recursive: true })
    const previous = this.o.fresh ? null : await readState(plan.envDir)
    if (previous) await this.reapOrphan(previous)
    const state = previous ?? initialState(this.o.name, plan, Date.now())
    // Resume passes the recorded plan; Update passes the new version's plan and the steps to redo.
    state.plan = plan
    for (const s of plan.steps) {
      const rec = (state.steps[s.id] ??= { state: 'pending' })
      if (s.skipReason) state.steps[s.id] = { state: 'skipped' }
      else if (rec.state === 'skipped' || this.o.redo?.includes(s.id))
        state.steps[s.id] = { state: 'pending' }
    }
    state.status = 'running'
    state.lastError = null
    state.runnerPid = process.pid
    this.state = state
    await this.save()
    this.log(
      `\r\n=== ${this.o.action ?? 'install'} sd-scripts ${plan.version} into ${plan.envDir} (${new Date().toISOString()})\r\n`,
    )

    let probe: ProbeReport | null = null
    let problems: ProbeProblem[] = []
    for (;;) {
      const next = firstUnfinished(state)
      if (!next) break
      const step = plan.steps.find((s) => s.id === next)!
      const started = Date.now()
      state.steps[step.id] = { state: 'running', startedAt: started }
      await this.save()
      this.log(`\r\n==> ${step.title}\r\n`)
      const dir = measuredDir(plan, step.id)
      const before = dir && step.id !== 'venv' && step.id !== 'source' ? await dirSize(dir) : 0
      try {
        for (const cmd of step.commands) await this.exec(step, cmd)
        if (step.probe) {
          const result = await this.checkProbe(step)
          probe = result.probe
          problems = result.problems
        }
      } catch (error) {
        const raw =
          error instanceof StepFailure
            ? error.diagnosis
            : this.stopped
              ? {
                  kind: 'interrupted' as const,
                  ...envText('fail_interrupted', { step: step.title }),
                }
              : diagnoseError(step.title, error, step.id)
        // The message is stored, shown and logged: no password may be in it.
        const d = { ...raw, message: redactText(raw.message, this.secrets) }
        const finished = Date.now()
        state.steps[step.id] = {
          state: 'failed',
          startedAt: started,
          finishedAt: finished,
          durationMs: finished - started,
          error: d,
        }
        state.status = d.kind === 'interrupted' ? 'interrupted' : 'failed'
        state.lastError = {
          step: step.id,
          kind: d.kind,
          message: d.message,
          ...(d.code ? { code: d.code, params: d.params ?? {} } : {}),
          ...(d.parts ? { parts: d.parts } : {}),
        }
        state.childPid = null
        this.log(`\r\n!!! ${d.message.replace(/\n/g, '\r\n')}\r\n`)
        // On a full or read-only disk the record itself may not be writable: the previous record (this
        // step "running") stays, which resume treats the same way, and the caller still gets the diagnosis.
        await this.save().catch((error: unknown) =>
          this.log(`(could not record the failure in install-state.json: ${String(error)})\r\n`),
        )
        return { state, probe, problems }
      }
      const finished = Date.now()
      const after = dir ? await dirSize(dir) : 0
      state.steps[step.id] = {
        state: 'done',
        startedAt: started,
        finishedAt: finished,
        durationMs: finished - started,
        ...(dir ? { bytes: Math.max(0, after - before) } : {}),
      }
      state.childPid = null
      await this.save()
      await recordCreated(plan.envDir)
    }
    state.status = 'done'
    state.runnerPid = null
    await this.save()
    this.log(`\r\n=== environment ready (${plan.envDir})\r\n`)
    return { state, probe, problems }
  }

  /** A killed app may leave its last command running; stop it before redoing the step (Linux: check it is ours). */
  private async reapOrphan(previous: InstallState): Promise<void> {
    const pid = previous.childPid
    if (!pid || !pidAlive(pid) || process.platform !== 'linux') return
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8')
      if (!cmdline.includes(previous.plan.envDir) && !environ.includes(previous.plan.envDir)) return
      process.kill(-pid, 'SIGKILL')
    } catch {
      // gone or not ours
    }
  }

  private async exec(step: PlanStep, cmd: StepCommand): Promise<void> {
    if (this.stopped)
      throw new StepFailure({
        kind: 'interrupted',
        ...envText('fail_interrupted', { step: step.title }),
      })
    switch (cmd.kind) {
      case 'remove':
        this.log(`$ (remove ${cmd.path})\r\n`)
        await fs.rm(cmd.path, { recursive: true, force: true })
        return
      case 'mkdir':
        await fs.mkdir(cmd.path, { recursive: true })
        return
      case 'write-file':
        this.log(`$ (write ${cmd.path})\r\n`)
        await fs.mkdir(path.dirname(cmd.path), { recursive: true })
        await writeFileAtomic(cmd.path, cmd.content)
        return
      case 'copy-tree':
        this.log(`$ (copy ${cmd.from} -> ${cmd.to})\r\n`)
        await copyTree(cmd.from, cmd.to)
        return
      case 'download': {
        this.log(`$ (download ${cmd.url})\r\n`)
        const { bytes } = await downloadFile(cmd.url, cmd.to, this.netAccess())
        this.log(`downloaded ${bytes} bytes\r\n`)
        return
      }
      case 'fetch-uv': {
        this.log(`$ (download uv ${cmd.version} from ${cmd.index})\r\n`)
        await fetchUv({
          index: cmd.index,
          version: cmd.version,
          to: cmd.to,
          access: this.netAccess(),
          log: (line) => void this.log(line),
        })
        return
      }
      case 'run':
        await this.spawn(step, cmd)
        return
    }
  }

  /** Our own downloads: the proxy rules and mirror credentials the commands get too. */
  private netAccess() {
    return { credentials: this.access.credentials, proxy: this.access.proxy, env: this.o.baseEnv }
  }

  private async spawn(step: PlanStep, cmd: Extract<StepCommand, { kind: 'run' }>): Promise<void> {
    const env = installEnv(this.o.baseEnv, this.o.dataDir, { ...this.accessEnv, ...cmd.env })
    const [file, ...args] = cmd.argv as [string, ...string[]]
    const resolved = path.isAbsolute(file) ? file : await findOnPath(file, env)
    this.log(`$ ${displayCommand(cmd.argv, process.platform === 'win32' ? 'windows' : 'posix')}\r\n`)
    if (!resolved) {
      throw new StepFailure({ kind: 'command', ...envText('fail_not_on_path', { step: step.title, file }) })
    }
    if (path.isAbsolute(file)) {
      const exists = await fs.stat(file).catch(() => null)
      if (!exists) {
        throw new StepFailure({
          kind: 'command',
          ...envText('fail_file_missing', { step: step.title, file }),
        })
      }
    }
    const cwd = cmd.cwd ?? this.o.plan.envDir
    await fs.mkdir(cwd, { recursive: true }).catch(() => undefined)
    let tail = ''
    const exit = await new Promise<{ exitCode: number; signal?: number }>((resolve, reject) => {
      let child: pty.IPty
      try {
        child = spawnPty(resolved, args, { name: 'xterm-256color', cols: 120, rows: 30, cwd, env })
      } catch (error) {
        reject(error)
        return
      }
      this.child = child
      this.flow = new PtyFlow(child)
      if (this.paused) this.flow.pause()
      this.state!.childPid = child.pid
      void this.save().catch(() => undefined)
      child.onData((data) => {
        // The tail feeds the failure message: keep it as redacted as the log.
        tail = (tail + this.log(data)).slice(-LOG_TAIL)
      })
      child.onExit((e) => {
        this.flow?.dispose()
        resolve(e)
      })
    })
    this.child = null
    tail = (tail + this.emit(this.redactor.flush())).slice(-LOG_TAIL)
    if (this.stopped) {
      throw new StepFailure({
        kind: 'interrupted',
        ...envText('fail_interrupted', { step: step.title }),
      })
    }
    if (exit.exitCode !== 0) {
      throw new StepFailure(diagnose(step.title, exit.signal ? null : exit.exitCode, tail, step.id))
    }
  }

  private async checkProbe(step: PlanStep): Promise<{ probe: ProbeReport; problems: ProbeProblem[] }> {
    const file = path.join(this.o.plan.envDir, 'probe.json')
    let raw: unknown
    try {
      raw = JSON.parse(await fs.readFile(file, 'utf8'))
    } catch {
      throw new StepFailure({
        kind: 'verify',
        ...envText('fail_probe_no_report', { step: step.title, file }),
      })
    }
    const parsed = ProbeReport.safeParse(raw)
    if (!parsed.success) {
      throw new StepFailure({ kind: 'verify', ...envText('fail_probe_bad_report', { step: step.title }) })
    }
    const problems = evaluateProbe(parsed.data, { ...this.o.probe, expect: step.probe! })
    if (problems.length) {
      const items = problems.map(({ message, code, params }) => ({ message, code, params }))
      throw new StepFailure({
        kind: 'verify',
        ...envTextWithParts('fail_verify', {}, { problemLines: items }),
      })
    }
    this.log(
      `verified: Python ${parsed.data.python.version}, library ${parsed.data.library.importable ? 'imports' : 'broken'}\r\n`,
    )
    return { probe: parsed.data, problems }
  }
}
