import { useMemo } from 'react'
import { useTranslation } from 'react-i18next'

/*
 * Numbers, dates and core messages in the UI language. Core speaks in codes with parameters
 * ({code, params, message}); the English `message` is only the fallback for a code a locale lacks.
 */

export type MessageParams = Record<string, string | number>

export interface CodedMessage {
  code?: string
  params?: MessageParams
  message?: string
  label?: string
}

/** Numbers grouped only from five digits (1024 stays 1024; 12 800 is grouped), up to 6 decimals. */
export function numberFormat(language: string): Intl.NumberFormat {
  return new Intl.NumberFormat(language, { maximumFractionDigits: 6, useGrouping: 'min2' })
}

export function formatParams(params: MessageParams | undefined, language: string): MessageParams {
  if (!params) return {}
  const nf = numberFormat(language)
  const out: MessageParams = {}
  for (const [k, v] of Object.entries(params)) out[k] = typeof v === 'number' ? nf.format(v) : v
  return out
}

/** Formatting and message translation for the current UI language. */
export function useFormat() {
  const { t, i18n } = useTranslation(['train', 'common'])
  const language = i18n.language
  return useMemo(() => {
    const nf = numberFormat(language)
    const dtf = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' })
    return {
      language,
      number: (n: number) => nf.format(n),
      /** A number with exactly `digits` decimals (1.0 GiB, 2.35 it/s). */
      fixed: (n: number, digits: number) =>
        new Intl.NumberFormat(language, {
          minimumFractionDigits: digits,
          maximumFractionDigits: digits,
        }).format(n),
      date: (d: Date | string | number) => {
        const date = d instanceof Date ? d : new Date(d)
        return Number.isNaN(date.getTime()) ? String(d) : dtf.format(date)
      },
      /**
       * A core message by its code under `prefix` (a key path in the given namespace, e.g.
       * "train:issues"); the English text when the code is unknown here.
       */
      message: (prefix: string, m: CodedMessage) => {
        const fallback = m.message ?? m.label ?? ''
        if (!m.code) return fallback
        return t(`${prefix}.${m.code}`, { ...formatParams(m.params, language), defaultValue: fallback })
      },
    }
  }, [t, language])
}
