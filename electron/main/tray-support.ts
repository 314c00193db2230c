/**
 * Whether a tray icon will be visible, so "keep training in the background" may hide the window. Windows
 * and macOS always show one. On Linux, Electron's tray is a StatusNotifierItem, which only appears when a
 * status notifier host runs (KDE, Xfce, Cinnamon, GNOME with the AppIndicator extension): that host owns the
 * D-Bus name org.kde.StatusNotifierWatcher. Unknown means no: a hidden window with no visible icon could
 * never be found again, so the window is minimised instead.
 */

export const SNI_WATCHER = 'org.kde.StatusNotifierWatcher'

/** The command that asks the session bus whether the watcher name has an owner. */
export function watcherQuery(): { cmd: string; args: string[] } {
  return {
    cmd: 'gdbus',
    args: [
      'call',
      '--session',
      '--timeout',
      '2',
      '--dest',
      'org.freedesktop.DBus',
      '--object-path',
      '/org/freedesktop/DBus',
      '--method',
      'org.freedesktop.DBus.NameHasOwner',
      SNI_WATCHER,
    ],
  }
}

/** gdbus prints `(true,)` or `(false,)`; anything else is unknown (null). */
export function parseNameHasOwner(stdout: string): boolean | null {
  const m = /^\s*\(\s*(true|false)\s*,?\s*\)\s*$/.exec(stdout)
  return m ? m[1] === 'true' : null
}

export function trayVisible(platform: string, watcherOwned: boolean | null): boolean {
  if (platform === 'win32' || platform === 'darwin') return true
  return watcherOwned === true
}
