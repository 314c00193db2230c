import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { repairConfig } from '../../core/config/draft'
import { numberRule } from '../../core/config/leaves'
import { defaultConfig, TrainingConfig } from '../../core/config/schema'
import {
  changeConfig,
  fieldView,
  initialForm,
  removeItem,
  setValue,
  suggestPreset,
  typeText,
  type FormState,
} from '../../renderer/src/form/form-state'
import { FIELDS, SUBSET_FIELDS } from '../../renderer/src/form/fields'
import { formatNumber, interpretNumber, readNumber } from '../../renderer/src/form/number-text'

const HOSTILE = [
  '0',
  '-1',
  '1.5',
  '1e-4',
  'abc',
  '',
  'x'.repeat(10_000),
  'Кошка',
  '1e-',
  '0.',
  ' 5 ',
  'NaN',
  'Infinity',
  '0x10',
  '1,5',
  '−3',
]

describe('typed numbers', () => {
  it('reads plain and scientific numbers, and nothing else', () => {
    expect(readNumber('1e-4', false)).toBe(1e-4)
    expect(readNumber('5e-5', false)).toBe(5e-5)
    expect(readNumber(' 12 ', false)).toBe(12)
    expect(readNumber('.5', false)).toBe(0.5)
    expect(readNumber('0.', false)).toBe(0)
    expect(readNumber('−3', false)).toBe(-3)
    for (const bad of ['1e-', 'abc', '', 'NaN', 'Infinity', '0x10', '1,5', '1e400', '1 000', 'Кошка'])
      expect(readNumber(bad, false), bad).toBeNull()
    expect(readNumber('0,0001', true)).toBe(1e-4)
    expect(readNumber('1,5', true)).toBe(1.5)
  })

  it('checks the schema range: batch size is a whole number from 1 to 256', () => {
    const rule = numberRule('training.batch_size')!
    expect(interpretNumber('0', rule, false)).toEqual({
      ok: false,
      problem: { code: 'min', params: { limit: 1 } },
    })
    expect(interpretNumber('-1', rule, false)).toMatchObject({ ok: false, problem: { code: 'min' } })
    expect(interpretNumber('1.5', rule, false)).toEqual({ ok: false, problem: { code: 'integer' } })
    expect(interpretNumber('257', rule, false)).toMatchObject({ ok: false, problem: { code: 'max' } })
    expect(interpretNumber('', rule, false)).toEqual({ ok: false, problem: { code: 'required' } })
    expect(interpretNumber('4', rule, false)).toEqual({ ok: true, value: 4 })
    const lr = numberRule('optimizer.learning_rate')!
    expect(interpretNumber('0', lr, false)).toMatchObject({ ok: false, problem: { code: 'min_exclusive' } })
    expect(interpretNumber('1e-4', lr, false)).toEqual({ ok: true, value: 1e-4 })
    expect(interpretNumber('', numberRule('training.seed')!, false)).toEqual({ ok: true, value: undefined })
  })

  it('formats numbers so they read back the same, in both languages', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), (n, comma) => {
        expect(readNumber(formatNumber(n, comma), comma)).toBe(n === 0 ? 0 : n)
      }),
    )
    expect(formatNumber(0.0001, true)).toBe('0,0001')
    expect(formatNumber(undefined, false)).toBe('')
  })
})

describe('form state', () => {
  const fresh = (): FormState => initialForm(defaultConfig('lora'))

  it('a preset suggested for the GPU applies to an untouched form, never over what the user typed meanwhile', () => {
    const preset = {
      ...defaultConfig('lora'),
      training: { ...defaultConfig('lora').training, batch_size: 4 },
    }
    const suggested = suggestPreset(fresh(), preset, 'lora-24gb')
    expect(suggested.config.training.batch_size).toBe(4)
    expect(suggested.presetId).toBe('lora-24gb')
    expect(suggested.touched).toBe(false)

    const typed = typeText(fresh(), 'training.batch_size', '16', false)
    const after = suggestPreset(typed, preset, 'lora-24gb')
    expect(after).toBe(typed)
    expect(after.config.training.batch_size).toBe(16)
    expect(after.presetId).toBeNull()
  })

  it('never puts a value the schema rejects into the config, whatever is typed', () => {
    const paths = FIELDS.filter(
      (f) =>
        f.widget.kind === 'number' ||
        f.widget.kind === 'text' ||
        f.widget.kind === 'path' ||
        f.widget.kind === 'gpus',
    ).map((f) => f.path)
    let state = setValue(fresh(), 'dataset.subsets', [
      { ...TrainingConfig.shape.dataset.parse({ subsets: [{ image_dir: 'x' }] }).subsets[0] },
    ])
    const subsetPaths = SUBSET_FIELDS.filter((f) => f.widget.kind !== 'switch').map(
      (f) => `dataset.subsets.0.${f.path}`,
    )
    for (const path of [...paths, ...subsetPaths])
      for (const text of HOSTILE)
        for (const comma of [false, true]) {
          state = typeText(state, path, text, comma)
          expect(
            TrainingConfig.safeParse(state.config).success,
            `${path} = ${JSON.stringify(text.slice(0, 20))}`,
          ).toBe(true)
          // The field shows what was typed: nothing the user entered disappears.
          expect(fieldView(state, path, comma).text, path).toBe(text)
        }
  })

  it('commits a valid number and keeps invalid text with its problem', () => {
    let s = typeText(fresh(), 'training.batch_size', '4', false)
    expect(s.config.training.batch_size).toBe(4)
    s = typeText(s, 'training.batch_size', '1.5', false)
    expect(s.config.training.batch_size).toBe(4)
    expect(fieldView(s, 'training.batch_size', false)).toEqual({ text: '1.5', problem: { code: 'integer' } })
    s = typeText(s, 'optimizer.learning_rate', '5e-5', false)
    expect(s.config.optimizer.learning_rate).toBe(5e-5)
    expect(fieldView(s, 'optimizer.learning_rate', false).text).toBe('5e-5')
    expect(s.touched).toBe(true)
  })

  it('shows the new value when a fix changes it under typed text', () => {
    let s = typeText(fresh(), 'training.gradient_accumulation_steps', '4', false)
    s = changeConfig(s, { ...s.config, training: { ...s.config.training, gradient_accumulation_steps: 1 } })
    expect(fieldView(s, 'training.gradient_accumulation_steps', false).text).toBe('1')
    expect(s.texts['training.gradient_accumulation_steps']).toBeUndefined()
  })

  it('empties an optional field and refuses to empty a required one', () => {
    let s = typeText(fresh(), 'training.seed', '42', false)
    expect(s.config.training.seed).toBe(42)
    s = typeText(s, 'training.seed', '', false)
    expect(s.config.training.seed).toBeUndefined()
    s = typeText(s, 'network.dim', '', false)
    expect(s.config.network.dim).toBe(32)
    expect(fieldView(s, 'network.dim', false).problem).toEqual({ code: 'required' })
  })

  it('checks text fields against their schema (GPU ids)', () => {
    let s = typeText(fresh(), 'launch.gpu_ids', '0,1', false)
    expect(s.config.launch.gpu_ids).toBe('0,1')
    s = typeText(s, 'launch.gpu_ids', 'abc', false)
    expect(s.config.launch.gpu_ids).toBe('0,1')
    expect(fieldView(s, 'launch.gpu_ids', false).problem).toEqual({ code: 'invalid' })
    s = typeText(s, 'launch.gpu_ids', '', false)
    expect(s.config.launch.gpu_ids).toBeUndefined()
  })

  it('moves typed text with its folder when an earlier folder is removed', () => {
    const subset = TrainingConfig.shape.dataset.parse({
      subsets: [{ image_dir: 'a' }, { image_dir: 'b' }, { image_dir: 'c' }],
    }).subsets
    let s = setValue(fresh(), 'dataset.subsets', subset)
    s = typeText(s, 'dataset.subsets.2.num_repeats', 'many', false)
    s = typeText(s, 'dataset.subsets.1.num_repeats', 'x', false)
    s = removeItem(s, 'dataset.subsets', 1)
    expect(s.config.dataset.subsets.map((x) => x.image_dir)).toEqual(['a', 'c'])
    expect(s.texts).toEqual({ 'dataset.subsets.1.num_repeats': 'many' })
  })
})

describe('draft repair', () => {
  it('keeps every valid field and drops the invalid ones', () => {
    const r = repairConfig({
      type: 'locon',
      training: { batch_size: 0, seed: 7 },
      network: { dim: -5, alpha: 4 },
    })
    expect(r.config.type).toBe('locon')
    expect(r.config.training).toMatchObject({ batch_size: 1, seed: 7 })
    expect(r.config.network).toMatchObject({ dim: 32, alpha: 4 })
    expect(r.dropped.sort()).toEqual(['network.dim', 'training.batch_size'])
  })

  it('reads anything at all as some valid config', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(TrainingConfig.safeParse(repairConfig(x).config).success).toBe(true)
      }),
      { numRuns: 300 },
    )
    expect(repairConfig(null).config.type).toBe('lora')
    expect(repairConfig({ type: 'nope' }).dropped).toContain('type')
  })
})
