import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { isTrustedSenderUrl } from '../../electron/main/sender'

const indexFile = path.resolve('/opt/SDXL Studio/resources/app.asar/out/renderer/index.html')
const indexUrl = pathToFileURL(indexFile).href

describe('isTrustedSenderUrl', () => {
  const packaged = { rendererIndexFile: indexFile }
  const dev = { rendererIndexFile: indexFile, devServerUrl: 'http://localhost:5173/' }

  it('trusts our own index.html over file://, with any hash or query', () => {
    expect(isTrustedSenderUrl(indexUrl, packaged)).toBe(true)
    expect(isTrustedSenderUrl(`${indexUrl}#/runs/3`, packaged)).toBe(true)
    expect(isTrustedSenderUrl(`${indexUrl}?lang=ru`, packaged)).toBe(true)
  })

  it('refuses other local files, other schemes and garbage', () => {
    const other = pathToFileURL(path.resolve('/tmp/evil/index.html')).href
    for (const url of [
      other,
      `${pathToFileURL(path.dirname(indexFile)).href}/other.html`,
      'data:text/html,<script>1</script>',
      'about:blank',
      'https://example.com/',
      'http://localhost:5173/',
      'not a url',
      '',
      undefined,
      null,
    ]) {
      expect(isTrustedSenderUrl(url, packaged), String(url)).toBe(false)
    }
  })

  it('trusts the dev server origin only in development', () => {
    expect(isTrustedSenderUrl('http://localhost:5173/#/train', dev)).toBe(true)
    expect(isTrustedSenderUrl('http://localhost:5174/', dev)).toBe(false)
    expect(isTrustedSenderUrl('http://127.0.0.1:5173/', dev)).toBe(false)
    expect(isTrustedSenderUrl('https://evil.example/', dev)).toBe(false)
    expect(isTrustedSenderUrl(indexUrl, dev)).toBe(true)
  })
})
