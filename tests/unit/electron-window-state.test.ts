import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SIZE,
  loadWindowState,
  restoreWindowState,
  saveWindowState,
  windowStateFile,
  type Rect,
} from '../../electron/main/window-state'

const laptop: Rect = { x: 0, y: 0, width: 1920, height: 1040 }
const rightMonitor: Rect = { x: 1920, y: 0, width: 2560, height: 1400 }

describe('restoreWindowState', () => {
  it('uses the default size (centred by the OS) without a saved state', () => {
    expect(restoreWindowState(null, [laptop])).toEqual({ bounds: DEFAULT_SIZE, maximized: false })
  })

  it('shrinks the default size to a small screen', () => {
    const small = { x: 0, y: 0, width: 1024, height: 700 }
    expect(restoreWindowState(null, [small]).bounds).toEqual({ width: 1024, height: 700 })
  })

  it('keeps a saved position that is on a connected display', () => {
    const saved = { x: 2000, y: 100, width: 1400, height: 900, maximized: false }
    expect(restoreWindowState(saved, [laptop, rightMonitor])).toEqual({
      bounds: { x: 2000, y: 100, width: 1400, height: 900 },
      maximized: false,
    })
  })

  it('drops a position on a monitor that is no longer connected', () => {
    const saved = { x: 2000, y: 100, width: 1400, height: 900, maximized: true }
    const r = restoreWindowState(saved, [laptop])
    expect(r.bounds.x).toBeUndefined()
    expect(r.bounds.y).toBeUndefined()
    expect(r.maximized).toBe(true)
  })

  it('drops a position whose title bar is above the screen', () => {
    const saved = { x: 100, y: -500, width: 1000, height: 480, maximized: false }
    expect(restoreWindowState(saved, [laptop]).bounds.x).toBeUndefined()
  })

  it('pulls a partly off-screen window fully onto its display and fits its size', () => {
    const saved = { x: 1700, y: 200, width: 3000, height: 2000, maximized: false }
    expect(restoreWindowState(saved, [laptop]).bounds).toEqual({ x: 0, y: 0, width: 1920, height: 1040 })
  })

  it('always returns bounds inside the hosting display (property)', () => {
    const rect = fc.record({
      x: fc.integer({ min: -5000, max: 5000 }),
      y: fc.integer({ min: -5000, max: 5000 }),
      width: fc.integer({ min: 200, max: 4000 }),
      height: fc.integer({ min: 200, max: 3000 }),
    })
    fc.assert(
      fc.property(rect, fc.array(rect, { minLength: 1, maxLength: 3 }), fc.boolean(), (saved, areas, max) => {
        const { bounds } = restoreWindowState({ ...saved, maximized: max }, areas)
        if (bounds.x === undefined || bounds.y === undefined) return true
        const b = { x: bounds.x, y: bounds.y, width: bounds.width, height: bounds.height }
        return areas.some(
          (a) =>
            b.x >= a.x && b.y >= a.y && b.x + b.width <= a.x + a.width && b.y + b.height <= a.y + a.height,
        )
      }),
    )
  })
})

describe('window state file', () => {
  it('round-trips through an atomic write and leaves no temporary files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-winstate-'))
    expect(await loadWindowState(dir)).toBeNull()
    await saveWindowState(dir, { x: 10, y: 20, width: 1000, height: 700, maximized: true })
    expect(await loadWindowState(dir)).toEqual({ x: 10, y: 20, width: 1000, height: 700, maximized: true })
    expect(readdirSync(dir)).toEqual(['window-state.json'])
    expect(JSON.parse(readFileSync(windowStateFile(dir), 'utf8'))).toMatchObject({ width: 1000 })
  })

  it('treats a corrupt or foreign file as no saved state', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-winstate-'))
    writeFileSync(windowStateFile(dir), '{"x": "left"')
    expect(await loadWindowState(dir)).toBeNull()
    writeFileSync(windowStateFile(dir), '{"x": 1, "y": 2, "width": -5, "height": 10}')
    expect(await loadWindowState(dir)).toBeNull()
  })

  it('refuses to write an invalid state', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-winstate-'))
    await expect(
      saveWindowState(dir, { x: 0, y: 0, width: 0, height: 10, maximized: false }),
    ).rejects.toThrow()
  })
})
