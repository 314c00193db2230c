import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { isLoopbackHost, sameOrigin } from '../../electron/server/server'
import { generateToken, parseCookies, tokensEqual } from '../../electron/server/token'

function upgrade(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage
}

describe('tokens', () => {
  it('generates distinct 256-bit URL-safe tokens', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateToken))
    expect(tokens.size).toBe(100)
    for (const t of tokens) expect(Buffer.from(t, 'base64url')).toHaveLength(32)
  })

  it('accepts only the exact token', () => {
    const t = generateToken()
    expect(tokensEqual(t, t)).toBe(true)
    expect(tokensEqual(`${t}x`, t)).toBe(false)
    expect(tokensEqual(t.slice(0, -1), t)).toBe(false)
    expect(tokensEqual(t.toUpperCase(), t)).toBe(t === t.toUpperCase())
    expect(tokensEqual('', t)).toBe(false)
    expect(tokensEqual(undefined, t)).toBe(false)
    expect(tokensEqual(null, t)).toBe(false)
    expect(tokensEqual('a'.repeat(5000), t)).toBe(false)
  })
})

describe('parseCookies', () => {
  it('reads name=value pairs, trims, unquotes and keeps the first duplicate', () => {
    const c = parseCookies(' a=1; b="two" ; a=3; broken; =x; c=%20sp')
    expect(c.get('a')).toBe('1')
    expect(c.get('b')).toBe('two')
    expect(c.get('c')).toBe(' sp')
    expect(c.has('broken')).toBe(false)
    expect(parseCookies(undefined).size).toBe(0)
    expect(parseCookies('d=%E0%A4%A').get('d')).toBe('%E0%A4%A')
  })
})

describe('sameOrigin', () => {
  it('accepts an Origin naming the host the browser connected to', () => {
    expect(sameOrigin(upgrade({ host: '127.0.0.1:7860', origin: 'http://127.0.0.1:7860' }))).toBe(true)
    expect(sameOrigin(upgrade({ host: 'localhost:8000', origin: 'http://localhost:8000' }))).toBe(true)
    expect(sameOrigin(upgrade({ host: 'Box.lan:7860', origin: 'http://box.lan:7860' }))).toBe(true)
    expect(sameOrigin(upgrade({ host: '[::1]:7860', origin: 'http://[::1]:7860' }))).toBe(true)
    expect(sameOrigin(upgrade({ host: 'studio.example', origin: 'https://studio.example' }))).toBe(true)
  })

  it('refuses other origins, other ports, missing headers and odd schemes', () => {
    const host = '127.0.0.1:7860'
    for (const origin of [
      'http://evil.example',
      'http://127.0.0.1:7861',
      'http://127.0.0.1',
      'http://localhost:7860',
      'null',
      'file://',
      'chrome-extension://abc',
      'http://127.0.0.1:7860.evil.example',
    ]) {
      expect(sameOrigin(upgrade({ host, origin })), origin).toBe(false)
    }
    expect(sameOrigin(upgrade({ host }))).toBe(false)
    expect(sameOrigin(upgrade({ origin: 'http://127.0.0.1:7860' }))).toBe(false)
    expect(sameOrigin(upgrade({ host: '127.0.0.1:7860/x', origin: 'http://127.0.0.1:7860' }))).toBe(false)
    expect(sameOrigin(upgrade({ host: 'u@127.0.0.1:7860', origin: 'http://127.0.0.1:7860' }))).toBe(false)
  })
})

describe('isLoopbackHost', () => {
  it('treats only loopback addresses as private to this machine', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'box.lan', '10.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false)
  })
})
