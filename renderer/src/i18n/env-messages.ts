import { useTranslation } from 'react-i18next'
import { formatParams, type MessageParams } from './format'

/*
 * The Environment page's translation layer: plan steps, prechecks, install errors and Verify problems
 * come from core/env with a code and parameters beside the English text (core/env/messages.ts); this
 * shows them in the UI language. Anything without a code (an older install record, a message core
 * does not code yet) is shown in English as it came.
 */

interface Coded {
  message: string
  code?: string
  params?: MessageParams
}

/** A step's id gives its short translated name, used where a message names the step it is about. */
export function useEnvMessage() {
  const { t, i18n } = useTranslation('env')
  return (m: Coded, stepId?: string): string => {
    if (!m.code) return m.message
    const params = formatParams(m.params, i18n.language)
    // Failures name their step by its English title: the short translated name reads better.
    if (stepId && 'step' in params) params.step = t(`steps.${stepId}`)
    return t(`codes.${m.code}`, { ...params, defaultValue: m.message })
  }
}

/** The pieces of a step or plan that carry codes, as the translation layer reads them. */
export const coded = {
  title: (s: { title: string; titleCode?: string; titleParams?: MessageParams }): Coded => ({
    message: s.title,
    code: s.titleCode,
    params: s.titleParams,
  }),
  skip: (s: { skipReason?: string | null; skipCode?: string; skipParams?: MessageParams }): Coded => ({
    message: s.skipReason ?? '',
    code: s.skipCode,
    params: s.skipParams,
  }),
  error: (s: { error: string | null; errorCode?: string; errorParams?: MessageParams }): Coded => ({
    message: s.error ?? '',
    code: s.errorCode,
    params: s.errorParams,
  }),
  why: (w: { why: string; whyCode?: string; whyParams?: MessageParams }): Coded => ({
    message: w.why,
    code: w.whyCode,
    params: w.whyParams,
  }),
}
