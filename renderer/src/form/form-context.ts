import { createContext, useContext } from 'react'
import type { Issue } from '../../../core/api/domains/configs'
import type { TrainingConfig } from '../../../core/config/schema'
import type { FormState } from './form-state'

/** What every field of the Train form needs from the page: the state, its changes and the checks. */
export interface FormApi {
  state: FormState
  decimalComma: boolean
  /** Problems are shown in red (after a field was touched, or Start was pressed). */
  showErrors: boolean
  type: (path: string, text: string) => void
  /** Typed text for a value that is not read by the field's schema (lists edited as text). */
  typeAs: (path: string, text: string, value: unknown) => void
  set: (path: string, value: unknown) => void
  remove: (listPath: string, index: number) => void
  /** A change to the whole config from outside the fields (a picked folder that fills several fields). */
  change: (update: (config: TrainingConfig) => TrainingConfig) => void
  /** Every validation issue of the current config. */
  issues: Issue[]
  /** Validation issues about this exact field (or inside it). */
  issuesAt: (path: string) => Issue[]
}

export const FormContext = createContext<FormApi | null>(null)

export function useForm(): FormApi {
  const api = useContext(FormContext)
  if (!api) throw new Error('useForm must be used inside the Train form')
  return api
}
