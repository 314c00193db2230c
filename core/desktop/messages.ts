/**
 * Texts the desktop shell shows (window title, tray, taskbar, notifications, menus, the quit dialog) as
 * codes + params, translated where they are shown: in the renderer by i18next, in Electron's main process
 * by a small translator over the same locale files (namespace `desktop`). A param may itself be a message
 * (an ETA inside a title), translated first.
 */
export interface Msg {
  code: string
  params?: Record<string, string | number | Msg>
}

export function msg(code: string, params?: Msg['params']): Msg {
  return params ? { code, params } : { code }
}

/** Looks a code up with flat params; numbers arrive already formatted for the language. */
export type Translate = (code: string, params: Record<string, string>) => string

function isMsg(value: unknown): value is Msg {
  return typeof value === 'object' && value !== null && typeof (value as Msg).code === 'string'
}

/**
 * Numbers in the UI language: whole numbers grouped (1 234), others with four significant digits (a loss
 * of 0.081234 reads 0.08123; 0,08123 in Russian).
 */
export function numberFormatter(language: string): (n: number) => string {
  const whole = new Intl.NumberFormat(language, { maximumFractionDigits: 0 })
  const fraction = new Intl.NumberFormat(language, { maximumSignificantDigits: 4 })
  return (n) => (Number.isInteger(n) ? whole.format(n) : fraction.format(n))
}

export function renderMsg(m: Msg, t: Translate, formatNumber: (n: number) => string = String): string {
  const flat: Record<string, string> = {}
  for (const [k, v] of Object.entries(m.params ?? {})) {
    flat[k] = isMsg(v) ? renderMsg(v, t, formatNumber) : typeof v === 'number' ? formatNumber(v) : v
  }
  return t(m.code, flat)
}

/** A length of time to read at a glance: "2 h 05 min", "12 min", "under a minute". */
export function durationMsg(seconds: number): Msg {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return msg('duration.underMinute')
  const totalMinutes = Math.round(s / 60)
  const h = Math.floor(totalMinutes / 60)
  const m = totalMinutes % 60
  if (h === 0) return msg('duration.m', { m })
  return msg('duration.hm', { h, m: String(m).padStart(2, '0') })
}

/** The last component of a path, whichever separator it uses (a Windows path read on Linux, or back). */
export function baseName(p: string): string {
  const parts = p.split(/[\\/]+/).filter((x) => x !== '')
  return parts.at(-1) ?? p
}
