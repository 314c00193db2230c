import { useCallback } from 'react'
import { useTranslation } from 'react-i18next'
import { numberFormatter, renderMsg, type Msg } from '../../../core/desktop/messages'

/** Renders core/desktop messages (codes in the `desktop` namespace) in the UI language. */
export function useDesktopRender(): (m: Msg) => string {
  const { t, i18n } = useTranslation('desktop')
  const language = i18n.language
  return useCallback(
    (m: Msg) => renderMsg(m, (code, params) => t(code, params), numberFormatter(language)),
    [t, language],
  )
}
