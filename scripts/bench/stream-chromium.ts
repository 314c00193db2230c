/**
 * The Chromium leg of bench:stream: the real headless server (`serve`), the Runs page in Debian's
 * Chromium, its xterm terminal acknowledging what it has written. Measures end-to-end MB/s, the
 * server process's CPU seconds per 100 MB and peak RSS (Linux /proc), the page's peak JS heap, and
 * frames: the longest gap between animation frames and how many exceeded 100 ms, while streaming and
 * over the whole run.
 * Chromium is driven through cdp-page.ts (Runtime domain only), not Playwright: Playwright would
 * receive a copy of every WebSocket frame and so measure its own overhead.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ensureRendererBuilt, repoRoot, startServer } from '../../tests/e2e/server'
import { z } from 'zod'
import { openPage, type CdpPage } from './cdp-page'

function procStat(pid: number): { cpuS: number; hwmMb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(f[11]) + Number(f[12])
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return { cpuS: ticks / 100, hwmMb: hwm / 1024 }
  } catch {
    return null
  }
}

// Runs in the page: records the longest gap between animation frames and how many exceed 100 ms, for
// the whole run (window.__frames) and, once the benchmark sets window.__streaming, while it streams.
const FRAME_WATCH = `(() => {
  const all = (window.__frames = { max: 0, long: 0, n: 0 })
  const add = (f, gap) => {
    f.n++
    if (gap > f.max) f.max = gap
    if (gap > 100) f.long++
  }
  let last = performance.now()
  const tick = (now) => {
    const gap = now - last
    last = now
    add(all, gap)
    if (window.__streaming) add(window.__streaming, gap)
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
})()`

interface Frames {
  max: number
  long: number
  n: number
}
const describeFrames = (f: Frames | null) =>
  f ? `${f.n} frames, longest gap ${f.max.toFixed(0)} ms, ${f.long} over 100 ms` : 'none seen'

const byTestId = (id: string) => `document.querySelector('[data-testid="${id}"]')`

/** Types into a React-controlled textarea: the native setter, then the input event React listens to. */
async function fill(page: CdpPage, testId: string, text: string): Promise<void> {
  await page.evaluate(`(() => {
    const el = ${byTestId(testId)}
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(el, ${JSON.stringify(text)})
    el.dispatchEvent(new Event('input', { bubbles: true }))
  })()`)
}

export async function chromiumLeg(targetMb: number, filler: number): Promise<void> {
  ensureRendererBuilt()
  const server = await startServer()
  let page: CdpPage | null = null
  try {
    page = await openPage(server.url, { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' })
    await page.waitFor(byTestId('nav-runs'))
    await page.evaluate(`${byTestId('nav-runs')}.click()`)
    await page.waitFor(byTestId('new-run-json'))
    await page.evaluate(FRAME_WATCH)
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    }).trim()
    const steps = Math.max(10, Math.round((targetMb * 1024 * 1024) / (filler + 200)))
    const description = {
      command: [
        python,
        path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py'),
        '--steps',
        String(steps),
        '--delay',
        '0',
        '--filler_bytes',
        String(filler),
        '--output_dir',
        path.join(server.dataDir, 'out'),
      ],
      cwd: server.dataDir,
      name: 'bench',
    }
    const pid = server.child.pid as number
    await fill(page, 'new-run-json', JSON.stringify(description))
    await page.waitFor(`!${byTestId('new-run-start')}.disabled`)
    const before = procStat(pid)
    let heapPeak = 0
    const t0 = Date.now()
    const profileTo = process.env.BENCH_PAGE_PROFILE
    if (profileTo) {
      await page.send('Profiler.enable')
      await page.send('Profiler.start')
    }
    await page.evaluate(`${byTestId('new-run-start')}.click()`)
    const stateText = `${byTestId('run-state')}?.textContent ?? ''`
    let finalState = ''
    // "While streaming": from the first poll that sees the run running to the last one, so neither the
    // detail pane's mount nor its terminal's reload once the run has ended counts.
    let streaming: Frames | null = null
    for (;;) {
      heapPeak = Math.max(heapPeak, await page.heapUsed())
      const poll = await page.evaluate<{ s: string; f: Frames | null }>(`(() => {
        const s = ${stateText}
        if (s === 'running' && !window.__streaming) window.__streaming = { max: 0, long: 0, n: 0 }
        return { s, f: window.__streaming ? { ...window.__streaming } : null }
      })()`)
      if (poll.s === 'finished' || poll.s === 'failed' || poll.s === 'stopped') {
        finalState = poll.s
        break
      }
      if (poll.s === 'running') streaming = poll.f
      await new Promise((r) => setTimeout(r, 250))
    }
    const secs = (Date.now() - t0) / 1000
    if (profileTo) {
      const { profile } = z.object({ profile: z.unknown() }).parse(await page.send('Profiler.stop'))
      writeFileSync(profileTo, JSON.stringify(profile))
      console.log(`page CPU profile (open it in Chromium's DevTools, Performance panel): ${profileTo}`)
    }
    const after = procStat(pid)
    const whole = await page.evaluate<Frames>('window.__frames')
    console.log(`\nChromium (Runs page, xterm) — run ${finalState}`)
    console.log(`end to end: ${(targetMb / secs).toFixed(1)} MB/s (${targetMb} MB in ${secs.toFixed(1)} s)`)
    if (before && after) {
      console.log(
        `server process CPU: ${(((after.cpuS - before.cpuS) * 100) / targetMb).toFixed(2)} s per 100 MB; peak RSS ${after.hwmMb.toFixed(0)} MB`,
      )
    }
    console.log(`page: peak JS heap ${(heapPeak / 2 ** 20).toFixed(0)} MB`)
    console.log(`frames while streaming: ${describeFrames(streaming)}`)
    console.log(`frames, whole run (pane mount and end included): ${describeFrames(whole)}`)
  } finally {
    // Closing the browser may fail (its profile folder busy); the server is stopped either way.
    try {
      await page?.close()
    } finally {
      await server.stop()
    }
  }
}
