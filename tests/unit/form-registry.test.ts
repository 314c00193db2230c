import { describe, expect, it } from 'vitest'
import { enumOptions, leafPaths, numberRule, schemaAt } from '../../core/config/leaves'
import type { TRAINING_TYPES } from '../../core/config/schema'
import { defaultConfig, TrainingConfig } from '../../core/config/schema'
import { optionInfo } from '../../core/sdscripts/args'
import {
  ALL_FIELDS,
  appliesTo,
  FIELDS,
  PROMPT_FIELDS,
  SECTIONS,
  sectionOfPath,
  SUBSET_FIELDS,
} from '../../renderer/src/form/fields'

/*
 * The form registry against the config schema: every field of the training config has exactly one
 * entry (so every setting is reachable in the form), number widgets sit on number fields, selects
 * on enums, and the sd-scripts options named for search exist.
 */

const LIST_EDITORS: Record<string, readonly { path: string }[]> = {
  'dataset.subsets': SUBSET_FIELDS,
  'sampling.prompts': PROMPT_FIELDS,
}

function registryPaths(): string[] {
  const out: string[] = []
  for (const f of FIELDS) {
    const items = LIST_EDITORS[f.path]
    if (items) out.push(...items.map((i) => `${f.path}.*.${i.path}`))
    else out.push(f.path)
  }
  return out
}

describe('form registry', () => {
  it('covers every field of the training config exactly once', () => {
    const schema = leafPaths(TrainingConfig).filter((p) => p !== 'version')
    const registry = registryPaths()
    expect(new Set(registry).size).toBe(registry.length)
    expect([...registry].sort()).toEqual([...schema].sort())
  })

  it('puts every field in a known section, and every section has fields', () => {
    for (const f of ALL_FIELDS) expect(SECTIONS).toContain(f.section)
    for (const s of SECTIONS)
      expect(
        FIELDS.some((f) => f.section === s),
        s,
      ).toBe(true)
  })

  it('uses number widgets exactly for number fields and selects for enums', () => {
    const check = (path: string, kind: string) => {
      const isNumber = numberRule(path) !== null
      expect(kind === 'number', `${path} (${kind})`).toBe(isNumber)
      if (kind === 'select') expect(enumOptions(path), path).not.toBeNull()
    }
    for (const f of FIELDS) if (!LIST_EDITORS[f.path]) check(f.path, f.widget.kind)
    for (const f of SUBSET_FIELDS) check(`dataset.subsets.*.${f.path}`, f.widget.kind)
    for (const f of PROMPT_FIELDS) check(`sampling.prompts.*.${f.path}`, f.widget.kind)
  })

  it('takes ranges from the schema (batch size 1-256 integer, learning rate above 0)', () => {
    expect(numberRule('training.batch_size')).toMatchObject({
      integer: true,
      min: 1,
      max: 256,
      optional: false,
    })
    expect(numberRule('optimizer.learning_rate')).toMatchObject({ min: 0, minInclusive: false, max: 10 })
    expect(numberRule('training.max_token_length')?.choices).toEqual([75, 150, 225])
    expect(numberRule('dataset.subsets.3.num_repeats')).toMatchObject({ integer: true, min: 1 })
    expect(numberRule('sampling.prompts.*.cfg_scale')).toMatchObject({ optional: true, max: 50 })
    expect(schemaAt('no.such.field')).toBeNull()
  })

  it('names sd-scripts options that exist for search', () => {
    for (const f of ALL_FIELDS)
      for (const a of f.args ?? []) {
        // "network_args x", "accelerate x", "dataset x": keys of another place, not script options.
        if (/^(network_args|accelerate|dataset) \w+$/.test(a)) continue
        const known = optionInfo('sdxl_train_network', a) ?? optionInfo('sdxl_train', a)
        expect(known, `${f.id}: ${a}`).toBeTruthy()
      }
  })

  it('shows each type its own network options', () => {
    const shown = (type: (typeof TRAINING_TYPES)[number]) =>
      FIELDS.filter((f) => f.section === 'network' && appliesTo(f, defaultConfig(type))).map((f) => f.path)
    expect(shown('dreambooth')).toEqual([])
    expect(shown('lora')).not.toContain('network.conv_dim')
    expect(shown('locon')).toContain('network.conv_dim')
    expect(shown('locon')).not.toContain('network.factor')
    expect(shown('lokr')).toEqual(expect.arrayContaining(['network.factor', 'network.decompose_both']))
    expect(shown('loha')).not.toContain('network.factor')
  })

  it('maps issue fields to sections', () => {
    expect(sectionOfPath('training.batch_size')).toBe('training')
    expect(sectionOfPath('dataset.subsets.2.image_dir')).toBe('dataset')
    expect(sectionOfPath('extra_args.foo')).toBe('advanced')
    expect(sectionOfPath('dataset.resolution')).toBe('dataset')
    expect(sectionOfPath('base_model')).toBe('model')
  })
})
