import type { Language } from '../../../core/api/domains/app'
import { formatDuration, type RunNotice } from '../../../core/runs/notice'
import en from '../../../renderer/src/i18n/locales/en/runs.json'
import ru from '../../../renderer/src/i18n/locales/ru/runs.json'

const words: Record<Language, typeof en.notify> = { en: en.notify, ru: ru.notify }

/** `{{name}}` placeholders, as i18next writes them in the locale files. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole)
}

/**
 * A finished/failed run's notification text in the user's language, from the renderer's own locale
 * strings: the desktop app shows it from its main process, where i18next does not run.
 */
export function noticeText(n: RunNotice, language: Language): { title: string; body: string } {
  const w = words[language] ?? words.en
  const loss = n.final_loss === null ? w.noLoss : n.final_loss.toPrecision(4)
  const time = n.duration_s === null ? '—' : formatDuration(n.duration_s, { h: w.h, min: w.min, s: w.s })
  return {
    title: fill(n.state === 'finished' ? w.finished : w.failed, { name: n.name }),
    body: fill(w.body, { loss, time }),
  }
}
