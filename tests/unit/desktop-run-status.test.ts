import { describe, expect, it } from 'vitest'
import { durationMsg, numberFormatter, type Msg } from '../../core/desktop/messages'
import {
  composeTitle,
  desktopStatus,
  failureMsg,
  leaveGuardRuns,
  notificationFor,
  progressOf,
  RunWatch,
  shouldNotify,
  taskbarProgress,
  titleMsg,
  tooltipMsgs,
  trayMenu,
} from '../../core/desktop/run-status'
import type { RunRecord, RunState } from '../../core/runs/record'
import { renderer } from '../../electron/main/strings'

function run(
  over: Partial<RunRecord> & { id: string },
  summary: Partial<RunRecord['summary']> = {},
): RunRecord {
  return {
    name: over.id,
    state: 'running',
    reason: null,
    exit_code: null,
    created_at: '2026-01-01T10:00:00.000Z',
    started_at: '2026-01-01T10:00:00.000Z',
    ended_at: null,
    command: ['python', 'train.py'],
    display_command: 'python train.py',
    cwd: '/srv/training',
    env: {},
    gpus: null,
    output_dir: '/srv/training/out',
    save_configured: true,
    stop_on_failure: false,
    stop_requested: null,
    pid: 123,
    owner_pid: 1,
    summary: {
      total_steps: 3000,
      last_step: 1234,
      epochs_total: 10,
      last_epoch: 4,
      last_avr_loss: 0.081234,
      error: null,
      saved_checkpoints: [],
      ...summary,
    },
    it_per_s: 1.5,
    remaining_s: 720,
    failure: null,
    samples: [],
    gpu_memory_mib: null,
    peak_gpu_memory_mib: null,
    predicted_peak_mib: null,
    rerun_of: null,
    input: { command: ['python', 'train.py'], cwd: '/srv/training' },
    owner_start_time: null,
    segments: [],
    resume_from: null,
    step_offset: 0,
    saved_states: [],
    paused: false,
    ...over,
  }
}

const en = renderer('en')
const ru = renderer('ru')

describe('what a run shows (progress, title)', () => {
  it('reads step/total and clamps the fraction', () => {
    expect(progressOf(run({ id: 'a' }))).toMatchObject({ step: 1234, total: 3000, remaining_s: 720 })
    expect(progressOf(run({ id: 'a' })).fraction).toBeCloseTo(1234 / 3000)
    expect(progressOf(run({ id: 'a' }, { last_step: 4000 })).fraction).toBe(1)
    expect(progressOf(run({ id: 'a' }, { total_steps: 0 })).fraction).toBeNull()
    expect(progressOf(run({ id: 'a' }, { total_steps: null })).fraction).toBeNull()
    expect(progressOf(run({ id: 'a', remaining_s: Number.NaN })).remaining_s).toBeNull()
  })

  it('titles a training run with step/total and time left, in English and Russian', () => {
    const s = desktopStatus([run({ id: 'a' })])
    expect(composeTitle(s, 'SDXL Studio', en)).toBe('step 1,234/3,000 · 12 min left — SDXL Studio')
    expect(composeTitle(s, 'SDXL Studio', ru)).toBe(
      'шаг 1\u00a0234/3\u00a0000 · осталось 12 мин — SDXL Studio',
    )
  })

  it('names the run while it starts or stops, and counts other runs', () => {
    const starting = desktopStatus([
      run({ id: 'cat', state: 'starting', remaining_s: null }, { last_step: null }),
    ])
    expect(en(titleMsg(starting) as Msg)).toBe('cat: starting')
    const stopping = desktopStatus([run({ id: 'dog', state: 'stopping' })])
    expect(en(titleMsg(stopping) as Msg)).toBe('dog: stopping')
    const two = desktopStatus([run({ id: 'a', remaining_s: 60 }), run({ id: 'b', remaining_s: 7200 })])
    // The headline is the run that ends last.
    expect(two.active.map((r) => r.id)).toEqual(['b', 'a'])
    expect(en(titleMsg(two) as Msg)).toBe('step 1,234/3,000 · 2 h 00 min left (+1)')
  })

  it('says a failure until acknowledged, an install, or nothing', () => {
    expect(titleMsg(desktopStatus([run({ id: 'a', state: 'finished' })]))).toBeNull()
    expect(composeTitle(desktopStatus([]), 'Base', en)).toBe('Base')
    expect(en(titleMsg(desktopStatus([], { failed: { id: 'x', name: 'кот' } })) as Msg)).toBe(
      'Run failed: кот',
    )
    expect(ru(titleMsg(desktopStatus([], { install: 'default' })) as Msg)).toBe('Установка default')
  })

  it('formats durations for a glance', () => {
    expect(en(durationMsg(0))).toBe('under a minute')
    expect(en(durationMsg(-5))).toBe('under a minute')
    expect(en(durationMsg(59))).toBe('under a minute')
    expect(en(durationMsg(90))).toBe('2 min')
    expect(en(durationMsg(3600 + 5 * 60))).toBe('1 h 05 min')
    expect(ru(durationMsg(26 * 3600))).toBe('26 ч 00 мин')
  })

  it('formats numbers in the language', () => {
    expect(numberFormatter('en')(1234567)).toBe('1,234,567')
    expect(numberFormatter('ru')(0.081234)).toBe('0,08123')
  })
})

describe('taskbar progress', () => {
  it('follows the lead run on Windows: normal, indeterminate before steps, paused while stopping, error after a failure', () => {
    expect(taskbarProgress(desktopStatus([run({ id: 'a' })]), 'win32')).toEqual({
      value: 1234 / 3000,
      mode: 'normal',
    })
    expect(
      taskbarProgress(desktopStatus([run({ id: 'a', state: 'starting' }, { total_steps: null })]), 'win32'),
    ).toEqual({
      value: 2,
      mode: 'indeterminate',
    })
    expect(taskbarProgress(desktopStatus([run({ id: 'a', state: 'stopping' })]), 'win32').mode).toBe('paused')
    expect(taskbarProgress(desktopStatus([], { failed: { id: 'a', name: 'a' } }), 'win32')).toEqual({
      value: 1,
      mode: 'error',
    })
    expect(taskbarProgress(desktopStatus([]), 'win32')).toEqual({ value: -1, mode: 'none' })
  })

  it('uses only what Linux launchers show (no indeterminate, error or paused state)', () => {
    expect(
      taskbarProgress(desktopStatus([run({ id: 'a', state: 'starting' }, { total_steps: null })]), 'linux'),
    ).toEqual({
      value: 0,
      mode: 'normal',
    })
    expect(taskbarProgress(desktopStatus([run({ id: 'a', state: 'stopping' })]), 'linux').mode).toBe('normal')
    expect(taskbarProgress(desktopStatus([], { failed: { id: 'a', name: 'a' } }), 'linux')).toEqual({
      value: -1,
      mode: 'none',
    })
  })
})

describe('tray tooltip and menu', () => {
  it('lists runs, the queue, an install and a failure; idle says so', () => {
    const runs = [run({ id: 'a' }), run({ id: 'q', state: 'queued' }), run({ id: 'q2', state: 'queued' })]
    const lines = tooltipMsgs(
      desktopStatus(runs, { install: 'default', failed: { id: 'f', name: 'old' } }),
    ).map(en)
    expect(lines).toEqual([
      'SDXL Studio',
      'a: step 1,234/3,000 · 12 min left',
      'Queued runs: 2',
      'Installing environment default',
      'Failed: old',
    ])
    expect(tooltipMsgs(desktopStatus([])).map(ru)).toEqual(['SDXL Studio', 'Ничего не обучается'])
  })

  it('caps the list at three runs', () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((id) => run({ id }))
    const lines = tooltipMsgs(desktopStatus(many)).map(en)
    expect(lines).toHaveLength(5)
    expect(lines.at(-1)).toBe('and 2 more')
  })

  it('offers show, stop per run (not one already stopping) and quit', () => {
    const menu = trayMenu(desktopStatus([run({ id: 'a' }), run({ id: 'b', state: 'stopping' })]))
    const actions = menu.flatMap((i) => (i.kind === 'action' ? [i.do] : []))
    expect(actions).toEqual([{ action: 'show' }, { action: 'stop', runId: 'a' }, { action: 'quit' }])
    const labels = menu.flatMap((i) => (i.kind === 'separator' ? [] : [ru(i.label)]))
    expect(labels).toContain('Остановить a')
    expect(labels).toContain('Выйти из SDXL Studio')
    expect(labels).toContain('b: останавливается')
  })
})

describe('run endings and notifications', () => {
  it('reports a run that was active here and ended finished or failed, not a stop or an old record', () => {
    const w = new RunWatch()
    w.seed([run({ id: 'old', state: 'finished' }), run({ id: 'a', state: 'running' })])
    expect(w.observe(run({ id: 'old', state: 'finished' }))).toBeNull()
    expect(w.observe(run({ id: 'new', state: 'finished' }))).toBeNull() // never seen active
    expect(w.observe(run({ id: 'a', state: 'running' }))).toBeNull()
    expect(w.observe(run({ id: 'a', state: 'finished' }))?.kind).toBe('finished')
    expect(w.observe(run({ id: 'a', state: 'finished' }))).toBeNull() // once
    const states: RunState[] = ['queued', 'starting', 'running', 'stopping', 'stopped']
    for (const s of states) expect(w.observe(run({ id: 'b', state: s }))).toBeNull()
    w.observe(run({ id: 'c', state: 'running' }))
    expect(w.observe(run({ id: 'c', state: 'failed' }))?.kind).toBe('failed')
    expect(w.failed).toEqual({ id: 'c', name: 'c' })
    w.acknowledge()
    expect(w.failed).toBeNull()
  })

  it('a finished run: final loss, time taken, the saved file', () => {
    const done = run(
      { id: 'cat-lora', state: 'finished', ended_at: '2026-01-01T12:14:00.000Z' },
      { saved_checkpoints: ['/srv/training/out/cat-000001.safetensors', 'C:\\out\\cat.safetensors'] },
    )
    const n = notificationFor({ kind: 'finished', run: done })
    expect(n.runId).toBe('cat-lora')
    expect(en(n.title)).toBe('Training finished: cat-lora')
    expect(n.body.map(en)).toEqual(['Final loss 0.08123', 'Took 2 h 14 min', 'Saved cat.safetensors'])
    expect(n.body.map(ru)).toEqual([
      'Итоговый loss 0,08123',
      'Заняло 2 ч 14 мин',
      'Сохранено: cat.safetensors',
    ])
  })

  it('a finished run without loss, times or files says only what it knows', () => {
    const bare = run({ id: 'x', state: 'finished', started_at: null }, { last_avr_loss: null })
    expect(notificationFor({ kind: 'finished', run: bare }).body).toEqual([])
  })

  it('a failed run says why in the UI language', () => {
    const oom = run({
      id: 'a',
      state: 'failed',
      ended_at: '2026-01-01T10:03:00.000Z',
      failure: { kind: 'oom', message: 'x' },
    })
    const n = notificationFor({ kind: 'failed', run: oom })
    expect(en(n.title)).toBe('Training failed: a')
    expect(n.body.map(en)).toEqual(['CUDA out of memory', 'After 3 min'])
    expect(ru(failureMsg(run({ id: 'b', exit_code: 2 })))).toBe('Тренер завершился с кодом 2')
    expect(en(failureMsg(run({ id: 'b', failure: { kind: 'something new', message: '' } })))).toBe(
      'The trainer stopped unexpectedly',
    )
    expect(en(failureMsg(run({ id: 'b' }, { error: 'oom' })))).toBe('CUDA out of memory')
  })

  it('notifies only when the user is not looking', () => {
    expect(shouldNotify({ focused: true, visible: true })).toBe(false)
    expect(shouldNotify({ focused: false, visible: true })).toBe(true)
    expect(shouldNotify({ focused: true, visible: false })).toBe(true)
  })
})

describe('leaving the headless page', () => {
  it('guards runs started from this page while they are queued, starting or running', () => {
    const runs = ['queued', 'starting', 'running', 'stopping', 'finished', 'failed', 'stopped'].map((state) =>
      run({ id: state, state: state as RunState }),
    )
    const all = new Set(runs.map((r) => r.id))
    expect(leaveGuardRuns(runs, all).map((r) => r.id)).toEqual(['queued', 'starting', 'running'])
    expect(leaveGuardRuns(runs, new Set(['finished', 'elsewhere']))).toEqual([])
  })
})
