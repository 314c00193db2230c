import { useSyncExternalStore } from 'react'

/**
 * Browser notifications in headless mode (the desktop app notifies through the system itself). Off until
 * the user turns them on with the bell in the header: the browser's permission prompt may only follow a
 * user action, and the choice is remembered for this browser.
 */
const KEY = 'sdxl-studio.notify-runs'
const listeners = new Set<() => void>()

export type NotifySupport = 'ok' | 'unsupported' | 'insecure'

/** Notifications need a secure page: https, or http on localhost (an SSH tunnel). */
export function notifySupport(): NotifySupport {
  if (typeof Notification === 'undefined') return window.isSecureContext ? 'unsupported' : 'insecure'
  return window.isSecureContext ? 'ok' : 'insecure'
}

function read(): boolean {
  try {
    return window.localStorage.getItem(KEY) === '1'
  } catch {
    return false
  }
}

export function notifyEnabled(): boolean {
  return read() && notifySupport() === 'ok' && Notification.permission === 'granted'
}

export function setNotifyEnabled(on: boolean): void {
  try {
    if (on) window.localStorage.setItem(KEY, '1')
    else window.localStorage.removeItem(KEY)
  } catch {
    // Storage blocked: the setting lasts as long as the page.
  }
  listeners.forEach((l) => l())
}

export function useNotifyEnabled(): boolean {
  return useSyncExternalStore((l) => {
    listeners.add(l)
    return () => listeners.delete(l)
  }, notifyEnabled)
}

/** Asks the browser (on a click), then turns notifications on if it allows them. */
export async function enableNotifications(): Promise<NotificationPermission | NotifySupport> {
  const support = notifySupport()
  if (support !== 'ok') return support
  const permission =
    Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission
  setNotifyEnabled(permission === 'granted')
  return permission
}
