import { execFileSync } from 'node:child_process'
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UV_VERSION } from '../../core/env/uv-wheel'
import { accessEnvironment } from '../../electron/services/env/access'
import { downloadFile, DownloadError } from '../../electron/services/env/net'
import { fetchUv } from '../../electron/services/env/uv-fetch'
import { cachedUvWheel, startLocalIndex, startProxy } from './env-index'
import { tempDir } from './env-helpers'

let root: string
beforeAll(() => {
  root = tempDir('net')
  cachedUvWheel()
}, 180_000)
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

const bare = { PATH: process.env.PATH ?? '' }
const ARCHIVE = Buffer.from('pretend this is sd-scripts-v0.10.1.tar.gz')

async function expectDownloadError(p: Promise<unknown>): Promise<DownloadError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(DownloadError)
  return e as DownloadError
}

describe('downloads honour the proxy setting, the proxy variables and NO_PROXY', () => {
  it('the proxy from the settings, with its credentials, carries a plain-HTTP download', async () => {
    const proxy = await startProxy({
      auth: 'bob:hunter2',
      serveHost: 'archive.example',
      files: { '/sd-scripts.tar.gz': ARCHIVE },
    })
    try {
      const to = path.join(root, 'a', 'sd-scripts.tar.gz')
      const got = await downloadFile('http://archive.example/sd-scripts.tar.gz', to, {
        credentials: [],
        proxy: proxy.url.replace('http://', 'http://bob:hunter2@'),
        env: bare,
      })
      expect(got.bytes).toBe(ARCHIVE.length)
      expect(await fs.readFile(to)).toEqual(ARCHIVE)
      expect(proxy.records).toEqual([
        { method: 'GET', target: 'http://archive.example/sd-scripts.tar.gz', auth: 'bob:hunter2' },
      ])
      // A proxy that wants other credentials: a message that says so and never shows the password.
      const e = await expectDownloadError(
        downloadFile('http://archive.example/sd-scripts.tar.gz', path.join(root, 'a', 'x'), {
          credentials: [],
          proxy: proxy.url.replace('http://', 'http://bob:wrong-pass@'),
          env: bare,
        }),
      )
      expect(e.status).toBe(407)
      expect(e.message).toMatch(/proxy wants a user name and password/)
      expect(e.message).not.toContain('wrong-pass')
      expect(existsSync(path.join(root, 'a', 'x.part'))).toBe(false)
    } finally {
      await proxy.close()
    }
  })

  it('an https download (GitHub) goes through the proxy as a CONNECT tunnel', async () => {
    const proxy = await startProxy({})
    try {
      const e = await expectDownloadError(
        downloadFile(
          'https://github.com/kohya-ss/sd-scripts/archive/refs/tags/v0.10.1.tar.gz',
          path.join(root, 'b', 'x.tar.gz'),
          { credentials: [], proxy: proxy.url.replace('http://', 'http://carol:s3cr3t-proxy@'), env: bare },
        ),
      )
      expect(proxy.records).toEqual([
        { method: 'CONNECT', target: 'github.com:443', auth: 'carol:s3cr3t-proxy' },
      ])
      expect(e.message).toMatch(/Could not reach https:\/\/github\.com\/kohya-ss.*Check the proxy address/s)
      expect(e.message).not.toContain('s3cr3t-proxy')
    } finally {
      await proxy.close()
    }
  })

  it('without a proxy setting, HTTP_PROXY/HTTPS_PROXY are used, NO_PROXY and loopback bypass them', async () => {
    const proxy = await startProxy({ serveHost: 'archive.example', files: { '/a.tgz': ARCHIVE } })
    const index = await startLocalIndex()
    try {
      const env = { ...bare, http_proxy: proxy.url, HTTPS_PROXY: proxy.url }
      await downloadFile('http://archive.example/a.tgz', path.join(root, 'c', 'a.tgz'), {
        credentials: [],
        proxy: null,
        env,
      })
      expect(proxy.records.map((r) => r.target)).toEqual(['http://archive.example/a.tgz'])
      // NO_PROXY names the host: no proxy (and this name does not resolve, so it fails directly).
      await expectDownloadError(
        downloadFile('http://archive.example/a.tgz', path.join(root, 'c', 'b.tgz'), {
          credentials: [],
          proxy: null,
          env: { ...env, NO_PROXY: 'archive.example' },
        }),
      )
      // A proxy set in the settings never carries requests to this machine's loopback.
      const wheel = path.basename(cachedUvWheel())
      await downloadFile(`${index.url.replace('/simple', '')}/files/${wheel}`, path.join(root, 'c', wheel), {
        credentials: [],
        proxy: proxy.url,
        env: bare,
      })
      expect(proxy.records).toHaveLength(1)
    } finally {
      await proxy.close()
      await index.close()
    }
  })
})

describe('uv from the PyPI index, checked against its sha256', () => {
  for (const html of [false, true]) {
    it(`reads the index (${html ? 'PEP 503 HTML' : 'PEP 691 JSON'}) with the mirror's credentials and unpacks a working uv`, async () => {
      const index = await startLocalIndex({ auth: 'alice:s3cret', html })
      try {
        const lines: string[] = []
        const to = path.join(root, `tools-${html}`, `uv-${UV_VERSION}`)
        const exe = await fetchUv({
          index: index.url,
          version: UV_VERSION,
          to,
          access: {
            credentials: [
              {
                origin: new URL(index.url).origin,
                hostname: '127.0.0.1',
                username: 'alice',
                password: 's3cret',
              },
            ],
            proxy: null,
            env: bare,
          },
          log: (l) => lines.push(l),
        })
        expect(exe).toBe(path.join(to, 'uv'))
        expect(execFileSync(exe, ['--version'], { encoding: 'utf8' })).toContain(UV_VERSION)
        expect(statSync(exe).mode & 0o111).not.toBe(0)
        // Only the binary is kept; the wheel and the work folder are gone.
        expect(readdirSync(to)).toEqual(['uv'])
        expect(readdirSync(path.dirname(to))).toEqual([`uv-${UV_VERSION}`])
        const page = index.requests.find((r) => r.path === '/simple/uv/')!
        expect(page.auth).toBe('alice:s3cret')
        expect(page.accept).toContain('application/vnd.pypi.simple.v1+json')
        expect(lines.join('')).toMatch(/sha256 matches the index/)
        expect(lines.join('')).not.toContain('s3cret')
      } finally {
        await index.close()
      }
    }, 120_000)
  }

  it('refuses a wheel whose bytes differ from the index hash, and leaves nothing behind', async () => {
    const index = await startLocalIndex({ tamper: true })
    try {
      const to = path.join(root, 'tools-tampered', `uv-${UV_VERSION}`)
      const e = await expectDownloadError(
        fetchUv({
          index: index.url,
          version: UV_VERSION,
          to,
          access: { credentials: [], proxy: null, env: bare },
        }),
      )
      expect(e.message).toMatch(/does not match the index's sha256/)
      expect(existsSync(to)).toBe(false)
      expect(readdirSync(path.dirname(to))).toEqual([])
    } finally {
      await index.close()
    }
  }, 120_000)

  it('says what is missing: no wheel for this machine, a mirror without credentials, an index that is down', async () => {
    const index = await startLocalIndex({ auth: 'alice:s3cret' })
    try {
      const access = { credentials: [], proxy: null, env: bare }
      const to = path.join(root, 'tools-err', 'uv')
      const noWheel = await expectDownloadError(
        fetchUv({ index: index.url, version: '0.0.1', to, access, target: { os: 'win32', arch: 'arm64' } }),
      )
      expect(noWheel.status).toBe(401)
      expect(noWheel.message).toMatch(/refused access: check the user name and password/)
      const withAuth = {
        ...access,
        credentials: [
          { origin: new URL(index.url).origin, hostname: '127.0.0.1', username: 'alice', password: 's3cret' },
        ],
      }
      const none = await expectDownloadError(
        fetchUv({
          index: index.url,
          version: UV_VERSION,
          to,
          access: withAuth,
          target: { os: 'win32', arch: 'ia32' },
        }),
      )
      expect(none.message).toMatch(/has no uv .* wheel for win32 ia32/)
    } finally {
      await index.close()
    }
    // A port nothing listens on (taken, then released).
    const closed = await startProxy({})
    await closed.close()
    const down = await expectDownloadError(
      fetchUv({
        index: `${closed.url}/simple`,
        version: UV_VERSION,
        to: path.join(root, 'tools-down', 'uv'),
        access: { credentials: [], proxy: null, env: bare },
      }),
    )
    expect(down.message).toContain(`Could not reach ${closed.url}/simple/uv/ (ECONNREFUSED`)
  })
})

describe('credentials reach the commands through variables and a user-only netrc, never argv', () => {
  it('NETRC (0600, in a 0700 folder) with the user netrc appended, git headers, proxy variables; cleanup deletes it', async () => {
    const dataDir = path.join(root, 'data-access')
    const home = path.join(root, 'home-access')
    await fs.mkdir(home, { recursive: true })
    await fs.writeFile(path.join(home, '.netrc'), 'machine other.example login me password mine\n')
    const prepared = await accessEnvironment(
      {
        credentials: [
          {
            origin: 'https://pypi.example',
            hostname: 'pypi.example',
            username: 'alice',
            password: 's3 cret',
          },
          { origin: 'https://git.example', hostname: 'git.example', username: 'tok', password: '' },
        ],
        proxy: 'http://bob:hunter2@proxy.example:3128',
      },
      dataDir,
      { HOME: home, GIT_CONFIG_COUNT: '1', NO_PROXY: 'intranet.example' },
    )
    const netrc = prepared.env.NETRC!
    expect(path.dirname(netrc)).toBe(path.join(dataDir, 'private'))
    expect(statSync(netrc).mode & 0o777).toBe(0o600)
    expect(statSync(path.dirname(netrc)).mode & 0o777).toBe(0o700)
    expect(await fs.readFile(netrc, 'utf8')).toBe(
      'machine pypi.example login alice password "s3 cret"\nmachine git.example login tok password ""\n\n' +
        'machine other.example login me password mine\n',
    )
    expect(prepared.env).toMatchObject({
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_1: 'http.https://pypi.example/.extraHeader',
      GIT_CONFIG_VALUE_1: `Authorization: Basic ${Buffer.from('alice:s3 cret').toString('base64')}`,
      GIT_CONFIG_KEY_2: 'http.https://git.example/.extraHeader',
      HTTPS_PROXY: 'http://bob:hunter2@proxy.example:3128',
      http_proxy: 'http://bob:hunter2@proxy.example:3128',
      NO_PROXY: 'intranet.example,localhost,127.0.0.1,::1',
    })
    await prepared.cleanup()
    expect(existsSync(netrc)).toBe(false)
    // Nothing to carry: no file, no variables beyond the proxy rules.
    expect((await accessEnvironment({ credentials: [], proxy: null }, dataDir, {})).env).toEqual({})
  })
})
