import type { WorkState } from '../../core/api/domains/desktop'
import { msg, type Msg } from '../../core/desktop/messages'

/**
 * What happens when the window closes or the app is asked to quit while work is in progress. Pure (no
 * electron import), so every state is tested in Node; index.ts only carries the decision out.
 *
 * - Nothing running: close and quit as usual.
 * - A run, an install or a LoRA tool job running: ask "Stop and quit / Keep working in the background /
 *   Cancel". Background hides the window to the tray, or minimises it where no tray can be shown (a hidden
 *   window without a tray icon could never be found again).
 * - Once the user chose the background, closing the window again hides it without asking; quitting (menu,
 *   tray, Ctrl+Q) always asks while work remains.
 * - The OS ending the session (shutdown, restart, log-off): Windows first asks whether the app may end;
 *   with work in progress it says no, so Windows shows the user that SDXL Studio is busy and lets them choose.
 *   When the session ends anyway, there is no one to ask: stop the work cleanly (records say why) and quit.
 */

export type QuitTrigger = 'window-close' | 'app-quit' | 'session-end-query' | 'session-end'

export type QuitChoice = 'stop-and-quit' | 'background' | 'cancel'

export interface GuardState {
  /** The user chose "keep working in the background" and that work is still going. */
  background: boolean
  /** The window is hidden (in the tray) or minimised. */
  windowHidden: boolean
}

export interface QuitDialog {
  title: Msg
  message: Msg
  detail: Msg[]
  /** Buttons in order; index = the dialog's response. */
  buttons: Array<{ choice: QuitChoice; label: Msg }>
  /** Where Enter goes: never to the destructive choice. */
  defaultIndex: number
  /** What Escape or the dialog's close box means. */
  cancelIndex: number
}

export type QuitDecision =
  | { action: 'proceed' }
  | { action: 'ask'; dialog: QuitDialog }
  | { action: 'hide' }
  | { action: 'block' }
  | { action: 'stop-and-quit' }

export function hasWork(work: WorkState): boolean {
  return work.runs.length > 0 || work.installs.length > 0 || work.tools > 0
}

/** What the dialog says is at stake, one line per kind of work. */
export function workLines(work: WorkState): Msg[] {
  const lines: Msg[] = []
  const [first] = work.runs
  if (work.runs.length === 1 && first) lines.push(msg('quit.oneRun', { name: first.name }))
  else if (work.runs.length > 1) lines.push(msg('quit.runs', { count: work.runs.length }))
  for (const name of work.installs) lines.push(msg('quit.install', { name }))
  if (work.tools > 0) lines.push(msg('quit.tools', { count: work.tools }))
  if (work.queued > 0) lines.push(msg('quit.queued', { count: work.queued }))
  return lines
}

export function quitDialog(
  work: WorkState,
  trigger: 'window-close' | 'app-quit',
  guard: GuardState,
): QuitDialog {
  // From the tray's Quit with the window already hidden, "background" is what is happening already.
  const offerBackground = !(trigger === 'app-quit' && guard.windowHidden)
  const training = work.runs.length > 0
  const buttons: QuitDialog['buttons'] = [
    { choice: 'stop-and-quit', label: msg(training ? 'quit.stopAndQuit' : 'quit.stopWorkAndQuit') },
  ]
  if (offerBackground)
    buttons.push({ choice: 'background', label: msg(training ? 'quit.keepTraining' : 'quit.keepWorking') })
  buttons.push({ choice: 'cancel', label: msg('quit.cancel') })
  return {
    title: msg('quit.title'),
    message: msg(training ? 'quit.messageTraining' : 'quit.messageWorking'),
    detail: [
      ...workLines(work),
      msg(training ? 'quit.stopLosesRun' : 'quit.stopLosesWork'),
      ...(offerBackground ? [msg('quit.backgroundHint')] : []),
    ],
    buttons,
    defaultIndex: buttons.findIndex((b) => b.choice === (offerBackground ? 'background' : 'cancel')),
    cancelIndex: buttons.findIndex((b) => b.choice === 'cancel'),
  }
}

export function decideQuit(trigger: QuitTrigger, work: WorkState, guard: GuardState): QuitDecision {
  const busy = hasWork(work)
  switch (trigger) {
    case 'session-end-query':
      return busy ? { action: 'block' } : { action: 'proceed' }
    case 'session-end':
      return busy ? { action: 'stop-and-quit' } : { action: 'proceed' }
    case 'window-close':
      if (!busy) return { action: 'proceed' }
      if (guard.background) return { action: 'hide' }
      return { action: 'ask', dialog: quitDialog(work, trigger, guard) }
    case 'app-quit':
      if (!busy) return { action: 'proceed' }
      return { action: 'ask', dialog: quitDialog(work, trigger, guard) }
  }
}

/** The dialog's response (a button index) as a choice; anything unexpected cancels. */
export function choiceOf(dialog: QuitDialog, response: number): QuitChoice {
  return dialog.buttons[response]?.choice ?? 'cancel'
}

export type QuitOutcome =
  { action: 'stop-and-quit' } | { action: 'hide-to-tray' } | { action: 'minimize' } | { action: 'stay' }

/** What a choice does; "background" needs a tray the user can see, else the window is minimised. */
export function outcomeOf(choice: QuitChoice, trayVisible: boolean): QuitOutcome {
  if (choice === 'stop-and-quit') return { action: 'stop-and-quit' }
  if (choice === 'background') return trayVisible ? { action: 'hide-to-tray' } : { action: 'minimize' }
  return { action: 'stay' }
}
