import { join } from 'node:path'
import { app, BrowserWindow, ipcMain } from 'electron'
import type { ClientMessage, ServerMessage } from '../../core/api/protocol'
import { createServices } from '../services'
import { defaultDataDir } from '../services/paths'
import { RouterSession } from '../services/router'
import { IPC_CHANNEL } from '../../core/api/bridge'

// Thin glue only: windows, IPC wiring, lifecycle. The work lives in electron/services.
const services = createServices({
  dataDir: defaultDataDir(),
  mode: 'electron',
  env: process.env,
  version: app.getVersion(),
})

const sessions = new Map<number, RouterSession>()

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  })
  const contents = win.webContents
  const session = new RouterSession(
    services.router,
    (m: ServerMessage) => {
      if (!contents.isDestroyed()) contents.send(IPC_CHANNEL, m)
    },
    { transport: 'ipc' },
  )
  sessions.set(contents.id, session)
  contents.on('destroyed', () => {
    session.close()
    sessions.delete(contents.id)
  })
  win.once('ready-to-show', () => win.show())
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL)
  else void win.loadFile(join(__dirname, '../renderer/index.html'))
}

ipcMain.on(IPC_CHANNEL, (event, message: ClientMessage) => {
  void sessions.get(event.sender.id)?.receive(message)
})

void app.whenReady().then(createWindow)
app.on('window-all-closed', () => {
  void services.dispose().finally(() => app.quit())
})
