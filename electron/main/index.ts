import { execFile, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  powerMonitor,
  screen,
  session,
  shell,
  type IpcMainEvent,
  type MessageBoxOptions,
} from 'electron'
import { IPC_CHANNEL } from '../../core/api/bridge'
import type { Language } from '../../core/api/domains/app'
import type { AppIntent, WorkState } from '../../core/api/domains/desktop'
import type { ServerMessage } from '../../core/api/protocol'
import { appMenu, SHORTCUT_PAGES, type MenuAction } from '../../core/desktop/app-commands'
import { msg } from '../../core/desktop/messages'
import {
  notificationFor,
  shouldNotify,
  taskbarProgress,
  type DesktopStatus,
  type RunEnded,
  type TrayAction,
} from '../../core/desktop/run-status'
import { createServices } from '../services'
import { cliBundle, resourceFile } from '../services/app-files'
import { defaultDataDir } from '../services/paths'
import { RouterSession } from '../services/router'
import { nativeMenu } from './app-menu'
import { filesFromArgv } from './argv-policy'
import { withCsp } from './csp'
import { isAllowedExternalUrl } from './external-links'
import { launchRequest, nodeEnv, userArgs } from './launch'
import { openDialogOptions, pickResult } from './pick-dialog'
import { choiceOf, decideQuit, hasWork, outcomeOf, type QuitDialog, type QuitTrigger } from './quit-policy'
import { isTrustedSenderUrl, type TrustedOrigins } from './sender'
import { StatusFeed } from './status-feed'
import { renderer, type Render } from './strings'
import { TrayIcon } from './tray'
import { parseNameHasOwner, trayVisible, watcherQuery } from './tray-support'
import { loadWindowState, restoreWindowState, saveWindowState, type WindowState } from './window-state'

// Thin glue only: windows, IPC wiring, lifecycle, the shell's tray, menu and notifications. Decisions live
// in small tested modules (launch.ts, sender.ts, external-links.ts, window-state.ts, csp.ts, quit-policy.ts,
// argv-policy.ts, tray-support.ts, core/desktop/*); the work lives in electron/services.

const DOCS_URL = 'https://github.com/sdxlstudio/sdxl-studio#readme'

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
  // The menu, tray, dialogs and notifications speak the UI language (settings), like the page.
  let language: Language = 'en'
  let render: Render = renderer(language)
  const services = createServices(
    { dataDir, mode: 'electron', env: process.env, version: app.getVersion() },
    {
      shell: {
        openPath: (p) => shell.openPath(p),
        showItemInFolder: (p) => shell.showItemInFolder(p),
      },
      overrides: {
        'settings.update': async (patch) => {
          const settings = await services.app.settings.update(patch)
          setLanguage(settings.language)
          return settings
        },
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

  // A second launch focuses this one and hands over the files on its command line.
  app.on('second-instance', (_event, argv, workingDirectory) => {
    showWindow()
    const files = filesFromArgv(argv, workingDirectory, { defaultApp: process.defaultApp === true })
    if (files.length) void openFiles(files)
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
    win.on('close', (event) => {
      rememberWindow(win)
      if (quitting) return
      // Never close over work in progress without asking (quit-policy.ts decides).
      event.preventDefault()
      void guard('window-close')
    })
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null
    })
    // The user has seen the app: a failed run no longer needs the red taskbar bar.
    win.on('focus', () => feed.acknowledge())
    // Windows asks each app before a shutdown, restart or log-off: with work in progress, say "not yet", so
    // Windows names SDXL Studio as busy and the user decides. If the session ends anyway, stop cleanly.
    win.on('query-session-end', (event) => {
      if (decideQuit('session-end-query', syncWork(), guardState()).action === 'block') event.preventDefault()
    })
    win.on('session-end', () => quitNow())
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
      feed.dispose()
      trayIcon.hide()
      for (const s of sessions.values()) s.close()
      sessions.clear()
      await pendingStateSave
      await services.dispose()
    })()
    return shutdown
  }

  // --- the desktop shell: status, taskbar, tray, notifications, menu, quit guard -------------------

  const trayIcon = new TrayIcon(resourceFile(process.env, 'icons', 'icon.png'), (a) => void onTrayAction(a))
  const notifications = new Set<Notification>()
  const feed = new StatusFeed(services, onStatus, onRunEnded)
  let quitting = false
  let asking: Promise<void> | null = null
  /** The user chose to keep working in the background (reset once no work is left). */
  let background: { kind: 'tray' | 'minimize' } | null = null

  function onStatus(status: DesktopStatus): void {
    if (mainWindow && !mainWindow.isDestroyed()) {
      const { value, mode } = taskbarProgress(status, process.platform)
      mainWindow.setProgressBar(value, { mode })
    }
    trayIcon.update(status, render)
  }

  function onRunEnded(ended: RunEnded): void {
    const win = mainWindow
    const view = { focused: !!win?.isFocused(), visible: !!win && win.isVisible() && !win.isMinimized() }
    if (!shouldNotify(view) || !Notification.isSupported()) return
    const n = notificationFor(ended)
    const note = new Notification({
      title: render(n.title),
      body: n.body.map(render).join('\n'),
      icon: resourceFile(process.env, 'icons', 'icon.png'),
    })
    // Kept referenced until closed: a collected notification loses its click handler.
    notifications.add(note)
    note.on('click', () => {
      showWindow()
      publish({ type: 'open-run', id: n.runId })
    })
    note.on('close', () => notifications.delete(note))
    note.show()
  }

  function publish(intent: AppIntent): void {
    services.desktop.publish({ intents: [intent], problems: [] })
  }

  async function openFiles(paths: string[]): Promise<void> {
    try {
      await services.desktop.openAndPublish(paths)
    } catch (error) {
      console.error(`Could not open ${paths.join(', ')}: ${String(error)}`)
    }
  }

  function setLanguage(next: Language): void {
    if (next === language) return
    language = next
    render = renderer(next)
    void rebuildMenu()
    trayIcon.update(feed.status, render)
  }

  async function rebuildMenu(): Promise<void> {
    const lists = await services.desktop.recent.get()
    const model = appMenu({
      pages: SHORTCUT_PAGES.map((id) => ({ id, labelCode: `common:nav.${id}` })),
      recent: { configs: lists.configs.map((e) => e.path), folders: lists.folders.map((e) => e.path) },
      devTools: !app.isPackaged,
    })
    Menu.setApplicationMenu(nativeMenu(model, render, onMenuAction))
  }

  function onMenuAction(action: MenuAction): void {
    switch (action.type) {
      case 'command':
        showWindow()
        publish({ type: 'command', command: action.command })
        return
      case 'page':
        showWindow()
        publish({ type: 'page', page: action.page })
        return
      case 'open-recent':
        showWindow()
        void openFiles([action.path])
        return
      case 'clear-recent':
        void services.desktop.recent.clear()
        return
      case 'quit':
        app.quit()
        return
      case 'docs':
        if (isAllowedExternalUrl(DOCS_URL)) void shell.openExternal(DOCS_URL)
        return
    }
  }

  function showWindow(): void {
    const win = mainWindow
    if (!win) {
      if (app.isReady()) void createWindow()
      return
    }
    if (win.isMinimized()) win.restore()
    win.show()
    win.focus()
    // The window shows the progress itself now.
    trayIcon.hide()
  }

  async function onTrayAction(action: TrayAction): Promise<void> {
    if (action.action === 'show') return showWindow()
    if (action.action === 'quit') return app.quit()
    const run = feed.status.active.find((r) => r.id === action.runId)
    if (!run) return
    const options: MessageBoxOptions = {
      type: 'warning',
      title: render(msg('quit.title')),
      message: render(msg('tray.stopConfirm', { name: run.name })),
      detail: render(msg('quit.stopLosesRun')),
      buttons: [render(msg('tray.stopNow')), render(msg('quit.cancel'))],
      defaultId: 1,
      cancelId: 1,
      noLink: true,
    }
    const { response } = await dialog.showMessageBox(options)
    if (response !== 0) return
    const stopped = await services.router.call(
      'run.stop',
      { id: action.runId, mode: 'now' },
      { transport: 'ipc' },
    )
    if (!stopped.ok) dialog.showErrorBox(render(msg('quit.title')), stopped.error.message)
  }

  /** What the quit guard needs without waiting (the OS's shutdown query is answered synchronously). */
  function syncWork(): WorkState {
    const s = feed.status
    return {
      runs: s.active.map((r) => ({ id: r.id, name: r.name, state: r.state })),
      queued: s.queued,
      installs: s.install ? [s.install] : [],
      tools: 0,
    }
  }

  function guardState() {
    const win = mainWindow
    return { background: background !== null, windowHidden: !win || !win.isVisible() || win.isMinimized() }
  }

  /** Whether a tray icon will be seen (tray-support.ts); asked each time: a panel may start later. */
  function probeTray(): Promise<boolean> {
    if (process.platform !== 'linux') return Promise.resolve(trayVisible(process.platform, null))
    const q = watcherQuery()
    return new Promise((resolve) => {
      execFile(q.cmd, q.args, { timeout: 3000 }, (error, stdout) =>
        resolve(trayVisible('linux', error ? null : parseNameHasOwner(String(stdout)))),
      )
    })
  }

  function toBackground(kind: 'tray' | 'minimize', announce: boolean): void {
    background = { kind }
    const win = mainWindow
    if (kind === 'tray') {
      trayIcon.show(feed.status, render)
      win?.hide()
    } else win?.minimize()
    if (announce && Notification.isSupported()) {
      new Notification({
        title: render(msg('tray.backgroundTitle')),
        body: render(msg(kind === 'tray' ? 'tray.backgroundBody' : 'tray.minimizedBody')),
        icon: resourceFile(process.env, 'icons', 'icon.png'),
      }).show()
    }
  }

  async function ask(dialogModel: QuitDialog): Promise<number> {
    const options: MessageBoxOptions = {
      type: 'warning',
      title: render(dialogModel.title),
      message: render(dialogModel.message),
      detail: dialogModel.detail.map(render).join('\n'),
      buttons: dialogModel.buttons.map((b) => render(b.label)),
      defaultId: dialogModel.defaultIndex,
      cancelId: dialogModel.cancelIndex,
      noLink: true,
    }
    const parent = mainWindow && mainWindow.isVisible() ? mainWindow : null
    const { response } = parent
      ? await dialog.showMessageBox(parent, options)
      : await dialog.showMessageBox(options)
    return response
  }

  /** A window close or a quit request: carry out quit-policy.ts's decision (one dialog at a time). */
  function guard(trigger: Extract<QuitTrigger, 'window-close' | 'app-quit'>): Promise<void> {
    asking ??= (async () => {
      const work = await services.desktop.work()
      if (!hasWork(work)) background = null
      const decision = decideQuit(trigger, work, guardState())
      if (decision.action === 'proceed') return quitNow()
      if (decision.action === 'hide') return toBackground(background?.kind ?? 'minimize', false)
      if (decision.action !== 'ask') return
      const response = await ask(decision.dialog)
      const outcome = outcomeOf(choiceOf(decision.dialog, response), await probeTray())
      if (outcome.action === 'stop-and-quit') quitNow()
      else if (outcome.action === 'hide-to-tray') toBackground('tray', true)
      else if (outcome.action === 'minimize') toBackground('minimize', true)
    })()
      .catch((error: unknown) => console.error(`Quit guard: ${String(error)}`))
      .finally(() => {
        asking = null
      })
    return asking
  }

  /** Quit for real: stop every service (runs are interrupted and their records say why), then exit. */
  function quitNow(): void {
    quitting = true
    app.quit()
  }

  // A session manager's SIGTERM (log-off) cannot be answered with a dialog: stop the work cleanly.
  process.on('SIGTERM', () => quitNow())

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
    // Linux and macOS: the system is shutting down; no one can answer a dialog now.
    powerMonitor.on('shutdown', () => quitNow())
    language = (await services.app.settings.get().catch(() => null))?.language ?? 'en'
    render = renderer(language)
    await createWindow()
    await feed.start()
    services.desktop.recent.onChange(() => void rebuildMenu())
    await rebuildMenu()
    // Files on this launch's own command line ("Open with", a launcher's %U) open like dropped ones.
    const files = filesFromArgv(process.argv, process.cwd(), { defaultApp: process.defaultApp === true })
    if (files.length) await openFiles(files)
  })

  app.on('window-all-closed', () => quitNow())
  app.on('before-quit', (event) => {
    if (readyToQuit) return
    event.preventDefault()
    // Menu, tray, Ctrl+Q: ask first while work is in progress.
    if (!quitting) {
      void guard('app-quit')
      return
    }
    void stopEverything()
      .catch((error: unknown) => console.error(`Error while stopping services: ${String(error)}`))
      .finally(() => {
        readyToQuit = true
        app.quit()
      })
  })
}
