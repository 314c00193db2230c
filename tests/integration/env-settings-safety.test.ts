import { existsSync, promises as fs, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServices } from '../../electron/services'
import { runCollecting } from '../helpers/processes'
import { repoRoot, tempDir, testEnv } from './env-helpers'

let root: string
beforeAll(() => {
  root = tempDir('settings-safety')
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

const mode = (file: string) => statSync(file).mode & 0o777

function cli(dataDir: string, args: string[]) {
  return runCollecting('npm', ['run', '-s', 'cli', '--', ...args], {
    cwd: repoRoot,
    env: { ...testEnv(), SDXL_STUDIO_DATA_DIR: dataDir },
  })
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('mirror and proxy credentials in the settings', () => {
  it('are stored user-only (0600 in a 0700 staging folder), shown masked, kept when saved back masked', async () => {
    const dataDir = path.join(root, 'data-a')
    const s = createServices({ dataDir, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      const call = async <M extends 'env.settings.update' | 'env.settings.get'>(m: M, input: unknown) => {
        const r = await s.router.call(m, input, { transport: 'test' })
        if (!r.ok) throw new Error(r.error.message)
        return r.result
      }
      const shown = await call('env.settings.update', {
        source: 'https://ghp_T0ken@git.example.com/me/sd-scripts.git',
        mirrors: {
          pypiIndex: 'https://alice:s3cret@pypi.example.com/simple',
          proxy: 'http://bob:hunter2@proxy.example.com:3128',
          pythonMirror: 'https://pbs.example.com/releases',
        },
      })
      expect(shown).toMatchObject({
        source: 'https://****@git.example.com/me/sd-scripts.git',
        mirrors: {
          pypiIndex: 'https://alice:****@pypi.example.com/simple',
          proxy: 'http://bob:****@proxy.example.com:3128',
          pythonMirror: 'https://pbs.example.com/releases',
        },
      })
      const file = path.join(dataDir, 'env-settings.json')
      expect(mode(file)).toBe(0o600)
      expect(mode(path.join(dataDir, 'private'))).toBe(0o700)
      expect(readdirSync(path.join(dataDir, 'private'))).toEqual([])
      expect(await fs.readFile(file, 'utf8')).toContain('alice:s3cret@')
      expect(JSON.stringify(await call('env.settings.get', {}))).not.toMatch(/s3cret|hunter2|T0ken/)

      // The Settings page saves everything back as shown: the passwords must survive that.
      await call('env.settings.update', shown)
      const stored = JSON.parse(await fs.readFile(file, 'utf8')) as {
        source: string
        mirrors: Record<string, string>
      }
      expect(stored.source).toBe('https://ghp_T0ken@git.example.com/me/sd-scripts.git')
      expect(stored.mirrors.pypiIndex).toBe('https://alice:s3cret@pypi.example.com/simple')
      expect(stored.mirrors.proxy).toBe('http://bob:hunter2@proxy.example.com:3128')
      // Masked, but for another host: never the stored password; the user is asked to type it.
      const moved = await s.router.call(
        'env.settings.update',
        { mirrors: { pypiIndex: 'https://alice:****@other.example.com/simple' } },
        { transport: 'test' },
      )
      expect(moved.ok).toBe(false)
      if (!moved.ok) {
        expect(moved.error.details).toMatchObject({ kind: 'invalid_setting', field: 'pypiIndex' })
        expect(moved.error.message).toMatch(/Type the password again/)
      }
      // A bad value is refused without echoing its password.
      const bad = await s.router.call(
        'env.settings.update',
        { mirrors: { proxy: 'socks5://bob:hunter2@proxy:1080' } },
        { transport: 'test' },
      )
      expect(!bad.ok && bad.error.message).toContain('socks5://bob:****@proxy:1080')
      expect(!bad.ok && bad.error.message).not.toContain('hunter2')
      // Changing one mirror leaves the others as they are.
      const one = await call('env.settings.update', { mirrors: { proxy: null } })
      expect(one.mirrors).toMatchObject({
        proxy: null,
        pypiIndex: 'https://alice:****@pypi.example.com/simple',
      })
      // What the user typed is trimmed before it is checked and stored.
      const trimmed = await call('env.settings.update', {
        source: '  https://github.com/kohya-ss/sd-scripts.git\n',
      })
      expect(trimmed.source).toBe('https://github.com/kohya-ss/sd-scripts.git')
    } finally {
      await s.dispose()
    }
  })

  it('a settings file an older version wrote world-readable becomes user-only when the app starts', async () => {
    const dataDir = path.join(root, 'data-b')
    await fs.mkdir(dataDir, { recursive: true })
    const file = path.join(dataDir, 'env-settings.json')
    writeFileSync(file, JSON.stringify({ mirrors: { pypiIndex: 'https://a:b@m/simple' } }), { mode: 0o644 })
    writeFileSync(path.join(dataDir, 'environments.json'), '{"schema":1,"active":null,"environments":[]}', {
      mode: 0o644,
    })
    await fs.chmod(file, 0o644)
    const s = createServices({ dataDir, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      await waitFor(() => mode(file) === 0o600, 'env-settings.json to become 0600')
      await waitFor(() => mode(path.join(dataDir, 'environments.json')) === 0o600, 'environments.json 0600')
    } finally {
      await s.dispose()
    }
  })

  it('the CLI sets the Python mirror and the proxy, and prints them masked', async () => {
    const dataDir = path.join(root, 'data-cli')
    const r = await cli(dataDir, [
      ...['env', 'settings', '--python-mirror', 'http://127.0.0.1:1/pbs'],
      ...['--proxy', 'http://bob:hunter2@proxy.example.com:3128'],
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('Python download mirror: http://127.0.0.1:1/pbs')
    expect(r.stdout).toContain('proxy: http://bob:****@proxy.example.com:3128')
    expect(r.stdout + r.stderr).not.toContain('hunter2')
    const json = await cli(dataDir, ['env', 'settings', '--json', '--proxy', ''])
    expect(JSON.parse(json.stdout)).toMatchObject({
      mirrors: { proxy: null, pythonMirror: 'http://127.0.0.1:1/pbs' },
    })
  }, 180_000)
})

describe('hostile sd-scripts sources through the CLI', () => {
  const marker = () => path.join(root, 'pwned')
  const hostile = () => [
    `-ux@y:;touch ${marker()};`,
    `--upload-pack=touch ${marker()}`,
    `ext::sh -c touch% ${marker()}`,
    `https://github.com/kohya-ss/sd-scripts.git\n--upload-pack=touch ${marker()}`,
  ]

  it('env install refuses each before running anything, saying why; the settings refuse to store it', async () => {
    const dataDir = path.join(root, 'data-hostile')
    for (const source of hostile()) {
      const r = await cli(dataDir, ['env', 'install', `--source=${source}`, '--torch', 'none', '--yes'])
      expect(r.code, source).toBe(1)
      expect(r.stderr, source).toMatch(
        /sd-scripts (source|URL) .*(starts with "-"|is not allowed|line break)/s,
      )
    }
    const s = createServices({ dataDir, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      for (const source of hostile().slice(0, 3)) {
        const r = await s.router.call('env.settings.update', { source }, { transport: 'test' })
        expect(r.ok, source).toBe(false)
        if (!r.ok) expect(r.error.details).toMatchObject({ kind: 'invalid_setting', field: 'source' })
      }
    } finally {
      await s.dispose()
    }
    expect(existsSync(marker())).toBe(false)
    expect(existsSync(path.join(dataDir, 'envs'))).toBe(false)
  }, 480_000)
})
