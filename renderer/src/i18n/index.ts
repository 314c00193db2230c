import i18next from 'i18next'
import { initReactI18next } from 'react-i18next'
import type { Language } from '../../../core/api/domains/app'
import { en, loadResources, namespaces } from './resources'

export const supportedLanguages = ['en', 'ru'] as const satisfies readonly Language[]

void i18next.use(initReactI18next).init({
  resources: { en },
  ns: namespaces,
  defaultNS: 'common',
  lng: 'en',
  // A key missing in another language shows English rather than the bare key (the unit test keeps
  // both complete; this only guards a page added in a hurry).
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
  showSupportNotice: false,
})

/** Loads a language's strings (without switching to it), e.g. to search labels in every language. */
export async function ensureLanguageLoaded(language: Language): Promise<void> {
  if (!i18next.hasResourceBundle(language, 'common')) {
    const bundle = await loadResources[language]()
    for (const ns of namespaces) i18next.addResourceBundle(language, ns, bundle[ns], true, true)
  }
}

/** Loads a language's strings if needed, then switches every view to it. */
export async function applyLanguage(language: Language): Promise<void> {
  await ensureLanguageLoaded(language)
  await i18next.changeLanguage(language)
  document.documentElement.lang = language
}

export default i18next
