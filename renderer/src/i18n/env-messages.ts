import { useTranslation } from 'react-i18next'
import { z } from 'zod'
import {
  ENV_MESSAGES,
  EnvMessageSchema,
  envInterpolate,
  withParts,
  type EnvMessage,
  type EnvPartName,
} from '../../../core/env/messages'
import { formatParams, type MessageParams } from './format'

/*
 * The Environment page's translation layer: plan steps, prechecks, install errors, Verify problems and
 * readiness come from core/env with a code and parameters beside the English text
 * (core/env/messages.ts); this shows them in the UI language. Messages inside a message (Verify's
 * problems in a failed step, the failure in a readiness refusal) are translated the same way and
 * joined as core joins them. Anything without a code (an older install record) is shown in English
 * as it came.
 */

type Parts = Partial<Record<EnvPartName, EnvMessage[]>>

export interface Coded {
  message: string
  code?: string | undefined
  params?: MessageParams | undefined
  parts?: Parts | undefined
  /** The install step the message is about: named by its translated short name. */
  step?: string | undefined
}

/**
 * A coded message in a language: its own text with the parameters in that language's number format,
 * the step it names by the step's short translated name, and the messages inside it translated the
 * same way. (The hook below is this for the UI's language; tests call it with a locale's `t`.)
 */
export function envMessageText(
  t: (key: string, options: Record<string, unknown>) => string,
  language: string,
  m: Coded,
  stepId?: string,
): string {
  if (!m.code) return m.message
  const step = stepId ?? m.step
  const params = formatParams(m.params, language)
  // Failures name their step by its English title: the short translated name reads better.
  if (step && 'step' in params) params.step = t(`steps.${step}`, {})
  // A setting is named by its id (core puts its English label in the text): its label here.
  if (typeof params.field === 'string')
    params.field = t(`fields.${params.field}`, { defaultValue: params.field })
  const filled = withParts(params, m.parts, (part) => envMessageText(t, language, part))
  return t(`codes.${m.code}`, { ...filled, defaultValue: m.message })
}

/** A step's id gives its short translated name, used where a message names the step it is about. */
export function useEnvMessage() {
  const { t, i18n } = useTranslation('env')
  return (m: Coded, stepId?: string): string =>
    envMessageText((key, options) => t(key, options), i18n.language, m, stepId)
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
  error: (s: {
    error: string | null
    errorCode?: string
    errorParams?: MessageParams
    errorParts?: Parts
  }): Coded => ({
    message: s.error ?? '',
    code: s.errorCode,
    params: s.errorParams,
    parts: s.errorParts,
  }),
  why: (w: { why: string; whyCode?: string; whyParams?: MessageParams }): Coded => ({
    message: w.why,
    code: w.whyCode,
    params: w.whyParams,
  }),
}

/** The torch choice's reasons in the UI language, joined as core joins them ("; "). */
export function useTorchWhy() {
  const m = useEnvMessage()
  return (w: {
    why: string
    whyCode?: string
    whyParams?: MessageParams
    whyParts?: Array<{ code: string; params: MessageParams }>
  }): string =>
    w.whyParts
      ? w.whyParts
          .map((p) => {
            const english = (ENV_MESSAGES as Record<string, string>)[p.code]
            return m({ message: english ? envInterpolate(english, p.params) : w.why, ...p })
          })
          .join('; ')
      : m(coded.why(w))
}

/**
 * The coded messages of an API error from the environment domain, for the UI's language: a readiness
 * refusal (details.reason), a plan refusal or a refused setting (details.code), refusing prechecks
 * (details.problems); else its English text.
 */
export function envErrorMessages(error: unknown): Coded[] {
  const text = error instanceof Error ? error.message : String(error)
  const details = (error as { details?: unknown } | null)?.details
  if (typeof details !== 'object' || details === null) return [{ message: text }]
  const d = details as { reason?: unknown; code?: unknown; params?: unknown; problems?: unknown }
  const reason = EnvMessageSchema.safeParse(d.reason)
  if (reason.success) return [reason.data]
  const single = EnvMessageSchema.safeParse({ message: text, code: d.code, params: d.params })
  if (typeof d.code === 'string' && single.success) return [single.data]
  const problems = z.array(EnvMessageSchema).safeParse(d.problems)
  if (problems.success && problems.data.length > 0) return problems.data
  return [{ message: text }]
}

/** envErrorMessages in the UI's language, one message a line. */
export function useEnvError() {
  const m = useEnvMessage()
  return (error: unknown): string =>
    envErrorMessages(error)
      .map((c) => m(c))
      .join('\n')
}
