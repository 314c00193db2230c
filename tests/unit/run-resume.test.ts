import { describe, expect, it } from 'vitest'
import type { ProgressEvent } from '../../core/runs/events'
import { formatDuration, runNotice } from '../../core/runs/notice'
import {
  isStateFolderName,
  joinProgress,
  resumeCommand,
  stateFolderName,
  stateFolderOf,
} from '../../core/runs/resume'
import { SummaryReducer } from '../../core/runs/summary'
import { runRecord } from '../helpers/run-record'

describe('state folders (sd-scripts train_util names)', () => {
  it('names epoch, step and last states, with sd-scripts defaults when there is no output_name', () => {
    expect(stateFolderName('cat', { epoch: 3, step: null })).toBe('cat-000003-state')
    expect(stateFolderName('cat', { epoch: null, step: 500 })).toBe('cat-step00000500-state')
    expect(stateFolderName('cat', { epoch: null, step: null })).toBe('cat-state')
    expect(stateFolderName(null, { epoch: 1, step: null })).toBe('epoch-000001-state')
    expect(stateFolderName(null, { epoch: null, step: 7 })).toBe('at-step00000007-state')
    expect(stateFolderName(null, { epoch: null, step: null })).toBe('last-state')
    expect(stateFolderName('кошка', { epoch: 12, step: null })).toBe('кошка-000012-state')
  })

  it('knows a state folder by name', () => {
    for (const n of ['cat-000003-state', 'cat-step00000500-state', 'cat-state', 'last-state'])
      expect(isStateFolderName(n), n).toBe(true)
    for (const n of ['cat-000003.safetensors', 'sample', 'state', 'cat-state.json', 'cat-00003-statex'])
      expect(isStateFolderName(n), n).toBe(false)
  })

  it('takes the folder from the save hook line (either separator), else from the output folder', () => {
    const e = { type: 'state_saved' as const, epoch: 2, step: 10 }
    expect(stateFolderOf({ ...e, path: '/o/cat-000002-state/train_state.json' }, '/x', 'dog')).toBe(
      '/o/cat-000002-state',
    )
    expect(stateFolderOf({ ...e, path: 'D:\\o\\cat-000002-state\\train_state.json' }, null, null)).toBe(
      'D:\\o\\cat-000002-state',
    )
    expect(stateFolderOf({ ...e, path: null }, '/o/', 'cat')).toBe('/o/cat-000002-state')
    expect(stateFolderOf({ ...e, path: null }, 'D:\\o', 'cat')).toBe('D:\\o\\cat-000002-state')
    expect(stateFolderOf({ ...e, path: null }, null, 'cat')).toBeNull()
    expect(stateFolderOf({ ...e, path: 'train_state.json' }, '/o', 'cat')).toBeNull()
  })
})

describe('resume command', () => {
  it('appends --resume once, replacing an earlier one in either form', () => {
    expect(resumeCommand(['py', 't.py', '--lr', '1e-4'], '/s')).toEqual([
      'py',
      't.py',
      '--lr',
      '1e-4',
      '--resume',
      '/s',
    ])
    expect(resumeCommand(['py', '--resume', '/old', '--x'], '/new')).toEqual([
      'py',
      '--x',
      '--resume',
      '/new',
    ])
    expect(resumeCommand(['py', '--resume=/old', '--x'], 'C:\\s p')).toEqual([
      'py',
      '--x',
      '--resume',
      'C:\\s p',
    ])
  })
})

describe('joined progress', () => {
  const frame = (step: number, total: number | null): ProgressEvent => ({
    type: 'progress',
    bar: 'train',
    desc: 'steps',
    step,
    total,
    percent: null,
    elapsed_s: 1,
    remaining_s: 1,
    rate: null,
    it_per_s: null,
    avr_loss: 0.1,
    postfix: {},
  })
  it('moves the step on by the offset and takes the percentage of the run total', () => {
    expect(joinProgress(frame(3, 20), 10, 20)).toMatchObject({ step: 13, total: 20, percent: 65 })
    expect(joinProgress(frame(3, 10), 10, null)).toMatchObject({ step: 13, total: 20, percent: 65 })
    expect(joinProgress(frame(15, 20), 10, 20).percent).toBe(100)
    expect(joinProgress(frame(3, null), 10, null)).toMatchObject({ step: 13, total: null })
  })
  it('leaves a first part and other bars alone', () => {
    const f = frame(3, 20)
    expect(joinProgress(f, 0, 20)).toBe(f)
    const caching = { ...f, bar: 'caching_latents' as const }
    expect(joinProgress(caching, 10, 20)).toBe(caching)
  })
  it('a summary goes on from an earlier part', () => {
    const r = SummaryReducer.from({
      total_steps: 20,
      last_step: 7,
      epochs_total: 4,
      last_epoch: 2,
      last_avr_loss: 0.2,
      error: 'oom',
      saved_checkpoints: ['a.safetensors'],
    })
    expect(r.get()).toMatchObject({ last_step: 7, error: null, saved_checkpoints: ['a.safetensors'] })
    r.add({ type: 'checkpoint', action: 'saved', path: 'b.safetensors', file: 'b.safetensors' })
    r.add(joinProgress(frame(3, 20), 10, 20))
    expect(r.get()).toMatchObject({ last_step: 13, saved_checkpoints: ['a.safetensors', 'b.safetensors'] })
  })
})

describe('run notices', () => {
  const base = { id: 'r1', state: 'finished' as const, name: 'Кошка LoRA' }
  it('finished and failed runs notify with loss and the time of every part; others do not', () => {
    const rec = runRecord({
      ...base,
      started_at: '2026-01-01T01:00:00.000Z',
      ended_at: '2026-01-01T01:30:00.000Z',
      summary: {
        total_steps: 10,
        last_step: 10,
        epochs_total: 1,
        last_epoch: 1,
        last_avr_loss: 0.0812345,
        error: null,
        saved_checkpoints: [],
      },
      segments: [
        {
          started_at: '2026-01-01T00:00:00.000Z',
          ended_at: '2026-01-01T00:10:00.000Z',
          state: 'stopped',
          reason: null,
          exit_code: null,
          command: ['python'],
          resume_from: null,
          last_step: 5,
          last_avr_loss: 0.1,
        },
      ],
    })
    expect(runNotice(rec)).toEqual({
      id: 'r1',
      name: 'Кошка LoRA',
      state: 'finished',
      final_loss: 0.0812345,
      duration_s: 2400,
      reason: null,
    })
    expect(runNotice({ ...rec, state: 'stopped' })).toBeNull()
    expect(runNotice({ ...rec, state: 'running' })).toBeNull()
    expect(runNotice({ ...rec, state: 'failed', started_at: null, segments: [] })?.duration_s).toBeNull()
    // A clock that went backwards gives no negative time.
    expect(runNotice({ ...rec, segments: [], ended_at: '2025-01-01T00:00:00.000Z' })?.duration_s).toBeNull()
  })

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0 s')
    expect(formatDuration(59.6)).toBe('1 min 00 s')
    expect(formatDuration(754)).toBe('12 min 34 s')
    expect(formatDuration(-5)).toBe('0 s')
    expect(formatDuration(90061)).toBe('25 h 01 min')
  })
})
