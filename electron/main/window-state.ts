import path from 'node:path'
import { z } from 'zod'
import { readJsonFile, writeJsonAtomic } from '../services/store/atomic'

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export const WindowState = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  maximized: z.boolean().default(false),
})
export type WindowState = z.infer<typeof WindowState>

export const DEFAULT_SIZE = { width: 1280, height: 860 }
export const MIN_SIZE = { width: 800, height: 560 }
/** How much of the window (title bar included) must be on a display for it to count as reachable. */
const MIN_VISIBLE = { width: 120, height: 60 }

export function windowStateFile(dataDir: string): string {
  return path.join(dataDir, 'window-state.json')
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)
  return { width: Math.max(0, width), height: Math.max(0, height) }
}

/**
 * Decides where the window opens, given the saved state and the work areas of the displays
 * connected now. A saved position is kept only if its top strip (where the title bar is) lies on a
 * display, so a window last seen on an unplugged monitor doesn't open off-screen; its size is
 * shrunk to fit that display. Without a usable saved state: default size, centred by the OS.
 */
export function restoreWindowState(
  saved: WindowState | null,
  workAreas: Rect[],
): { bounds: Partial<Rect> & { width: number; height: number }; maximized: boolean } {
  const primary = workAreas[0]
  const fitDefault = primary
    ? {
        width: Math.min(DEFAULT_SIZE.width, primary.width),
        height: Math.min(DEFAULT_SIZE.height, primary.height),
      }
    : DEFAULT_SIZE
  if (!saved) return { bounds: fitDefault, maximized: false }

  const titleStrip: Rect = { x: saved.x, y: saved.y, width: saved.width, height: Math.min(saved.height, 40) }
  const host = workAreas.find((area) => {
    const o = overlap(titleStrip, area)
    return (
      o.width >= Math.min(MIN_VISIBLE.width, saved.width) &&
      o.height >= Math.min(MIN_VISIBLE.height, titleStrip.height)
    )
  })
  if (!host) return { bounds: fitDefault, maximized: saved.maximized }

  const width = Math.min(Math.max(saved.width, Math.min(MIN_SIZE.width, host.width)), host.width)
  const height = Math.min(Math.max(saved.height, Math.min(MIN_SIZE.height, host.height)), host.height)
  // Pull the window fully onto its display once the size fits.
  const x = Math.min(Math.max(saved.x, host.x), host.x + host.width - width)
  const y = Math.min(Math.max(saved.y, host.y), host.y + host.height - height)
  return { bounds: { x, y, width, height }, maximized: saved.maximized }
}

/** Reads the saved state; a missing or unreadable file just means "no saved state". */
export async function loadWindowState(dataDir: string): Promise<WindowState | null> {
  try {
    return await readJsonFile(windowStateFile(dataDir), WindowState.nullable(), () => null)
  } catch {
    return null
  }
}

export async function saveWindowState(dataDir: string, state: WindowState): Promise<void> {
  await writeJsonAtomic(windowStateFile(dataDir), WindowState.parse(state))
}
