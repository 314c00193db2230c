// Electron smoke test: launches the built app with Playwright's _electron (under Xvfb where there is no
// display) and checks that the window opens, the preload exposes exactly the typed API, app.info
// answers over IPC in 'electron' mode, the page has no Node (context isolation), paths.pick reaches the
// native dialog, a command runs in a terminal (node-pty in Electron's main process), probe.py runs
// from where the services resolve it, and `cli` / `--serve` run the CLI bundle as Node through the
// Electron binary. It saves a screenshot of the window. Runs where the Electron binary exists;
// otherwise it says clearly that it was skipped and exits 0. See docs/packaging.md.
/* global window */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
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

// 3. The built app (main, preload, renderer and the CLI bundle), rebuilt when sources changed.
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure-build.mjs'), 'app'], {
  cwd: root,
  stdio: 'inherit',
})
if (build.status !== 0) {
  console.error('Electron smoke test FAILED: the build failed (see above).')
  process.exit(1)
}
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version
const screenshot = path.join(root, 'test-results', 'electron-smoke.png')

const { _electron } = await import('@playwright/test')
const scratch = mkdtempSync(path.join(tmpdir(), 'sdxl-electron-smoke-'))
const dataDir = path.join(scratch, 'data')
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

  // A command in a terminal: node-pty loaded by Electron's main process, through the runs service.
  const trainer = path.join(root, 'tests', 'fixtures', 'trainer', 'fake_sd_scripts.py')
  const trained = await runThroughApp(page, {
    command: [python(), trainer, '--steps', '3', '--delay', '0', '--output_dir', path.join(scratch, 'out')],
    cwd: scratch,
    name: 'smoke: pty',
  })
  if (trained.state !== 'finished') fail(`the pty run ended ${JSON.stringify(trained)}`)
  else console.log('a command ran in a terminal through the app (node-pty in the main process)')

  // A Python resource: probe.py where the services resolve it (env.plan names it), run by Python.
  const plan = await page.evaluate(() => window.sdxlStudio.call('env.plan', { name: 'smoke', torch: 'cpu' }))
  const verify = plan.ok ? plan.result.plan?.steps.find((step) => step.id === 'verify') : undefined
  const probePy = verify?.commands[0]?.argv?.[1]
  if (!probePy || !existsSync(probePy)) {
    fail(`env.plan named no existing probe.py: ${JSON.stringify(plan).slice(0, 400)}`)
  } else {
    mkdirSync(path.join(scratch, 'sd-scripts'), { recursive: true })
    const probed = await runThroughApp(page, {
      command: [python(), probePy, '--light', '--sd-scripts', path.join(scratch, 'sd-scripts')],
      cwd: scratch,
      name: 'smoke: probe.py',
    })
    const log = await page.evaluate((id) => window.sdxlStudio.call('run.log', { id }), probed.id)
    if (probed.state !== 'finished' || !log.ok || !log.result.text.includes('"schema": 1')) {
      fail(`probe.py did not run from ${probePy}: ${JSON.stringify({ probed, log }).slice(0, 600)}`)
    } else console.log(`probe.py ran from ${probePy}`)
  }

  mkdirSync(path.dirname(screenshot), { recursive: true })
  await page.screenshot({ path: screenshot })
  console.log(`screenshot: ${screenshot}`)
} catch (error) {
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error))
} finally {
  await app?.close().catch(() => undefined)
}

// The CLI and headless mode through the Electron binary (the launcher in the main bundle).
try {
  const cli = spawnSync(binary, [...args, 'cli', '--version'], {
    cwd: root,
    env: { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (cli.status !== 0 || cli.stdout.trim() !== version) {
    fail(`\`cli --version\` through Electron gave ${cli.status}: ${cli.stdout}${cli.stderr}`)
  } else console.log(`cli --version through the Electron binary: ${version}`)
  const serve = await serveThroughElectron()
  if (!serve.ok) fail(`--serve through Electron: ${serve.detail}`)
  else console.log(`--serve through the Electron binary: ${serve.detail}`)
} catch (error) {
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error))
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

function python() {
  return process.platform === 'win32' ? 'python' : 'python3'
}

/** Starts a run through the page's API and waits until it ends; returns its record. */
async function runThroughApp(page, input) {
  const started = await page.evaluate((i) => window.sdxlStudio.call('run.start', i), input)
  if (!started.ok) throw new Error(`run.start failed: ${JSON.stringify(started.error)}`)
  const deadline = Date.now() + 60_000
  for (;;) {
    const got = await page.evaluate((id) => window.sdxlStudio.call('run.get', { id }), started.result.id)
    if (got.ok && !['queued', 'starting', 'running', 'stopping'].includes(got.result.state)) return got.result
    if (Date.now() > deadline) throw new Error(`run ${input.name} did not end in 60 s`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** `<electron> <app> --serve --port 0 --json`: one JSON line, then a page behind the token. */
function serveThroughElectron() {
  return new Promise((resolve) => {
    const child = spawn(binary, [...args, '--serve', '--port', '0', '--json'], {
      cwd: root,
      env: { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    const timer = setTimeout(() => finish(false, `no JSON line in 60 s: ${err}`), 60_000)
    function finish(ok, detail) {
      clearTimeout(timer)
      child.kill('SIGTERM')
      resolve({ ok, detail })
    }
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', async (d) => {
      out += d
      if (!out.includes('\n')) return
      try {
        const info = JSON.parse(out.slice(0, out.indexOf('\n')))
        const page = await fetch(info.url, { redirect: 'manual' })
        finish(page.status === 303, `listening on port ${info.port}, ?token= answered ${page.status}`)
      } catch (error) {
        finish(false, `${String(error)}: ${out}${err}`)
      }
    })
    child.once('exit', (code) => finish(false, `exited with ${code}: ${err}`))
  })
}
if (process.exitCode) process.exit(process.exitCode)
console.log('Electron smoke test passed.')
