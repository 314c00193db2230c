import type { NumberRule } from '../../../core/config/leaves'

/*
 * What a number input holds is text: "", "1e-", "0." and "abc" are all things a person types on the
 * way to (or instead of) a number. The text is kept as typed; a number is committed to the config only
 * when the whole text reads as one and the schema's range allows it. Nothing here throws.
 */

/** Every code an input problem can have (input.* in train.json), for the translation test. */
export const INPUT_PROBLEM_CODES = [
  'not_number',
  'required',
  'integer',
  'min',
  'min_exclusive',
  'max',
  'max_exclusive',
  'choices',
  'invalid',
  'key_value',
] as const

export type InputProblem =
  | { code: 'not_number' }
  | { code: 'required' }
  | { code: 'integer' }
  | { code: 'min' | 'min_exclusive' | 'max' | 'max_exclusive'; params: { limit: number } }
  | { code: 'choices'; params: { choices: string } }

export type NumberReading = { ok: true; value: number | undefined } | { ok: false; problem: InputProblem }

/** A plain decimal or scientific number: 12, -0.5, .5, 1e-4, 5E+3. No grouping, no hex, no Infinity. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i

/**
 * Reads typed text as a number. The point is always a decimal separator; so is the comma where the
 * UI language writes decimals with one (ru: "0,0001").
 */
export function readNumber(text: string, decimalComma: boolean): number | null {
  let s = text.trim().replace(/\u2212/g, '-')
  if (decimalComma) s = s.replace(',', '.')
  if (!NUMBER.test(s)) return null
  const n = Number(s)
  return Number.isFinite(n) ? n : null
}

/** The typed text against a field's rule: the number to commit, or what is wrong with it. */
export function interpretNumber(text: string, rule: NumberRule, decimalComma: boolean): NumberReading {
  if (text.trim() === '')
    return rule.optional ? { ok: true, value: undefined } : { ok: false, problem: { code: 'required' } }
  const n = readNumber(text, decimalComma)
  if (n === null) return { ok: false, problem: { code: 'not_number' } }
  return checkNumber(n, rule)
}

export function checkNumber(n: number, rule: NumberRule): NumberReading {
  if (rule.choices && !rule.choices.includes(n))
    return { ok: false, problem: { code: 'choices', params: { choices: rule.choices.join(', ') } } }
  if (rule.integer && !Number.isInteger(n)) return { ok: false, problem: { code: 'integer' } }
  if (rule.min !== null && (rule.minInclusive ? n < rule.min : n <= rule.min))
    return {
      ok: false,
      problem: { code: rule.minInclusive ? 'min' : 'min_exclusive', params: { limit: rule.min } },
    }
  if (rule.max !== null && (rule.maxInclusive ? n > rule.max : n >= rule.max))
    return {
      ok: false,
      problem: { code: rule.maxInclusive ? 'max' : 'max_exclusive', params: { limit: rule.max } },
    }
  return { ok: true, value: n }
}

/**
 * A number as an input shows it: round-trip exact (what is shown reads back as the same number),
 * with the UI language's decimal separator, never grouped. Very small rates keep JavaScript's
 * exponent form (1e-7), which reads back too.
 */
export function formatNumber(n: number | undefined, decimalComma: boolean): string {
  if (n === undefined || !Number.isFinite(n)) return ''
  const s = String(n)
  return decimalComma ? s.replace('.', ',') : s
}

/** Languages that write decimals with a comma (Intl knows; cached per language). */
const commaCache = new Map<string, boolean>()
export function usesDecimalComma(language: string): boolean {
  let v = commaCache.get(language)
  if (v === undefined) {
    try {
      v = new Intl.NumberFormat(language).formatToParts(1.5).find((p) => p.type === 'decimal')?.value === ','
    } catch {
      v = false
    }
    commaCache.set(language, v)
  }
  return v
}
