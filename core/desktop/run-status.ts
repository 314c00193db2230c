import { ACTIVE_STATES, ENDED_STATES, type RunRecord, type RunState } from '../runs/record'
import { baseName, durationMsg, msg, type Msg } from './messages'

/**
 * What the desktop shows about training while the user looks elsewhere: the window title, the tray
 * tooltip and menu, the taskbar progress bar and the notification at the end of a run. Pure: the
 * renderer (title, browser notifications) and Electron's main process (tray, taskbar, system
 * notifications) feed it run records and show what it returns.
 */

export interface RunProgress {
  id: string
  name: string
  state: RunState
  step: number | null
  total: number | null
  /** 0..1 once the step total is known. */
  fraction: number | null
  remaining_s: number | null
}

export interface DesktopStatus {
  /** Starting, running or stopping runs; the one that will end last first (it decides the headline). */
  active: RunProgress[]
  queued: number
  /** The environment being installed, if any. */
  install: string | null
  /** A run that failed since the user last looked at the app. */
  failed: { id: string; name: string } | null
}

export function progressOf(run: RunRecord): RunProgress {
  const total = run.summary.total_steps
  const step = run.summary.last_step
  const fraction =
    total !== null && total > 0 && step !== null ? Math.min(1, Math.max(0, step / total)) : null
  return {
    id: run.id,
    name: run.name,
    state: run.state,
    step,
    total,
    fraction,
    remaining_s: run.remaining_s !== null && Number.isFinite(run.remaining_s) ? run.remaining_s : null,
  }
}

/** Ends last first: the longest known time left, then runs already training, then the newest start. */
function leadOrder(a: RunRecord, b: RunRecord): number {
  const ra = a.remaining_s ?? -1
  const rb = b.remaining_s ?? -1
  if (ra !== rb) return rb - ra
  const training = (r: RunRecord) => (r.state === 'running' ? 0 : r.state === 'starting' ? 1 : 2)
  if (training(a) !== training(b)) return training(a) - training(b)
  return (b.started_at ?? b.created_at).localeCompare(a.started_at ?? a.created_at)
}

export function desktopStatus(
  runs: readonly RunRecord[],
  extra: { install?: string | null; failed?: { id: string; name: string } | null } = {},
): DesktopStatus {
  return {
    active: runs
      .filter((r) => ACTIVE_STATES.includes(r.state))
      .sort(leadOrder)
      .map(progressOf),
    queued: runs.filter((r) => r.state === 'queued').length,
    install: extra.install ?? null,
    failed: extra.failed ?? null,
  }
}

/** "1 234/3 000 · 12 min left" for one run, or what it is doing before the steps start. */
export function runLineMsg(p: RunProgress): Msg {
  if (p.state === 'stopping') return msg('run.stopping')
  if (p.state === 'starting' || p.step === null || p.total === null) return msg('run.starting')
  if (p.remaining_s === null) return msg('run.steps', { step: p.step, total: p.total })
  return msg('run.stepsEta', { step: p.step, total: p.total, eta: durationMsg(p.remaining_s) })
}

/** The part of the window title (and the browser tab's) about training; null when there is nothing to say. */
export function titleMsg(status: DesktopStatus): Msg | null {
  const lead = status.active[0]
  if (lead) {
    // Steps say enough on their own; "starting"/"stopping" need the run's name.
    const steps = lead.state === 'running' && lead.step !== null && lead.total !== null
    const line = steps ? runLineMsg(lead) : msg('title.named', { name: lead.name, line: runLineMsg(lead) })
    const more = status.active.length - 1
    return more > 0 ? msg('title.more', { line, count: more }) : line
  }
  if (status.failed) return msg('title.failed', { name: status.failed.name })
  if (status.install) return msg('title.installing', { name: status.install })
  return null
}

/** The title as shown: "1 234/3 000 · 12 min left — SDXL Studio". */
export function composeTitle(status: DesktopStatus, base: string, render: (m: Msg) => string): string {
  const m = titleMsg(status)
  return m ? `${render(m)} — ${base}` : base
}

const MAX_LISTED_RUNS = 3

/** The tray icon's tooltip, one message per line. */
export function tooltipMsgs(status: DesktopStatus): Msg[] {
  const lines: Msg[] = [msg('tray.appName')]
  for (const p of status.active.slice(0, MAX_LISTED_RUNS))
    lines.push(msg('tray.runLine', { name: p.name, line: runLineMsg(p) }))
  if (status.active.length > MAX_LISTED_RUNS)
    lines.push(msg('tray.moreRuns', { count: status.active.length - MAX_LISTED_RUNS }))
  if (status.queued > 0) lines.push(msg('tray.queued', { count: status.queued }))
  if (status.install) lines.push(msg('tray.installing', { name: status.install }))
  if (status.failed) lines.push(msg('tray.failed', { name: status.failed.name }))
  if (lines.length === 1) lines.push(msg('tray.idle'))
  return lines
}

export type TrayAction = { action: 'show' } | { action: 'stop'; runId: string } | { action: 'quit' }

export type TrayMenuItem =
  { kind: 'label'; label: Msg } | { kind: 'separator' } | { kind: 'action'; label: Msg; do: TrayAction }

/** The tray icon's menu: what runs, then show the window, stop each run, quit. */
export function trayMenu(status: DesktopStatus): TrayMenuItem[] {
  const items: TrayMenuItem[] = tooltipMsgs(status)
    .slice(1)
    .map((label) => ({ kind: 'label' as const, label }))
  items.push({ kind: 'separator' })
  items.push({ kind: 'action', label: msg('tray.show'), do: { action: 'show' } })
  for (const p of status.active.slice(0, MAX_LISTED_RUNS)) {
    if (p.state === 'stopping') continue
    items.push({
      kind: 'action',
      label: msg('tray.stop', { name: p.name }),
      do: { action: 'stop', runId: p.id },
    })
  }
  items.push({ kind: 'separator' })
  items.push({ kind: 'action', label: msg('tray.quit'), do: { action: 'quit' } })
  return items
}

export type ProgressMode = 'none' | 'normal' | 'indeterminate' | 'error' | 'paused'

/**
 * The taskbar (Windows) or launcher (Linux, Unity API) progress bar: BrowserWindow.setProgressBar's
 * value and mode. Linux launchers show no indeterminate, error or paused state: there a run without a
 * step total shows an empty bar, and a failure shows nothing (the notification and title say it).
 */
export function taskbarProgress(
  status: DesktopStatus,
  platform: string,
): { value: number; mode: ProgressMode } {
  const lead = status.active[0]
  const windows = platform === 'win32'
  if (lead) {
    if (lead.fraction === null)
      return windows ? { value: 2, mode: 'indeterminate' } : { value: 0, mode: 'normal' }
    if (lead.state === 'stopping' && windows) return { value: lead.fraction, mode: 'paused' }
    return { value: lead.fraction, mode: 'normal' }
  }
  if (status.failed && windows) return { value: 1, mode: 'error' }
  return { value: -1, mode: 'none' }
}

export interface RunEnded {
  kind: 'finished' | 'failed'
  run: RunRecord
}

/**
 * Watches run updates for the moments the desktop reports: a run that was active here ends finished or
 * failed (a run the user stopped needs no notification), and remembers a failure until the user has
 * looked (acknowledge, on window focus or when the page is visible again).
 */
export class RunWatch {
  private readonly last = new Map<string, RunState>()
  private unseen: { id: string; name: string } | null = null

  /** Every run's state at the start; none of them counts as having just ended. */
  seed(runs: readonly RunRecord[]): void {
    for (const r of runs) if (!this.last.has(r.id)) this.last.set(r.id, r.state)
  }

  observe(run: RunRecord): RunEnded | null {
    const before = this.last.get(run.id)
    this.last.set(run.id, run.state)
    const wasActive = before !== undefined && !ENDED_STATES.includes(before)
    if (!wasActive) return null
    if (run.state === 'finished') return { kind: 'finished', run }
    if (run.state === 'failed') {
      this.unseen = { id: run.id, name: run.name }
      return { kind: 'failed', run }
    }
    return null
  }

  forget(id: string): void {
    this.last.delete(id)
    if (this.unseen?.id === id) this.unseen = null
  }

  get failed(): { id: string; name: string } | null {
    return this.unseen
  }

  acknowledge(): void {
    this.unseen = null
  }
}

export interface RunNotification {
  runId: string
  kind: 'finished' | 'failed'
  title: Msg
  /** One message per line. */
  body: Msg[]
}

function elapsedSeconds(run: RunRecord): number | null {
  if (!run.started_at || !run.ended_at) return null
  const s = (Date.parse(run.ended_at) - Date.parse(run.started_at)) / 1000
  return Number.isFinite(s) && s >= 0 ? s : null
}

const FAILURE_KINDS = ['oom', 'traceback', 'exception', 'missing_module', 'nan_loss', 'no_data'] as const

/** Why a run failed, in words the UI language has (the record's own reason text is English). */
export function failureMsg(run: RunRecord): Msg {
  const kind = run.failure?.kind ?? (run.summary.error === 'oom' ? 'oom' : null)
  if (kind && (FAILURE_KINDS as readonly string[]).includes(kind)) return msg(`failure.${kind}`)
  if (run.exit_code !== null) return msg('failure.exit', { code: run.exit_code })
  return msg('failure.other')
}

/** A finished run: final loss, time taken, the file it saved. A failed one: why, and after how long. */
export function notificationFor(ended: RunEnded): RunNotification {
  const { run } = ended
  const body: Msg[] = []
  const time = elapsedSeconds(run)
  if (ended.kind === 'finished') {
    if (run.summary.last_avr_loss !== null) body.push(msg('notify.loss', { loss: run.summary.last_avr_loss }))
    if (time !== null) body.push(msg('notify.time', { time: durationMsg(time) }))
    const file = run.summary.saved_checkpoints.at(-1)
    if (file) body.push(msg('notify.output', { file: baseName(file) }))
    return { runId: run.id, kind: 'finished', title: msg('notify.finishedTitle', { name: run.name }), body }
  }
  body.push(failureMsg(run))
  if (time !== null) body.push(msg('notify.after', { time: durationMsg(time) }))
  return { runId: run.id, kind: 'failed', title: msg('notify.failedTitle', { name: run.name }), body }
}

/** Runs whose tab should not close silently: started from this page and not yet ended (or stopping). */
export function leaveGuardRuns(runs: readonly RunRecord[], startedHere: ReadonlySet<string>): RunRecord[] {
  return runs.filter(
    (r) => startedHere.has(r.id) && (r.state === 'queued' || r.state === 'starting' || r.state === 'running'),
  )
}

/** A notification only when the user is not looking at the app (hidden, minimised, or another window in front). */
export function shouldNotify(view: { focused: boolean; visible: boolean }): boolean {
  return !view.focused || !view.visible
}
