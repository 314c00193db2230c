import { describe, expect, it } from 'vitest'
import type { WorkState } from '../../core/api/domains/desktop'
import {
  choiceOf,
  decideQuit,
  hasWork,
  outcomeOf,
  quitDialog,
  type GuardState,
  type QuitTrigger,
} from '../../electron/main/quit-policy'
import { renderer } from '../../electron/main/strings'

const none: WorkState = { runs: [], queued: 0, installs: [], tools: 0 }
const run: WorkState = { ...none, runs: [{ id: 'r1', name: 'cat lora', state: 'running' }] }
const install: WorkState = { ...none, installs: ['default'] }
const both: WorkState = { ...run, installs: ['default'] }
const tools: WorkState = { ...none, tools: 1 }
const queuedOnly: WorkState = { ...none, queued: 3 }

const visible: GuardState = { background: false, windowHidden: false }
const inBackground: GuardState = { background: true, windowHidden: true }
const en = renderer('en')
const ru = renderer('ru')

describe('quit guard', () => {
  it('counts runs, installs and tool jobs as work; queued runs alone are not lost by quitting', () => {
    expect([none, run, install, both, tools, queuedOnly].map(hasWork)).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
    ])
  })

  it('decides for each trigger and state', () => {
    const table: Array<[QuitTrigger, WorkState, GuardState, string]> = [
      ['window-close', none, visible, 'proceed'],
      ['window-close', queuedOnly, visible, 'proceed'],
      ['window-close', run, visible, 'ask'],
      ['window-close', install, visible, 'ask'],
      ['window-close', both, visible, 'ask'],
      ['window-close', tools, visible, 'ask'],
      // Background was chosen for this work: closing the window again just hides it.
      ['window-close', run, { background: true, windowHidden: false }, 'hide'],
      ['app-quit', none, visible, 'proceed'],
      ['app-quit', run, visible, 'ask'],
      ['app-quit', run, inBackground, 'ask'],
      ['app-quit', install, inBackground, 'ask'],
      // The OS asks first (Windows): block while working, so Windows shows the user who is busy.
      ['session-end-query', none, visible, 'proceed'],
      ['session-end-query', run, visible, 'block'],
      ['session-end-query', install, inBackground, 'block'],
      // The session ends anyway: nobody to ask; stop cleanly.
      ['session-end', run, visible, 'stop-and-quit'],
      ['session-end', none, visible, 'proceed'],
    ]
    for (const [trigger, work, guard, action] of table) {
      expect(
        decideQuit(trigger, work, guard).action,
        `${trigger} ${JSON.stringify(work)} ${JSON.stringify(guard)}`,
      ).toBe(action)
    }
  })

  it('asks "Stop the run and quit / Keep training in the background / Cancel", Enter keeps training', () => {
    const d = quitDialog(run, 'window-close', visible)
    expect(d.buttons.map((b) => en(b.label))).toEqual([
      'Stop the run and quit',
      'Keep training in the background',
      'Cancel',
    ])
    expect(d.buttons[d.defaultIndex]?.choice).toBe('background')
    expect(d.buttons[d.cancelIndex]?.choice).toBe('cancel')
    expect(en(d.message)).toBe('A training run is in progress.')
    expect(d.detail.map(en)).toEqual([
      'Training: cat lora',
      'Stopping now keeps only the checkpoints already saved.',
      'In the background, SDXL Studio keeps working with its window closed.',
    ])
  })

  it('from the tray with the window hidden: stop and quit, or cancel (Enter cancels)', () => {
    const d = quitDialog(run, 'app-quit', inBackground)
    expect(d.buttons.map((b) => b.choice)).toEqual(['stop-and-quit', 'cancel'])
    expect(d.buttons[d.defaultIndex]?.choice).toBe('cancel')
    expect(d.detail.map(en)).not.toContain(
      'In the background, SDXL Studio keeps working with its window closed.',
    )
  })

  it('names an install, tool jobs and queued runs, in Russian too', () => {
    const d = quitDialog(
      { ...both, tools: 2, queued: 1, runs: [...both.runs, { id: 'r2', name: 'b', state: 'starting' }] },
      'window-close',
      visible,
    )
    expect(d.detail.map(ru)).toEqual([
      'Идёт обучений: 2',
      'Устанавливается окружение: default',
      'Задач инструментов LoRA: 2',
      'Запусков в очереди (дождутся следующего старта): 1',
      'Если остановить сейчас, останутся только уже сохранённые чекпойнты.',
      'В фоне SDXL Studio продолжает работу и с закрытым окном.',
    ])
    const installOnly = quitDialog(install, 'window-close', visible)
    expect(installOnly.buttons.map((b) => ru(b.label))).toEqual([
      'Остановить и выйти',
      'Продолжить работу в фоне',
      'Отмена',
    ])
    expect(en(installOnly.message)).toBe('Work is in progress.')
  })

  it('maps the answer: unknown responses cancel; background needs a visible tray, else minimises', () => {
    const d = quitDialog(run, 'window-close', visible)
    expect([0, 1, 2, 3, -1, 99].map((r) => choiceOf(d, r))).toEqual([
      'stop-and-quit',
      'background',
      'cancel',
      'cancel',
      'cancel',
      'cancel',
    ])
    expect(outcomeOf('stop-and-quit', false)).toEqual({ action: 'stop-and-quit' })
    expect(outcomeOf('background', true)).toEqual({ action: 'hide-to-tray' })
    expect(outcomeOf('background', false)).toEqual({ action: 'minimize' })
    expect(outcomeOf('cancel', true)).toEqual({ action: 'stay' })
  })
})
