/**
 * The Chromium leg of bench:stream: the real headless server (`serve`), the Runs page in Debian's
 * Chromium, its xterm terminal acknowledging what it has written. Measures end-to-end MB/s, the
 * server process's CPU seconds per 100 MB and peak RSS (Linux /proc), the page's peak JS heap, and
 * frames: the longest gap between animation frames and how many exceeded 100 ms, while streaming and
 * over the whole run.
 * Then, in the same page, the ceiling: the very bytes the run streamed (its raw log) written straight
 * into an xterm terminal of the same size and options, with the same flow window and no server in
 * between. The ratio end-to-end / ceiling says how much of what the terminal alone could do the whole
 * chain delivers, a figure that compares across machines where absolute MB/s do not.
 * Chromium is driven through cdp-page.ts (Runtime domain only), not Playwright: Playwright would
 * receive a copy of every WebSocket frame and so measure its own overhead.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ensureRendererBuilt, repoRoot, startServer } from '../../tests/e2e/server'
import { z } from 'zod'
import { startPageTrace } from './page-trace'
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

/** The run's raw log: every byte the pty gave, i.e. what the terminal was sent (the server has one run). */
function runLog(dataDir: string): Buffer {
  const runs = path.join(dataDir, 'runs')
  const id = readdirSync(runs).find((n) => statSync(path.join(runs, n)).isDirectory())
  if (!id) throw new Error(`No run folder in ${runs}`)
  const file = path.join(runs, id, 'console.log')
  if (existsSync(`${file}.1`))
    throw new Error(`The raw log rotated (${file}.1): raise SDXL_STUDIO_RUN_LOG_MAX_MB.`)
  return readFileSync(file)
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return 'unknown'
  }
}

const XTERM_UMD = path.join(repoRoot, 'node_modules/@xterm/xterm/lib/xterm.js')
const FIT_UMD = path.join(repoRoot, 'node_modules/@xterm/addon-fit/lib/addon-fit.js')

/**
 * Writes `bytes` into a new xterm terminal in the page, as the Runs page's terminal gets them: strings
 * of at most 64 KB (the server's batch size), at most 512K characters unacknowledged (the app's flow
 * window), the next write once xterm's callback says a write was parsed. The bytes are copied into
 * the page and decoded before the clock starts: what is timed is xterm only.
 */
async function xtermCeiling(page: CdpPage, bytes: Buffer): Promise<{ secs: number; frames: Frames }> {
  // Same xterm build as the page's bundle (same node_modules), loaded as globals beside it.
  await page.evaluate(readFileSync(XTERM_UMD, 'utf8'))
  await page.evaluate(readFileSync(FIT_UMD, 'utf8'))
  await page.evaluate('window.__ceilingBytes = []')
  const piece = 4 * 1024 * 1024
  for (let at = 0; at < bytes.length; at += piece) {
    const b64 = bytes.subarray(at, at + piece).toString('base64')
    await page.evaluate(`window.__ceilingBytes.push(Uint8Array.from(atob('${b64}'), (c) => c.charCodeAt(0)))`)
  }
  const result = await page.evaluate<{ secs: number; frames: Frames }>(`(async () => {
    const decoder = new TextDecoder()
    const texts = []
    for (const chunk of window.__ceilingBytes)
      for (let at = 0; at < chunk.length; at += 65536)
        texts.push(decoder.decode(chunk.subarray(at, at + 65536), { stream: true }))
    window.__ceilingBytes = null
    const ref = document.querySelector('[data-testid="run-terminal"]')
    const host = document.createElement('div')
    host.style.cssText = 'position:fixed;left:0;top:0;z-index:1000;background:#000;padding:4px;width:' +
      (ref ? ref.clientWidth : 900) + 'px;height:' + (ref ? ref.clientHeight : 360) + 'px'
    document.body.appendChild(host)
    const term = new Terminal({ scrollback: 5000, convertEol: false, fontSize: 12, disableStdin: true })
    const fit = new FitAddon.FitAddon()
    term.loadAddon(fit)
    term.open(host)
    fit.fit()
    await new Promise((r) => requestAnimationFrame(() => r()))
    const frames = (window.__streaming = { max: 0, long: 0, n: 0 })
    const t0 = performance.now()
    await new Promise((resolve) => {
      const WINDOW = 512 * 1024
      let next = 0, pending = 0, inflight = 0
      const pump = () => {
        while (pending < WINDOW && next < texts.length) {
          const text = texts[next++]
          pending += text.length
          inflight++
          term.write(text, () => {
            pending -= text.length
            inflight--
            pump()
          })
        }
        if (next >= texts.length && inflight === 0) resolve()
      }
      pump()
    })
    const secs = (performance.now() - t0) / 1000
    window.__streaming = null
    term.dispose()
    host.remove()
    return { secs, frames: { ...frames } }
  })()`)
  return result
}

export async function chromiumLeg(targetMb: number, filler: number): Promise<void> {
  ensureRendererBuilt()
  // The raw log must hold every byte streamed (it rotates at 64 MB by default), for the ceiling.
  const server = await startServer({
    env: { SDXL_STUDIO_RUN_LOG_MAX_MB: String(Math.ceil(targetMb * 2 + 64)) },
  })
  // Starting a run from a JSON description is a developer tool (Settings), off by default.
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ developer: true }))
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
    const traceTo = process.env.BENCH_PAGE_TRACE
    const trace = traceTo ? await startPageTrace(page, traceTo) : null
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
    await trace?.stop()
    if (profileTo) {
      const { profile } = z.object({ profile: z.unknown() }).parse(await page.send('Profiler.stop'))
      writeFileSync(profileTo, JSON.stringify(profile))
      console.log(`page CPU profile (open it in Chromium's DevTools, Performance panel): ${profileTo}`)
    }
    const after = procStat(pid)
    const whole = await page.evaluate<Frames>('window.__frames')
    const log = runLog(server.dataDir)
    const mb = log.length / 2 ** 20
    console.log(`\nChromium (Runs page, xterm) — run ${finalState}`)
    console.log(`end to end: ${(mb / secs).toFixed(1)} MB/s (${mb.toFixed(0)} MB in ${secs.toFixed(1)} s)`)
    if (before && after) {
      console.log(
        `server process CPU: ${(((after.cpuS - before.cpuS) * 100) / targetMb).toFixed(2)} s per 100 MB; peak RSS ${after.hwmMb.toFixed(0)} MB`,
      )
    }
    console.log(`page: peak JS heap ${(heapPeak / 2 ** 20).toFixed(0)} MB`)
    console.log(`frames while streaming: ${describeFrames(streaming)}`)
    console.log(`frames, whole run (pane mount and end included): ${describeFrames(whole)}`)
    const ceiling = await xtermCeiling(page, log)
    console.log(`\nCeiling (the same ${mb.toFixed(0)} MB straight into xterm in this page, no server)`)
    console.log(`xterm alone: ${(mb / ceiling.secs).toFixed(1)} MB/s (${ceiling.secs.toFixed(1)} s)`)
    console.log(`frames while writing: ${describeFrames(ceiling.frames)}`)
    console.log(
      `ratio end to end / ceiling: ${(ceiling.secs / secs).toFixed(2)} (target at least 0.8; load average ${loadAverage()})`,
    )
  } finally {
    // Closing the browser may fail (its profile folder busy); the server is stopped either way.
    try {
      await page?.close()
    } finally {
      await server.stop()
    }
  }
}
