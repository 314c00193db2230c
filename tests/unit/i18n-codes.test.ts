import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExtraRisk } from '../../core/config/extras'
import { BUILTIN_PRESETS } from '../../core/config/presets'
import { enumOptions } from '../../core/config/leaves'
import { ENV_FIELD_LABELS, ENV_MESSAGES } from '../../core/env/messages'
import { FIX_LABELS, ISSUE_MESSAGES, NOTE_MESSAGES } from '../../core/sdscripts/messages'
import { ALL_FIELDS, SECTIONS, type FieldDef } from '../../renderer/src/form/fields'
import { INPUT_PROBLEM_CODES } from '../../renderer/src/form/number-text'
import { englishWords } from '../helpers/english'

/*
 * Every message code core can produce, and every string the form registry needs, exists in English
 * (equal to core's own English) and in Russian with the same placeholders; Russian texts hold no
 * English words beyond names that stay the same in every language.
 */

type Tree = { [k: string]: string | Tree }
const locales = path.resolve(import.meta.dirname, '../../renderer/src/i18n/locales')
const load = (lng: string, ns: string) =>
  JSON.parse(readFileSync(path.join(locales, lng, `${ns}.json`), 'utf8')) as Tree

function get(tree: Tree, dotted: string): string | undefined {
  let cur: string | Tree | undefined = tree
  for (const k of dotted.split('.')) cur = typeof cur === 'object' ? cur[k] : undefined
  return typeof cur === 'string' ? cur : undefined
}

const holes = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort()

function checkTable(ns: string, prefix: string, table: Record<string, string>) {
  const en = load('en', ns)
  const ru = load('ru', ns)
  for (const [code, english] of Object.entries(table)) {
    expect(get(en, `${prefix}.${code}`), `en ${ns}:${prefix}.${code}`).toBe(english)
    const russian = get(ru, `${prefix}.${code}`)
    expect(russian, `ru ${ns}:${prefix}.${code}`).toBeTruthy()
    expect(holes(russian!), `ru ${ns}:${prefix}.${code} placeholders`).toEqual(holes(english))
    expect(englishWords(russian!.replace(/\{\{\w+\}\}/g, ' ')), `ru ${ns}:${prefix}.${code}`).toEqual([])
  }
}

describe('message codes', () => {
  it('every validation issue', () => checkTable('train', 'issues', ISSUE_MESSAGES))
  it('every fix label', () => checkTable('train', 'fixes', FIX_LABELS))
  it('every import, export and model note', () => checkTable('train', 'notes', NOTE_MESSAGES))
  it('every environment plan step, precheck, install failure and Verify problem', () =>
    checkTable('env', 'codes', ENV_MESSAGES))
  it('every setting an environment message names (its field parameter)', () =>
    checkTable('env', 'fields', ENV_FIELD_LABELS))
})

describe('built-in presets', () => {
  it('have their name and rationale in English (equal to the preset files) and Russian', () => {
    const en = load('en', 'train')
    const ru = load('ru', 'train')
    for (const p of BUILTIN_PRESETS) {
      expect(get(en, `presets.${p.id}.name`)).toBe(p.name)
      expect(get(en, `presets.${p.id}.rationale`)).toBe(p.rationale)
      for (const k of ['name', 'rationale']) {
        const russian = get(ru, `presets.${p.id}.${k}`)
        expect(russian, `ru presets.${p.id}.${k}`).toBeTruthy()
        expect(englishWords(russian!), `ru presets.${p.id}.${k}`).toEqual([])
      }
    }
  })
})

describe('form registry strings', () => {
  const both = (key: string, ns = 'train') => {
    for (const lng of ['en', 'ru']) expect(get(load(lng, ns), key), `${lng} ${ns}:${key}`).toBeTruthy()
    const russian = get(load('ru', ns), key) ?? ''
    expect(englishWords(russian.replace(/\{\{\w+\}\}/g, ' ')), `ru ${ns}:${key}`).toEqual([])
  }
  const select = (f: FieldDef) =>
    f.widget.kind === 'select' && f.widget.labelled ? enumOptions(f.path) : null

  it('a label and a help text for every field, in both languages', () => {
    for (const f of ALL_FIELDS) {
      both(`fields.${f.id}.label`)
      both(`fields.${f.id}.help`)
    }
  })

  it('a title for every section, a name for every unit and labelled choice', () => {
    for (const s of SECTIONS) both(`sections.${s}`)
    for (const f of ALL_FIELDS) {
      if (f.widget.kind === 'number' && f.widget.unit) both(`units.${f.widget.unit}`)
      for (const o of select(f) ?? []) both(`options.${f.id}.${o}`)
    }
  })

  it('a message for every input problem, option kind and extra-option risk', () => {
    for (const c of INPUT_PROBLEM_CODES) both(`input.${c}`)
    for (const k of ['flag', 'str', 'int', 'float', 'int_or_float', 'str_list', 'float_list'])
      both(`argKinds.${k}`)
    for (const r of ExtraRisk.options) both(`extraRisk.${r}`)
  })
})
