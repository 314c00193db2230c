import { z } from 'zod'
import type { RunRecord } from './record'

/**
 * What a finished or failed run tells the user when it ends (a desktop or browser notification): the
 * facts, not words; the renderer (and the desktop app's main process) word them in the user's language.
 */
export const RunNotice = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(['finished', 'failed']),
  /** The last average loss the trainer printed; null when it printed none. */
  final_loss: z.number().nullable(),
  /** Training time of every part of the run (a resumed run's waits between parts do not count). */
  duration_s: z.number().nonnegative().nullable(),
  /** Why it failed, in words a user can act on. */
  reason: z.string().nullable(),
})
export type RunNotice = z.infer<typeof RunNotice>

function span(start: string | null, end: string | null): number | null {
  if (!start || !end) return null
  const ms = Date.parse(end) - Date.parse(start)
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : null
}

/** The notice of a run that has just ended; null for a run that ended otherwise (stopped by the user). */
export function runNotice(rec: RunRecord): RunNotice | null {
  if (rec.state !== 'finished' && rec.state !== 'failed') return null
  const parts = [
    ...rec.segments.map((s) => span(s.started_at, s.ended_at)),
    span(rec.started_at, rec.ended_at),
  ]
  const known = parts.filter((p): p is number => p !== null)
  return {
    id: rec.id,
    name: rec.name,
    state: rec.state,
    final_loss: rec.summary.last_avr_loss,
    duration_s: known.length ? Math.round(known.reduce((a, b) => a + b, 0)) : null,
    reason: rec.reason,
  }
}

/** `1 h 05 min`, `12 min 30 s`, `45 s`: a duration for a notification (units are words the caller gives). */
export function formatDuration(
  seconds: number,
  units: { h: string; min: string; s: string } = { h: 'h', min: 'min', s: 's' },
): string {
  const t = Math.max(0, Math.round(seconds))
  const h = Math.floor(t / 3600)
  const m = Math.floor((t % 3600) / 60)
  const s = t % 60
  if (h > 0) return `${h} ${units.h} ${String(m).padStart(2, '0')} ${units.min}`
  if (m > 0) return `${m} ${units.min} ${String(s).padStart(2, '0')} ${units.s}`
  return `${s} ${units.s}`
}
