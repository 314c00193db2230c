// Electron smoke test: launches the built app with Playwright's _electron and checks that the window
// opens, the preload exposes exactly the typed API, app.info answers over IPC in 'electron' mode,
// the page has no Node (context isolation), and paths.pick reaches the native dialog. Runs where the
// Electron binary exists; otherwise it says clearly that it was skipped and exits 0.
// See docs/packaging.md ("Electron smoke test").
/* global window */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function skip(reason) {
  console.log(`Electron smoke test skipped: ${reason}`)
  process.exit(0)
}

function fail(message) {
  console.error(`Electron smoke test FAILED: ${message}`)
  process.exitCode = 1
}

// 1. The Electron binary: node_modules/electron/path.txt names it inside node_modules/electron/dist.
function electronBinary() {
  const pkgDir = path.join(root, 'node_modules', 'electron')
  const pathTxt = path.join(pkgDir, 'path.txt')
  if (!existsSync(pathTxt)) return null
  const bin = path.join(pkgDir, 'dist', readFileSync(pathTxt, 'utf8').trim())
  return existsSync(bin) ? bin : null
}

const binary = process.env.ELECTRON_PATH || electronBinary()
if (!binary) {
  skip(
    'the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD). ' +
      'Run `npx electron --version` to check; to install it, run `node node_modules/electron/install.js` ' +
      'with network access to the Electron releases (or set ELECTRON_PATH to an unpacked Electron).',
  )
}

// 2. A display: on Linux without one, re-run under xvfb-run if it exists.
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  if (process.env.SDXL_SMOKE_UNDER_XVFB) skip('xvfb-run started but no DISPLAY is set.')
  const hasXvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0
  if (!hasXvfb) {
    skip(
      'no display (DISPLAY is not set) and xvfb-run is not installed. Install xvfb (apt-get install xvfb) or run it on a desktop.',
    )
  }
  const rerun = spawnSync('xvfb-run', ['-a', process.execPath, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, SDXL_SMOKE_UNDER_XVFB: '1' },
  })
  process.exit(rerun.status ?? 1)
}

// 3. The built app.
if (!existsSync(path.join(root, 'out', 'main', 'index.js'))) {
  console.log('Building the app (out/main is missing)...')
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
  const build = spawnSync(npx, ['electron-vite', 'build'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  })
  if (build.status !== 0) {
    console.error('Electron smoke test FAILED: the build failed (see above).')
    process.exit(1)
  }
}

const { _electron } = await import('@playwright/test')
const dataDir = mkdtempSync(path.join(tmpdir(), 'sdxl-electron-smoke-'))
const args = [root]
// Chromium refuses to run as root with its OS sandbox (CI containers); the renderer's own
// sandbox: true (no Node in the preload) still applies.
if (process.platform === 'linux' && process.getuid?.() === 0) args.unshift('--no-sandbox')

let app
try {
  app = await _electron.launch({
    executablePath: binary,
    args,
    cwd: root,
    env: { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir, ELECTRON_RENDERER_URL: '' },
    timeout: 60_000,
  })
  const page = await app.firstWindow()
  await page.waitForLoadState('domcontentloaded')
  console.log(`window opened: ${await page.title()}`)

  const prefs = await app.evaluate(({ BrowserWindow }) => {
    const p = BrowserWindow.getAllWindows()[0]?.webContents.getLastWebPreferences() ?? {}
    return { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration }
  })
  if (prefs.contextIsolation !== true || prefs.sandbox !== true || prefs.nodeIntegration !== false) {
    fail(`unsafe webPreferences: ${JSON.stringify(prefs)}`)
  } else console.log('webPreferences: contextIsolation, sandbox on; nodeIntegration off')

  const surface = await page.evaluate(() => {
    const api = window.sdxlStudio
    return {
      keys: api ? Object.keys(api).sort() : null,
      call: typeof api?.call,
      subscribe: typeof api?.subscribe,
      require: typeof window.require,
      process: typeof globalThis.process,
      ipcRenderer: typeof window.ipcRenderer,
    }
  })
  if (JSON.stringify(surface.keys) !== JSON.stringify(['call', 'subscribe'])) {
    fail(`window.sdxlStudio should expose exactly call and subscribe, got ${JSON.stringify(surface.keys)}`)
  } else if (surface.call !== 'function' || surface.subscribe !== 'function') {
    fail(`call/subscribe are not functions: ${JSON.stringify(surface)}`)
  } else console.log('window.sdxlStudio exposes exactly call and subscribe')
  if (
    surface.require !== 'undefined' ||
    surface.process !== 'undefined' ||
    surface.ipcRenderer !== 'undefined'
  ) {
    fail(`Node leaks into the page: ${JSON.stringify(surface)}`)
  } else console.log('window.require, process, ipcRenderer are undefined (isolated)')

  const info = await page.evaluate(() => window.sdxlStudio.call('app.info', {}))
  if (!info.ok || info.result.mode !== 'electron' || info.result.dataDir !== dataDir) {
    fail(`app.info over IPC returned ${JSON.stringify(info)}`)
  } else
    console.log(`app.info over IPC: ${info.result.name} ${info.result.version}, mode ${info.result.mode}`)

  const bad = await page.evaluate(() => window.sdxlStudio.call('no.such.method', {}))
  if (bad.ok || bad.error.code !== 'unknown_method') fail(`unknown method gave ${JSON.stringify(bad)}`)
  else console.log('unknown method: typed error unknown_method')

  // paths.pick is the native dialog in the desktop app (headless answers 'unavailable'). A real dialog
  // would block the test, so the main process's dialog answers for it here.
  await app.evaluate(({ dialog }) => {
    dialog.showOpenDialog = async () => ({ canceled: false, filePaths: ['/smoke/picked.safetensors'] })
  })
  const picked = await page.evaluate(() => window.sdxlStudio.call('paths.pick', { kind: 'file' }))
  if (!picked.ok || picked.result.path !== '/smoke/picked.safetensors') {
    fail(`paths.pick did not use the native dialog: ${JSON.stringify(picked)}`)
  } else console.log('paths.pick: answered by the native dialog (override in main)')

  const opened = await page.evaluate(() => window.open('about:blank') === null)
  const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)
  if (!opened || windows !== 1) fail(`window.open was not denied (${windows} windows)`)
  else console.log('window.open denied')
} catch (error) {
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error))
} finally {
  await app?.close().catch(() => undefined)
  rmSync(dataDir, { recursive: true, force: true })
}
if (process.exitCode) process.exit(process.exitCode)
console.log('Electron smoke test passed.')
