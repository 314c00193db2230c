import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, screen, session, shell, type IpcMainEvent } from 'electron'
import { IPC_CHANNEL } from '../../core/api/bridge'
import type { ServerMessage } from '../../core/api/protocol'
import { createServices } from '../services'
import { cliBundle } from '../services/app-files'
import { defaultDataDir } from '../services/paths'
import { RouterSession } from '../services/router'
import { withCsp } from './csp'
import { isAllowedExternalUrl } from './external-links'
import { launchRequest, nodeEnv, userArgs } from './launch'
import { openDialogOptions, pickResult } from './pick-dialog'
import { isTrustedSenderUrl, type TrustedOrigins } from './sender'
import { loadWindowState, restoreWindowState, saveWindowState, type WindowState } from './window-state'

// Thin glue only: windows, IPC wiring, lifecycle. Decisions live in small tested modules
// (launch.ts, sender.ts, external-links.ts, window-state.ts, csp.ts); the work lives in electron/services.

const launch = launchRequest(userArgs(process.argv, process.defaultApp === true))
if (launch.kind === 'node') {
  // `sdxl-studio cli …` / `--serve`: the CLI bundle runs as Node through this same binary, before any
  // window or display is set up (this bundle is CommonJS, so this runs synchronously at load).
  const child = spawnSync(process.execPath, [cliBundle(), ...launch.cliArgs], {
    stdio: 'inherit',
    env: nodeEnv(process.env),
  })
  if (child.error) console.error(`Could not start the SDXL Studio command line: ${child.error.message}`)
  process.exit(child.status ?? 1)
} else if (!app.requestSingleInstanceLock()) {
  // Another SDXL Studio is running; it gets focused through 'second-instance'.
  app.quit()
} else {
  start()
}

function start(): void {
  // Belt and braces: every renderer sandboxed, whatever a BrowserWindow's options say.
  app.enableSandbox()
  const dataDir = defaultDataDir()
  let mainWindow: BrowserWindow | null = null
  const services = createServices(
    { dataDir, mode: 'electron', env: process.env, version: app.getVersion() },
    {
      overrides: {
        // Native open dialogs, modal to the window that asked (the focused one, else the main one).
        'paths.pick': async (input) => {
          const parent = BrowserWindow.getFocusedWindow() ?? mainWindow
          const options = openDialogOptions(input)
          const answer = parent
            ? await dialog.showOpenDialog(parent, options)
            : await dialog.showOpenDialog(options)
          return pickResult(answer)
        },
      },
    },
  )
  const trusted: TrustedOrigins = {
    rendererIndexFile: join(__dirname, '../renderer/index.html'),
    devServerUrl: !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined,
  }
  const sessions = new Map<number, RouterSession>()
  let pendingStateSave: Promise<void> = Promise.resolve()

  app.on('second-instance', () => {
    if (!mainWindow) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.show()
    mainWindow.focus()
  })

  // Every web contents: no navigation away, no new windows; https links to allow-listed sites go to
  // the system browser, nothing else does.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      event.preventDefault()
      if (isAllowedExternalUrl(url) && !isTrustedSenderUrl(url, trusted)) void shell.openExternal(url)
    })
    contents.on('will-redirect', (event) => event.preventDefault())
    contents.on('will-attach-webview', (event) => event.preventDefault())
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternalUrl(url)) void shell.openExternal(url)
      return { action: 'deny' }
    })
  })

  ipcMain.on(IPC_CHANNEL, (event: IpcMainEvent, message: unknown) => {
    const frame = event.senderFrame
    // Only our own top-level page may use the API (the router validates the message itself).
    if (!frame || frame.parent !== null || !isTrustedSenderUrl(frame.url, trusted)) return
    void sessions.get(event.sender.id)?.receive(message)
  })

  function rememberWindow(win: BrowserWindow): void {
    if (win.isDestroyed()) return
    const state: WindowState = { ...win.getNormalBounds(), maximized: win.isMaximized() }
    pendingStateSave = saveWindowState(dataDir, state).catch((error: unknown) => {
      console.error(`Could not save the window position: ${String(error)}`)
    })
  }

  async function createWindow(): Promise<void> {
    // Primary display first: the default size is fitted to it.
    const primary = screen.getPrimaryDisplay()
    const displays = [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)]
    const restored = restoreWindowState(
      await loadWindowState(dataDir),
      displays.map((d) => d.workArea),
    )
    const win = new BrowserWindow({
      ...restored.bounds,
      minWidth: 800,
      minHeight: 560,
      show: false,
      title: 'SDXL Studio',
      webPreferences: {
        preload: join(__dirname, '../preload/index.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        spellcheck: false,
      },
    })
    mainWindow = win
    if (restored.maximized) win.maximize()
    const contents = win.webContents
    const routerSession = new RouterSession(
      services.router,
      (m: ServerMessage) => {
        if (!contents.isDestroyed()) contents.send(IPC_CHANNEL, m)
      },
      { transport: 'ipc' },
    )
    const contentsId = contents.id
    sessions.set(contentsId, routerSession)
    // A reload starts a fresh page: drop the old page's subscriptions.
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) {
        routerSession.close()
        const fresh = new RouterSession(
          services.router,
          (m: ServerMessage) => {
            if (!contents.isDestroyed()) contents.send(IPC_CHANNEL, m)
          },
          { transport: 'ipc' },
        )
        sessions.set(contentsId, fresh)
      }
    })
    contents.on('destroyed', () => {
      sessions.get(contentsId)?.close()
      sessions.delete(contentsId)
    })
    win.on('close', () => rememberWindow(win))
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null
    })
    win.once('ready-to-show', () => win.show())
    if (trusted.devServerUrl) await win.loadURL(trusted.devServerUrl)
    else await win.loadFile(trusted.rendererIndexFile)
  }

  // Sessions stop their subscriptions, the window position is written, services stop their
  // processes; only then does the app really quit.
  let shutdown: Promise<void> | null = null
  let readyToQuit = false
  function stopEverything(): Promise<void> {
    shutdown ??= (async () => {
      if (mainWindow) rememberWindow(mainWindow)
      for (const s of sessions.values()) s.close()
      sessions.clear()
      await pendingStateSave
      await services.dispose()
    })()
    return shutdown
  }

  void app.whenReady().then(async () => {
    const ses = session.defaultSession
    ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
    ses.setPermissionCheckHandler(() => false)
    // Packaged app: the policy also arrives as a header. In development the Vite dev server injects
    // an inline React-refresh preamble, so there the page's own meta tag is the only policy.
    if (!trusted.devServerUrl) {
      ses.webRequest.onHeadersReceived((details, callback) => {
        callback({ responseHeaders: withCsp(details.responseHeaders) })
      })
    }
    await createWindow()
  })

  app.on('window-all-closed', () => app.quit())
  app.on('before-quit', (event) => {
    if (readyToQuit) return
    event.preventDefault()
    void stopEverything()
      .catch((error: unknown) => console.error(`Error while stopping services: ${String(error)}`))
      .finally(() => {
        readyToQuit = true
        app.quit()
      })
  })
}
