import { Menu, nativeImage, Tray, type MenuItemConstructorOptions } from 'electron'
import { tooltipMsgs, trayMenu, type DesktopStatus, type TrayAction } from '../../core/desktop/run-status'
import type { Render } from './strings'

/**
 * The notification-area icon while SDXL Studio works in the background: the run's progress in its
 * tooltip and menu, and menu items to show the window, stop a run and quit. What it shows comes from
 * core/desktop/run-status.ts; this only draws it.
 */
export class TrayIcon {
  private tray: Tray | null = null

  constructor(
    private readonly iconFile: string,
    private readonly onAction: (a: TrayAction) => void,
  ) {}

  get shown(): boolean {
    return this.tray !== null
  }

  show(status: DesktopStatus, render: Render): void {
    if (!this.tray) {
      // The app icon, scaled to what a notification area draws (it is 512 px; macOS wants a smaller one).
      const size = process.platform === 'darwin' ? 16 : 32
      const image = nativeImage
        .createFromPath(this.iconFile)
        .resize({ width: size, height: size, quality: 'best' })
      this.tray = new Tray(image)
      // A click on the icon (Windows; some Linux hosts) brings the window back.
      this.tray.on('click', () => this.onAction({ action: 'show' }))
    }
    this.update(status, render)
  }

  update(status: DesktopStatus, render: Render): void {
    if (!this.tray) return
    this.tray.setToolTip(tooltipMsgs(status).map(render).join('\n'))
    const template: MenuItemConstructorOptions[] = trayMenu(status).map((item) => {
      if (item.kind === 'separator') return { type: 'separator' }
      if (item.kind === 'label') return { label: render(item.label), enabled: false }
      return { label: render(item.label), click: () => this.onAction(item.do) }
    })
    this.tray.setContextMenu(Menu.buildFromTemplate(template))
  }

  hide(): void {
    this.tray?.destroy()
    this.tray = null
  }
}
