import type { PostfixValue } from './events'
import type { z } from 'zod'

/**
 * Reads one rendered tqdm bar. tqdm's default layout (tqdm/std.py format_meter) is
 *   `{desc}: {pct:3.0f}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{, postfix}]`
 * and, without a total, `{desc}: {n}{unit} [{elapsed}, {rate}{, postfix}]`. When tqdm has no width for
 * the bar (Colab and other notebook consoles, `ncols=0`) it drops the bar and both pipes:
 * `steps:   0% 0/2300 [00:01<?, ?it/s]`.
 * Anything printed right after the closing bracket without a newline (a glued `epoch 1/30` or
 * `Traceback …`) is returned as `rest` so the caller can read it as its own line.
 */
export interface TqdmBar {
  desc: string | null
  step: number
  total: number | null
  percent: number | null
  elapsedS: number | null
  remainingS: number | null
  rate: { value: number; unit: 'it/s' | 's/it' } | null
  itPerS: number | null
  postfix: Record<string, z.infer<typeof PostfixValue>>
  rest: string
}

const RATE = String.raw`(\?|[\d.]+)\s*(\w*)\/s|([\d.]+)\s*s\/(\w+)`
const WITH_TOTAL = new RegExp(
  String.raw`^\s*(?:(.*?):\s*)?(\d{1,3})%(?:\|([^|]*)\|)?\s*(\d+)\/(\d+)\s*\[([\d:]+)<([\d:?]+),\s*(?:${RATE})(?:,\s*([^\]]*))?\]`,
)
const WITHOUT_TOTAL = new RegExp(
  String.raw`^\s*(?:(.*?):\s*)?(\d+)([a-zA-Z]*) \[([\d:]+),\s*(?:${RATE})(?:,\s*([^\]]*))?\]`,
)
/** Cheap pre-check so ordinary log lines never reach the big expressions. */
const LOOKS_LIKE_BAR = /\d%\||\d[a-zA-Z]* \[\d/

export function parseInterval(text: string): number | null {
  if (!/^\d+(:\d+){1,2}$/.test(text)) return null
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0)
}

export function parsePostfix(text: string | undefined): Record<string, z.infer<typeof PostfixValue>> {
  const out: Record<string, z.infer<typeof PostfixValue>> = {}
  if (!text) return out
  for (const part of text.split(/,\s*(?=[^,=]+=)/)) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const key = part.slice(0, eq).trim()
    const raw = part.slice(eq + 1).trim()
    const num = raw === '' ? NaN : Number(raw)
    out[key] = Number.isFinite(num) ? num : raw
  }
  return out
}

function rateOf(m: RegExpExecArray, first: number): Pick<TqdmBar, 'rate' | 'itPerS'> {
  const perS = m[first]
  const perIt = m[first + 2]
  if (perS !== undefined) {
    if (perS === '?') return { rate: null, itPerS: null }
    const value = Number(perS)
    return { rate: { value, unit: 'it/s' }, itPerS: value }
  }
  if (perIt !== undefined) {
    const value = Number(perIt)
    return { rate: { value, unit: 's/it' }, itPerS: value > 0 ? 1 / value : null }
  }
  return { rate: null, itPerS: null }
}

export function parseTqdm(line: string): TqdmBar | null {
  if (!LOOKS_LIKE_BAR.test(line)) return null
  let m = WITH_TOTAL.exec(line)
  if (m) {
    const total = Number(m[5])
    const step = Number(m[4])
    return {
      desc: m[1]?.trim() || null,
      step,
      total,
      // Two decimals: 7/25 is 28, not 28.000000000000004, in events and records.
      percent: total > 0 ? Math.round((step / total) * 10_000) / 100 : Number(m[2]),
      elapsedS: parseInterval(m[6] ?? ''),
      remainingS: parseInterval(m[7] ?? ''),
      ...rateOf(m, 8),
      postfix: parsePostfix(m[12]),
      rest: line.slice(m[0].length),
    }
  }
  m = WITHOUT_TOTAL.exec(line)
  if (m) {
    return {
      desc: m[1]?.trim() || null,
      step: Number(m[2]),
      total: null,
      percent: null,
      elapsedS: parseInterval(m[4] ?? ''),
      remainingS: null,
      ...rateOf(m, 5),
      postfix: parsePostfix(m[9]),
      rest: line.slice(m[0].length),
    }
  }
  return null
}
