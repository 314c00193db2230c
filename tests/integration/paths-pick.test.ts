import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createServices, type ServiceExtras } from '../../electron/services'

const made: Array<{ root: string; dispose: () => Promise<void> }> = []

function services(extras?: ServiceExtras) {
  const root = mkdtempSync(path.join(tmpdir(), 'sdxl-pick-'))
  const s = createServices(
    { dataDir: path.join(root, 'data'), mode: 'test', env: { PATH: '' }, version: '0.0.0-test' },
    extras,
  )
  made.push({ root, dispose: s.dispose })
  return s
}

afterEach(async () => {
  for (const m of made.splice(0)) {
    await m.dispose()
    rmSync(m.root, { recursive: true, force: true })
  }
})

describe('paths.pick', () => {
  it('headless (no override) answers a typed unavailable error that is not a lost connection', async () => {
    const r = await services().router.callByName('paths.pick', { kind: 'folder' }, { transport: 'ws' })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('unavailable')
    expect(r.error.message).toMatch(/desktop app/)
    // The renderer treats 'unavailable' without details as a dropped link; this one must carry a kind.
    expect(r.error.details).toEqual({ kind: 'no_native_dialogs' })
  })

  it('an override replaces the handler and gets the validated input', async () => {
    const seen: unknown[] = []
    const s = services({
      overrides: {
        'paths.pick': (input) => {
          seen.push(input)
          return { path: input.kind === 'file' ? '/models/sdxl.safetensors' : null }
        },
      },
    })
    const file = await s.router.call(
      'paths.pick',
      { kind: 'file', title: 'Model', filters: [{ name: 'Models', extensions: ['safetensors'] }] },
      { transport: 'ipc' },
    )
    expect(file).toEqual({ ok: true, result: { path: '/models/sdxl.safetensors' } })
    const cancelled = await s.router.call('paths.pick', { kind: 'folder' }, { transport: 'ipc' })
    expect(cancelled).toEqual({ ok: true, result: { path: null } })
    expect(seen).toEqual([
      { kind: 'file', title: 'Model', filters: [{ name: 'Models', extensions: ['safetensors'] }] },
      { kind: 'folder' },
    ])
    // Other handlers are untouched.
    const browse = await s.router.call('paths.browse', { path: tmpdir() }, { transport: 'ipc' })
    expect(browse.ok).toBe(true)
  })

  it('bad input is refused before any dialog is shown', async () => {
    let called = false
    const s = services({
      overrides: {
        'paths.pick': () => {
          called = true
          return { path: null }
        },
      },
    })
    const r = await s.router.callByName('paths.pick', { kind: 'drive' }, { transport: 'ipc' })
    expect(r.ok ? 'ok' : r.error.code).toBe('bad_request')
    const ext = await s.router.callByName(
      'paths.pick',
      { kind: 'file', filters: [{ name: 'x', extensions: ['.exe;rm'] }] },
      { transport: 'ipc' },
    )
    expect(ext.ok ? 'ok' : ext.error.code).toBe('bad_request')
    expect(called).toBe(false)
  })

  it('an override that returns a malformed answer becomes a typed internal error, not a crash', async () => {
    const s = services({ overrides: { 'paths.pick': () => ({ path: 42 }) as never } })
    const r = await s.router.callByName('paths.pick', { kind: 'file' }, { transport: 'ipc' })
    expect(r.ok ? 'ok' : r.error.code).toBe('internal')
  })
})
