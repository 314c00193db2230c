import { describe, expect, it } from 'vitest'
import { parseNameHasOwner, SNI_WATCHER, trayVisible, watcherQuery } from '../../electron/main/tray-support'

describe('whether a tray icon will be seen', () => {
  it('reads gdbus answers; anything else is unknown', () => {
    expect(parseNameHasOwner('(true,)\n')).toBe(true)
    expect(parseNameHasOwner('(false,)')).toBe(false)
    expect(parseNameHasOwner('')).toBeNull()
    expect(parseNameHasOwner('Error: GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown')).toBeNull()
    expect(parseNameHasOwner('(true, false)')).toBeNull()
  })

  it('trusts Windows and macOS; on Linux only a running status notifier host', () => {
    expect(trayVisible('win32', null)).toBe(true)
    expect(trayVisible('darwin', null)).toBe(true)
    expect(trayVisible('linux', true)).toBe(true)
    expect(trayVisible('linux', false)).toBe(false)
    expect(trayVisible('linux', null)).toBe(false)
  })

  it('asks the session bus for the watcher name', () => {
    const q = watcherQuery()
    expect(q.cmd).toBe('gdbus')
    expect(q.args.at(-1)).toBe(SNI_WATCHER)
    expect(q.args).toContain('org.freedesktop.DBus.NameHasOwner')
  })
})
