import { describe, expect, it } from 'vitest'
import {
  parseSimpleHtml,
  parseSimpleJson,
  pickUvWheel,
  projectPageUrl,
  uvPathInWheel,
  type IndexFile,
} from '../../core/env/uv-wheel'

/** The wheel names PyPI lists for uv 0.13.9 (the real set of platforms). */
const NAMES = [
  'uv-0.13.9-py3-none-linux_armv6l.whl',
  'uv-0.13.9-py3-none-macosx_10_12_x86_64.whl',
  'uv-0.13.9-py3-none-macosx_11_0_arm64.whl',
  'uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl',
  'uv-0.13.9-py3-none-manylinux_2_17_armv7l.manylinux2014_armv7l.whl',
  'uv-0.13.9-py3-none-manylinux_2_17_i686.manylinux2014_i686.whl',
  'uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  'uv-0.13.9-py3-none-manylinux_2_28_aarch64.whl',
  'uv-0.13.9-py3-none-musllinux_1_1_i686.whl',
  'uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl',
  'uv-0.13.9-py3-none-win32.whl',
  'uv-0.13.9-py3-none-win_amd64.whl',
  'uv-0.13.9-py3-none-win_arm64.whl',
  'uv-0.13.9.tar.gz',
  'uv-0.13.8-py3-none-win_amd64.whl',
]
const files = (names = NAMES): IndexFile[] =>
  names.map((filename, i) => ({
    filename,
    url: `https://files.example/${filename}`,
    sha256: i.toString(16).padStart(64, '0'),
    yanked: false,
  }))

describe('uv wheel from a simple index', () => {
  it('picks the wheel for each platform the app runs on', () => {
    const pick = (t: Parameters<typeof pickUvWheel>[2]) => pickUvWheel(files(), '0.13.9', t)?.filename
    expect(pick({ os: 'win32', arch: 'x64' })).toBe('uv-0.13.9-py3-none-win_amd64.whl')
    expect(pick({ os: 'win32', arch: 'arm64' })).toBe('uv-0.13.9-py3-none-win_arm64.whl')
    expect(pick({ os: 'win32', arch: 'ia32' })).toBe('uv-0.13.9-py3-none-win32.whl')
    expect(pick({ os: 'linux', arch: 'x64' })).toBe(
      'uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    )
    expect(pick({ os: 'linux', arch: 'x64', libc: 'musl' })).toBe(
      'uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl',
    )
    // The oldest glibc wins (runs on more machines): 2.17 over 2.28.
    expect(pick({ os: 'linux', arch: 'arm64' })).toBe(
      'uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl',
    )
    expect(pickUvWheel(files(), '0.13.8', { os: 'linux', arch: 'x64' })).toBeNull()
    expect(pickUvWheel(files(), '9.9.9', { os: 'win32', arch: 'x64' })).toBeNull()
  })

  it('skips yanked files', () => {
    const list = files().map((f) => (f.filename.endsWith('win_amd64.whl') ? { ...f, yanked: true } : f))
    expect(pickUvWheel(list, '0.13.9', { os: 'win32', arch: 'x64' })).toBeNull()
  })

  it('reads PEP 691 JSON, resolving relative URLs and keeping only real sha256 values', () => {
    const body = JSON.stringify({
      meta: { 'api-version': '1.1' },
      name: 'uv',
      files: [
        { filename: NAMES[6], url: '../../packages/x/uv.whl', hashes: { sha256: 'AB'.repeat(32) } },
        { filename: NAMES[11], url: 'https://files.example/w.whl', hashes: { md5: 'x' }, yanked: 'broken' },
        { filename: NAMES[12], url: 'https://files.example/a.whl', hashes: { sha256: 'not-a-hash' } },
      ],
    })
    const parsed = parseSimpleJson(body, 'https://mirror.example/simple/uv/')!
    expect(parsed).toEqual([
      {
        filename: NAMES[6],
        url: 'https://mirror.example/packages/x/uv.whl',
        sha256: 'ab'.repeat(32),
        yanked: false,
      },
      { filename: NAMES[11], url: 'https://files.example/w.whl', sha256: null, yanked: true },
      { filename: NAMES[12], url: 'https://files.example/a.whl', sha256: null, yanked: false },
    ])
    expect(parseSimpleJson('<html>', 'https://x/')).toBeNull()
    expect(parseSimpleJson('{"files": 3}', 'https://x/')).toBeNull()
  })

  it('reads PEP 503 HTML with #sha256= fragments, entities and data-yanked', () => {
    const sha = 'c'.repeat(64)
    const body = `<!DOCTYPE html><html><body>
      <a href="/packages/uv-0.13.9-py3-none-win_amd64.whl#sha256=${sha}" data-requires-python="&gt;=3.8">uv-0.13.9-py3-none-win_amd64.whl</a><br/>
      <a href='https://files.example/uv-0.13.9.tar.gz?x=1&amp;y=2' data-yanked="">uv-0.13.9.tar.gz</a>
    </body></html>`
    expect(parseSimpleHtml(body, 'http://127.0.0.1:8080/simple/uv/')).toEqual([
      {
        filename: 'uv-0.13.9-py3-none-win_amd64.whl',
        url: 'http://127.0.0.1:8080/packages/uv-0.13.9-py3-none-win_amd64.whl',
        sha256: sha,
        yanked: false,
      },
      {
        filename: 'uv-0.13.9.tar.gz',
        url: 'https://files.example/uv-0.13.9.tar.gz?x=1&y=2',
        sha256: null,
        yanked: true,
      },
    ])
    expect(parseSimpleHtml('', 'https://x/')).toEqual([])
  })

  it('page and binary paths', () => {
    expect(projectPageUrl('https://pypi.org/simple')).toBe('https://pypi.org/simple/uv/')
    expect(projectPageUrl('https://mirror.example/pypi/simple///')).toBe(
      'https://mirror.example/pypi/simple/uv/',
    )
    expect(uvPathInWheel('0.13.9', 'win32')).toBe('uv-0.13.9.data/scripts/uv.exe')
    expect(uvPathInWheel('0.13.9', 'linux')).toBe('uv-0.13.9.data/scripts/uv')
  })
})
