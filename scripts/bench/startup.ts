/*
 * Startup benchmark: how long from starting the headless server until the renderer's first
 * interactive frame in Chromium, and how much JavaScript the first frame needs. Prints numbers,
 * asserts nothing. Usage: npm run bench:startup [-- --runs 7]
 */
import { readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium } from '@playwright/test'
import { z } from 'zod'
import { ensureRendererBuilt, repoRoot, startServer } from '../../tests/e2e/server'

const rendererDir = path.join(repoRoot, 'out/renderer')

const Manifest = z.record(
  z.string(),
  z.object({
    file: z.string(),
    isEntry: z.boolean().optional(),
    imports: z.array(z.string()).optional(),
    dynamicImports: z.array(z.string()).optional(),
    css: z.array(z.string()).optional(),
  }),
)

interface Size {
  files: string[]
  raw: number
  gzip: number
}

function sizeOf(files: string[]): Size {
  let raw = 0
  let gzip = 0
  for (const f of files) {
    const bytes = readFileSync(path.join(rendererDir, f))
    raw += bytes.length
    gzip += gzipSync(bytes, { level: 9 }).length
  }
  return { files, raw, gzip }
}

/** The entry chunk and everything it imports statically: what must load before the first frame. */
function initialAssets(): { js: Size; css: Size; allJs: Size } {
  const manifestPath = path.join(rendererDir, '.vite/manifest.json')
  const manifest = Manifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')))
  const entries = Object.entries(manifest).filter(([, c]) => c.isEntry)
  if (entries.length !== 1) throw new Error(`Expected one entry in ${manifestPath}, found ${entries.length}`)
  const seen = new Set<string>()
  const css = new Set<string>()
  const visit = (key: string) => {
    if (seen.has(key)) return
    seen.add(key)
    const chunk = manifest[key]
    if (!chunk) throw new Error(`${manifestPath} names ${key} but has no entry for it`)
    chunk.css?.forEach((c) => css.add(c))
    chunk.imports?.forEach(visit)
  }
  visit(entries[0]![0])
  const js = [...seen].map((k) => manifest[k]!.file).filter((f) => f.endsWith('.js'))
  const allJs = [...new Set(Object.values(manifest).map((c) => c.file))].filter((f) => f.endsWith('.js'))
  return { js: sizeOf(js), css: sizeOf([...css]), allJs: sizeOf(allJs) }
}

function parseRuns(argv: string[]): number {
  const i = argv.indexOf('--runs')
  const n = i >= 0 ? Number(argv[i + 1]) : 5
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new Error('--runs must be a whole number from 1 to 50')
  return n
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`
const ms = (n: number) => `${Math.round(n)} ms`

interface Sample {
  /** spawn → the server's JSON line (listening) */
  serverReady: number
  /** navigation start → main.tsx evaluated (JS downloaded and parsed) */
  boot: number
  /** navigation start → settings read over the WebSocket, language applied */
  settings: number
  /** navigation start → first frame with the shell on screen */
  interactive: number
  /** spawn → the nav is visible and answers a click (seen from the test driver) */
  total: number
  /** click on GPU → the GPU page shows its first reading (lazy chunk + first nvidia-smi) */
  gpuPage: number
}

async function main(): Promise<void> {
  const runs = parseRuns(process.argv.slice(2))
  const loadAtStart = os.loadavg()[0]!
  ensureRendererBuilt()
  const assets = initialAssets()

  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' })
  const samples: Sample[] = []
  try {
    // One unmeasured run warms the OS file cache (node_modules, tsx's transform cache).
    for (let run = 0; run <= runs; run++) {
      const t0 = performance.now()
      const server = await startServer({ env: { FAKE_NVIDIA_SMI_SCENARIO: 'two-gpus' } })
      const context = await browser.newContext()
      try {
        const page = await context.newPage()
        await page.goto(server.url)
        await page.waitForSelector('html[data-interactive="true"] [data-testid="nav-gpu"]')
        const clickAt = performance.now()
        await page.click('[data-testid="nav-gpu"]')
        await page.waitForSelector('[data-testid="gpu-card-0"]')
        const gpuPage = performance.now() - clickAt
        const total = clickAt - t0
        const marks = await page.evaluate(() =>
          Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])),
        )
        const mark = (name: string) => {
          const v = marks[name]
          if (typeof v !== 'number') throw new Error(`The renderer set no performance mark ${name}`)
          return v
        }
        if (run > 0) {
          samples.push({
            serverReady: server.startupMs,
            boot: mark('sdxl:boot'),
            settings: mark('sdxl:settings'),
            interactive: mark('sdxl:interactive'),
            total,
            gpuPage,
          })
        }
      } finally {
        await context.close()
        await server.stop()
      }
    }
  } finally {
    await browser.close()
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  console.log(`SDXL Studio startup benchmark (${runs} runs after one warm-up; median, min–max)`)
  console.log(
    `machine: ${cpu} ×${os.cpus().length}, ${os.platform()} ${os.release()}, node ${process.version}`,
  )
  // Other work on the machine distorts every figure; say how busy it was (at the start and now).
  console.log(
    `load average (1 min) at start: ${loadAtStart.toFixed(1)}, at end: ${os.loadavg()[0]!.toFixed(1)}`,
  )
  console.log(`browser: Chromium ${browser.version()}`)
  console.log('')
  const rows: Array<[string, keyof Sample]> = [
    ['server: spawn → listening', 'serverReady'],
    ['renderer: navigation → JS evaluated', 'boot'],
    ['renderer: navigation → settings applied', 'settings'],
    ['renderer: navigation → first interactive frame', 'interactive'],
    ['total: server spawn → nav visible and clickable', 'total'],
    ['GPU page: click → first reading shown', 'gpuPage'],
  ]
  for (const [label, key] of rows) {
    const xs = samples.map((s) => s[key])
    console.log(
      `${label.padEnd(50)} ${ms(median(xs)).padStart(8)}   (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`,
    )
  }
  console.log('')
  console.log(
    `initial JS (entry + static imports): ${kb(assets.js.raw)}, ${kb(assets.js.gzip)} gzip  [${assets.js.files.join(', ')}]`,
  )
  console.log(`initial CSS: ${kb(assets.css.raw)}, ${kb(assets.css.gzip)} gzip`)
  console.log(`all JS chunks (incl. lazy pages): ${kb(assets.allJs.raw)}, ${kb(assets.allJs.gzip)} gzip`)
  console.log(
    `renderer built: ${new Date(statSync(path.join(rendererDir, 'index.html')).mtimeMs).toISOString()}`,
  )
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
