import i18next from 'i18next'
import { initReactI18next } from 'react-i18next'
import { resources, namespaces } from './resources'

export const supportedLanguages = ['en', 'ru'] as const

void i18next.use(initReactI18next).init({
  resources,
  ns: namespaces,
  defaultNS: 'common',
  lng: 'en',
  fallbackLng: false,
  interpolation: { escapeValue: false },
  returnNull: false,
})

export default i18next
