import { readFileSync } from 'node:fs'
import path from 'node:path'
import i18next from 'i18next'
import { expect } from 'vitest'
import { ENV_MESSAGES, type EnvMessage } from '../../core/env/messages'
import { envMessageText } from '../../renderer/src/i18n/env-messages'
import { englishWords } from './english'

/*
 * The Environment page's messages as the page shows them (renderer/src/i18n/env-messages.ts with the
 * env.json locales), for tests that check a coded message reads in Russian.
 */

const locales = path.resolve(import.meta.dirname, '../../renderer/src/i18n/locales')
const load = (lng: string) => JSON.parse(readFileSync(path.join(locales, lng, 'env.json'), 'utf8')) as object

const i18n = i18next.createInstance()
void i18n.init({
  resources: { en: { env: load('en') }, ru: { env: load('ru') } },
  ns: ['env'],
  defaultNS: 'env',
  lng: 'ru',
  interpolation: { escapeValue: false },
  initAsync: false,
  showSupportNotice: false,
})

/** A coded message in a language, as the Environment page shows it. */
export function renderEnv(lng: 'en' | 'ru', m: EnvMessage, step?: string): string {
  const t = i18n.getFixedT(lng, 'env')
  return envMessageText((key, options) => t(key, options), lng, m, step)
}

/**
 * The parameter values of a message and of the messages inside it (paths, commands, log lines): left
 * as they are in every language. Not the step's English title: the Russian text names the step itself.
 */
function paramValues(m: EnvMessage): unknown[] {
  const own = Object.entries(m.params ?? {})
    .filter(([k]) => k !== 'step')
    .map(([, v]) => v)
  return [
    ...own,
    ...Object.values(m.parts ?? {})
      .flat()
      .flatMap(paramValues),
  ]
}

/** The message as the CLI has it: steps named by their English titles (in the parameters). */
function withoutStep(m: EnvMessage): EnvMessage {
  const parts = Object.fromEntries(
    Object.entries(m.parts ?? {}).map(([k, items]) => [k, items.map(withoutStep)]),
  )
  return { ...m, step: undefined, parts }
}

/**
 * Coded, the English copy in the UI equals core's text (what the CLI prints), and the Russian text has
 * no English words besides the values it quotes. Returns the Russian text.
 */
export function expectEnvRussian(m: EnvMessage, step?: string): string {
  expect(m.code, m.message).toBeDefined()
  expect(Object.keys(ENV_MESSAGES)).toContain(m.code)
  expect(renderEnv('en', withoutStep(m))).toBe(m.message)
  const russian = renderEnv('ru', m, step)
  expect(russian).not.toBe(m.message)
  expect(englishWords(russian, { ...paramValues(m) }), russian).toEqual([])
  return russian
}
