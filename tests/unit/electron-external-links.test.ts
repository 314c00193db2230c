import { describe, expect, it } from 'vitest'
import { EXTERNAL_LINK_HOSTS, isAllowedExternalUrl } from '../../electron/main/external-links'

describe('isAllowedExternalUrl (what shell.openExternal may receive)', () => {
  it('allows https links to the listed sites', () => {
    for (const url of [
      'https://github.com/kohya-ss/sd-scripts',
      'https://git-scm.com/downloads',
      'https://docs.astral.sh/uv/',
      'https://pypi.org/simple/uv/',
      'https://pytorch.org/get-started/locally/',
      'https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0',
      'https://www.nvidia.com/Download/index.aspx',
      'https://GITHUB.com/x',
      'https://github.com:443/x',
    ]) {
      expect(isAllowedExternalUrl(url), url).toBe(true)
    }
  })

  it('refuses other schemes, other hosts, look-alikes, credentials and odd ports', () => {
    for (const url of [
      'http://github.com/kohya-ss/sd-scripts', // not https
      'https://example.com/',
      'https://github.com.evil.example/',
      'https://evilgithub.com/',
      'https://gist.github.com/x', // a subdomain is another site
      'https://github.com@evil.example/',
      'https://user:pass@github.com/',
      'https://github.com:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://host/share',
      'ms-msdt:/id',
      'vscode://x',
      'data:text/html,x',
      'nonsense',
      '',
      'https://',
      'https://гитхаб.рф/',
      `https://github.com/${'a'.repeat(100_000)}`.replace('github.com', 'x'.repeat(300)),
    ]) {
      expect(isAllowedExternalUrl(url), url).toBe(false)
    }
  })

  it('takes its own list when given one, and the default list has only bare hostnames', () => {
    expect(isAllowedExternalUrl('https://example.com/', ['example.com'])).toBe(true)
    expect(isAllowedExternalUrl('https://github.com/', [])).toBe(false)
    for (const host of EXTERNAL_LINK_HOSTS) expect(host).toMatch(/^[a-z0-9.-]+$/)
  })
})
