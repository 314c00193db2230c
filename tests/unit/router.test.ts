import { describe, expect, it } from 'vitest'
import type { ServerMessage } from '../../core/api/protocol'
import { createServices } from '../../electron/services'
import { RouterSession } from '../../electron/services/router'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

function services() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sdxl-router-'))
  return createServices({ dataDir, mode: 'test', env: { PATH: '' }, version: '0.0.0-test' })
}

describe('router', () => {
  it('answers an unknown method with a typed error, never a throw', async () => {
    const s = services()
    const r = await s.router.callByName('nope.nothing', {}, { transport: 'test' })
    expect(r).toEqual({
      ok: false,
      error: { code: 'unknown_method', message: 'Unknown method: nope.nothing' },
    })
  })

  it('rejects malformed input at the boundary with the failing field named', async () => {
    const s = services()
    const r = await s.router.callByName('settings.update', { language: 'de' }, { transport: 'test' })
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('bad_request')
      expect(r.error.message).toContain('language')
    }
  })

  it('persists settings through the router', async () => {
    const s = services()
    const r = await s.router.call('settings.update', { language: 'ru' }, { transport: 'test' })
    expect(r).toEqual({ ok: true, result: { language: 'ru', theme: 'auto', developer: false } })
    expect(await s.router.call('settings.get', {}, { transport: 'test' })).toEqual(r)
  })

  it('answers a malformed wire message with bad_request and keeps the session alive', async () => {
    const s = services()
    const sent: ServerMessage[] = []
    const session = new RouterSession(s.router, (m) => sent.push(m), { transport: 'test' })
    await session.receive({ t: 'req', id: 'x' })
    await session.receive('garbage')
    await session.receive({ t: 'req', id: 7, method: 'app.info', input: {} })
    expect(sent[0]).toMatchObject({ t: 'res', ok: false, error: { code: 'bad_request' } })
    expect(sent[1]).toMatchObject({ t: 'res', ok: false, error: { code: 'bad_request' } })
    expect(sent[2]).toMatchObject({
      t: 'res',
      id: 7,
      ok: true,
      result: { name: 'SDXL Studio', mode: 'test' },
    })
  })

  it('ends a subscription to an unknown stream with a typed error', async () => {
    const s = services()
    const sent: ServerMessage[] = []
    const session = new RouterSession(s.router, (m) => sent.push(m), { transport: 'test' })
    await session.receive({ t: 'sub', id: 1, event: 'nope', params: {} })
    expect(sent).toEqual([
      { t: 'end', id: 1, error: { code: 'unknown_method', message: 'Unknown event stream: nope' } },
    ])
  })
})
