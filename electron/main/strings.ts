import i18next, { type i18n } from 'i18next'
import type { Language } from '../../core/api/domains/app'
import { numberFormatter, renderMsg, type Msg } from '../../core/desktop/messages'
import enCommon from '../../renderer/src/i18n/locales/en/common.json'
import enDesktop from '../../renderer/src/i18n/locales/en/desktop.json'
import ruCommon from '../../renderer/src/i18n/locales/ru/common.json'
import ruDesktop from '../../renderer/src/i18n/locales/ru/desktop.json'

/**
 * The main process's texts (window menu, tray, quit dialog, notifications) from the renderer's own
 * locale files (namespaces `desktop` and `common`), through i18next as in the page, so both say the same
 * words in the same language.
 */
let instance: i18n | null = null

function strings(): i18n {
  if (!instance) {
    instance = i18next.createInstance()
    void instance.init({
      resources: {
        en: { desktop: enDesktop, common: enCommon },
        ru: { desktop: ruDesktop, common: ruCommon },
      },
      ns: ['desktop', 'common'],
      defaultNS: 'desktop',
      lng: 'en',
      fallbackLng: 'en',
      interpolation: { escapeValue: false },
      initAsync: false,
      showSupportNotice: false,
    })
  }
  return instance
}

export type Render = (m: Msg) => string

/** Renders desktop messages in a language (numbers formatted for it too). */
export function renderer(language: Language): Render {
  const t = strings().getFixedT(language, 'desktop')
  const formatNumber = numberFormatter(language)
  return (m) => renderMsg(m, (code, params) => t(code, params), formatNumber)
}
