import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FIX_LABELS, interpolate, ISSUE_MESSAGES } from '../../core/sdscripts/messages'

const locales = path.resolve(import.meta.dirname, '../../renderer/src/i18n/locales')
const load = (lng: string) =>
  JSON.parse(readFileSync(path.join(locales, lng, 'train.json'), 'utf8')) as {
    issues: Record<string, string>
    fixes: Record<string, string>
  }

describe('validation messages', () => {
  it('the English copy in the renderer equals the core templates', () => {
    const en = load('en')
    expect(en.issues).toEqual(ISSUE_MESSAGES)
    expect(en.fixes).toEqual(FIX_LABELS)
  })

  it('Russian has every message and label with the same placeholders', () => {
    const ru = load('ru')
    const holes = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort()
    for (const [code, text] of Object.entries(ISSUE_MESSAGES))
      expect(holes(ru.issues[code] ?? ''), code).toEqual(holes(text))
    for (const [code, text] of Object.entries(FIX_LABELS))
      expect(holes(ru.fixes[code] ?? ''), code).toEqual(holes(text))
  })

  it('interpolates parameters and leaves unknown ones visible', () => {
    expect(interpolate('a {{x}} b {{y}}', { x: 1 })).toBe('a 1 b {{y}}')
  })
})
