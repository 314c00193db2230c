import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { RENDERER_CSP, withCsp } from '../../electron/main/csp'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function directives(csp: string): Map<string, string> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name = '', ...values] = d.split(/\s+/)
        return [name, values.join(' ')] as const
      }),
  )
}

describe('renderer CSP', () => {
  it('matches every directive of the meta tag in renderer/index.html', () => {
    const html = readFileSync(path.join(repoRoot, 'renderer/index.html'), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1]
    expect(meta, 'renderer/index.html has a CSP meta tag').toBeTruthy()
    const header = directives(RENDERER_CSP)
    for (const [name, value] of directives(meta ?? '')) expect(header.get(name), name).toBe(value)
  })

  it('connects only to its own origin (no other ws:/wss: host), in the header and the meta tag', () => {
    expect(directives(RENDERER_CSP).get('connect-src')).toBe("'self'")
    const html = readFileSync(path.join(repoRoot, 'renderer/index.html'), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? ''
    expect(directives(meta).get('connect-src')).toBe("'self'")
  })

  it('allows no inline or evaluated script and no framing', () => {
    const d = directives(RENDERER_CSP)
    expect(d.get('script-src')).toBe("'self'")
    expect(RENDERER_CSP).not.toContain('unsafe-eval')
    expect(d.get('frame-ancestors')).toBe("'none'")
    expect(d.get('object-src')).toBe("'none'")
  })

  it('replaces any CSP the response brought, whatever its case, and keeps other headers', () => {
    const out = withCsp({ 'content-security-policy': ['default-src *'], 'Content-Type': 'text/html' })
    expect(out['Content-Security-Policy']).toEqual([RENDERER_CSP])
    expect(out['content-security-policy']).toBeUndefined()
    expect(out['Content-Type']).toEqual(['text/html'])
    expect(withCsp(undefined)).toEqual({ 'Content-Security-Policy': [RENDERER_CSP] })
  })
})
