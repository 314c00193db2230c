/**
 * A Chromium performance trace of the page while it streams (BENCH_PAGE_TRACE=<file>), summarised as
 * where each busy thread of the page's process spent its time: style, layout, paint, script, garbage
 * collection. A CPU profile alone cannot say it: Blink's rendering work shows there as "(program)".
 * The file opens in Chromium's DevTools (Performance panel, "Load profile").
 */
import { writeFileSync } from 'node:fs'
import { z } from 'zod'
import type { CdpPage } from './cdp-page'

const CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'blink',
  'cc',
  'v8',
  'toplevel',
  '__metadata',
].join(',')

const TraceEvent = z.object({
  name: z.string(),
  ph: z.string(),
  pid: z.number(),
  tid: z.number(),
  ts: z.number().optional(),
  dur: z.number().optional(),
  args: z.record(z.string(), z.unknown()).optional(),
})
type TraceEvent = z.infer<typeof TraceEvent>

export interface PageTrace {
  stop(): Promise<void>
}

export async function startPageTrace(page: CdpPage, file: string): Promise<PageTrace> {
  const events: TraceEvent[] = []
  const offData = page.on('Tracing.dataCollected', (params) => {
    const parsed = z.object({ value: z.array(z.unknown()) }).safeParse(params)
    if (!parsed.success) return
    for (const raw of parsed.data.value) {
      const e = TraceEvent.safeParse(raw)
      if (e.success) events.push(e.data)
    }
  })
  await page.send('Tracing.start', { categories: CATEGORIES, transferMode: 'ReportEvents' })
  return {
    async stop() {
      const complete = new Promise<void>((resolve) => {
        const off = page.on('Tracing.tracingComplete', () => {
          off()
          resolve()
        })
      })
      await page.send('Tracing.end')
      await complete
      offData()
      writeFileSync(file, JSON.stringify({ traceEvents: events }))
      console.log(`page trace (DevTools, Performance panel, "Load profile"): ${file}`)
      printSummary(events)
    },
  }
}

/** Self time by event name on each thread that was busy, from the nesting of complete ("X") events. */
function printSummary(events: TraceEvent[]): void {
  const threadNames = new Map<string, string>()
  for (const e of events)
    if (e.ph === 'M' && e.name === 'thread_name')
      threadNames.set(`${e.pid}:${e.tid}`, String(e.args?.name ?? ''))
  const byThread = new Map<string, TraceEvent[]>()
  for (const e of events) {
    if (e.ph !== 'X' || e.ts === undefined || e.dur === undefined) continue
    const key = `${e.pid}:${e.tid}`
    const list = byThread.get(key) ?? []
    byThread.set(key, list)
    list.push(e)
  }
  const summaries: Array<{ thread: string; busy: number; self: Map<string, number> }> = []
  for (const [key, list] of byThread) {
    list.sort((a, b) => (a.ts as number) - (b.ts as number) || (b.dur as number) - (a.dur as number))
    const self = new Map<string, number>()
    const stack: Array<{ end: number; name: string }> = []
    let busy = 0
    for (const e of list) {
      const start = e.ts as number
      const dur = e.dur as number
      while (stack.length && (stack[stack.length - 1] as { end: number }).end <= start) stack.pop()
      const parent = stack[stack.length - 1]
      if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - dur)
      else busy += dur
      self.set(e.name, (self.get(e.name) ?? 0) + dur)
      stack.push({ end: start + dur, name: e.name })
    }
    summaries.push({ thread: threadNames.get(key) ?? key, busy, self })
  }
  summaries.sort((a, b) => b.busy - a.busy)
  for (const s of summaries.slice(0, 4)) {
    const top = [...s.self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([name, us]) => `${name} ${(us / 1e6).toFixed(2)}`)
    console.log(`  ${s.thread}: busy ${(s.busy / 1e6).toFixed(1)} s; self s: ${top.join(', ')}`)
  }
}
