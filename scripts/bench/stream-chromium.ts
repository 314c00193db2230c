/**
 * The Chromium leg of bench:stream: the real headless server (`serve`), the Runs page in Debian's
 * Chromium, its xterm terminal acknowledging what it has written. Measures end-to-end MB/s, the
 * server process's CPU seconds per 100 MB and peak RSS (Linux /proc), the page's peak JS heap, and
 * frames: the longest gap between animation frames and how many exceeded 100 ms while streaming.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { chromium } from '@playwright/test'
import { ensureRendererBuilt, repoRoot, startServer } from '../../tests/e2e/server'

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

// Runs in the page: records the longest gap between animation frames and how many exceed 100 ms.
const FRAME_WATCH = `(() => {
  const f = (window.__frames = { max: 0, long: 0, n: 0 })
  let last = performance.now()
  const tick = (now) => {
    const gap = now - last
    last = now
    f.n++
    if (gap > f.max) f.max = gap
    if (gap > 100) f.long++
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
})()`

export async function chromiumLeg(targetMb: number, filler: number): Promise<void> {
  ensureRendererBuilt()
  const server = await startServer()
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' })
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')
    await page.goto(server.url)
    await page.getByTestId('nav-runs').click()
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
    const before = procStat(pid)
    let heapPeak = 0
    const t0 = Date.now()
    await page.getByTestId('new-run-json').fill(JSON.stringify(description))
    await page.getByTestId('new-run-start').click()
    const state = page.getByTestId('run-state')
    for (;;) {
      const metrics = (await cdp.send('Performance.getMetrics')) as {
        metrics: Array<{ name: string; value: number }>
      }
      heapPeak = Math.max(heapPeak, metrics.metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0)
      const s = await state.textContent().catch(() => '')
      if (s === 'finished' || s === 'failed' || s === 'stopped') break
      await page.waitForTimeout(250)
    }
    const secs = (Date.now() - t0) / 1000
    const after = procStat(pid)
    const frames = (await page.evaluate('window.__frames')) as { max: number; long: number; n: number }
    const finalState = await state.textContent()
    console.log(`\nChromium (Runs page, xterm) — run ${finalState}`)
    console.log(`end to end: ${(targetMb / secs).toFixed(1)} MB/s (${targetMb} MB in ${secs.toFixed(1)} s)`)
    if (before && after) {
      console.log(
        `server process CPU: ${(((after.cpuS - before.cpuS) * 100) / targetMb).toFixed(2)} s per 100 MB; peak RSS ${after.hwmMb.toFixed(0)} MB`,
      )
    }
    console.log(`page: peak JS heap ${(heapPeak / 2 ** 20).toFixed(0)} MB`)
    console.log(
      `frames: ${frames.n}, longest gap ${frames.max.toFixed(0)} ms, ${frames.long} over 100 ms (page load included)`,
    )
  } finally {
    await browser.close()
    await server.stop()
  }
}
