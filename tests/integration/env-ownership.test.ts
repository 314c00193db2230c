import { existsSync, mkdirSync, promises as fs, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EnvManifest, MANIFEST_FILE } from '../../core/env/ownership'
import { createServices } from '../../electron/services'
import { runCollecting } from '../helpers/processes'
import { startLocalIndex, type LocalIndex } from './env-index'
import { createStandinRepo, readJson, repoRoot, sharedUvBin, tempDir, testEnv } from './env-helpers'

let root: string
let standin: string
let uvBin: string
let index: LocalIndex

beforeAll(async () => {
  root = tempDir('ownership')
  standin = createStandinRepo(path.join(root, 'sd-scripts-standin'))
  uvBin = sharedUvBin()
  index = await startLocalIndex({ auth: 'alice:s3cret-Pa55' })
}, 240_000)
afterAll(async () => {
  await index?.close()
  await fs.rm(root, { recursive: true, force: true })
})

const SECRET = 's3cret-Pa55'
const dataDir = () => path.join(root, 'data')
const env = () => testEnv({ PATH: `${uvBin}:${process.env.PATH}` })

function services() {
  return createServices({ dataDir: dataDir(), mode: 'test', env: env(), version: '0.0.0' })
}

/** Every file under a folder, with its content, to prove nothing in it changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name)
    out[path.relative(dir, p)] = e.isFile() ? await fs.readFile(p, 'utf8') : '<dir>'
  }
  return out
}

function cli(args: string[]) {
  return runCollecting('npm', ['run', '-s', 'cli', '--', ...args], {
    cwd: repoRoot,
    env: { ...env(), SDXL_STUDIO_DATA_DIR: dataDir() },
  })
}

describe('environments never take over user folders', () => {
  it("refuses a folder holding the user's files (naming it and them), and an existing install; writes nothing", async () => {
    const photos = path.join(root, 'Мои документы')
    mkdirSync(path.join(photos, 'notes'), { recursive: true })
    writeFileSync(path.join(photos, 'holiday.jpg'), 'jpeg')
    writeFileSync(path.join(photos, 'notes', 'todo.txt'), 'buy milk')
    const kohya = path.join(root, 'kohya_ss')
    mkdirSync(path.join(kohya, 'sd-scripts'), { recursive: true })
    mkdirSync(path.join(kohya, 'venv', 'bin'), { recursive: true })
    writeFileSync(path.join(kohya, 'venv', 'bin', 'python'), '#!/bin/sh\n')
    const before = { photos: await snapshot(photos), kohya: await snapshot(kohya) }
    const s = services()
    try {
      const plan = await s.router.call(
        'env.plan',
        { name: 'x', envDir: photos, source: standin, torch: 'none' },
        { transport: 'test' },
      )
      if (!plan.ok) throw new Error(plan.error.message)
      expect(plan.result.ok).toBe(false)
      const folder = plan.result.prechecks!.problems.find((p) => p.id === 'folder')!
      expect(folder.severity).toBe('error')
      expect(folder.message).toContain(photos)
      expect(folder.message).toContain('"holiday.jpg", "notes"')

      const install = await s.router.call(
        'env.install',
        { name: 'x', envDir: photos, source: standin, torch: 'none' },
        { transport: 'test' },
      )
      expect(install.ok).toBe(false)
      if (!install.ok) {
        expect(install.error.message).toContain(
          `${photos} already holds files that SDXL Studio did not put there`,
        )
        expect(install.error.details).toMatchObject({ kind: 'precheck' })
      }
      const existing = await s.router.call(
        'env.install',
        { name: 'y', envDir: kohya, source: standin, torch: 'none' },
        { transport: 'test' },
      )
      expect(!existing.ok && existing.error.message).toMatch(/"sd-scripts", "venv".*env use-existing/s)
      expect((await s.env.manager.registry()).environments).toEqual([])
    } finally {
      await s.dispose()
    }
    expect(await snapshot(photos)).toEqual(before.photos)
    expect(await snapshot(kohya)).toEqual(before.kohya)
  })

  it('installs into an empty folder the user chose (password-protected mirror), then removes only what it created', async () => {
    const chosen = path.join(root, 'my envs', 'lora env')
    mkdirSync(chosen, { recursive: true })
    const sibling = path.join(root, 'my envs', 'dataset.txt')
    writeFileSync(sibling, 'keep me')
    const logs: string[] = []
    const progress: string[] = []
    const s = services()
    try {
      const m = s.env.manager
      const offLog = m.onLog((c) => logs.push(c.data))
      const offProgress = m.onProgress((p) => progress.push(JSON.stringify(p)))
      const run = await m.install({
        name: 'mine',
        envDir: chosen,
        source: standin,
        torch: 'none',
        version: 'v0.10.1',
        mirrors: { pypiIndex: index.url.replace('http://', `http://alice:${SECRET}@`) },
      })
      const outcome = await run.done
      offLog()
      offProgress()
      // torch: none (quick) ends at verify, which says how to add torch: every step before it ran.
      expect(outcome.state.lastError?.step).toBe('verify')
      expect(outcome.state.lastError?.message).toContain('torch is not installed')
      expect(outcome.state.status).toBe('failed')

      // The mirror got the password (through NETRC), the argv and every record did not.
      const pages = index.requests.filter((r) => r.path.startsWith('/simple/'))
      expect(pages.length).toBeGreaterThan(0)
      expect(pages.some((r) => r.auth === `alice:${SECRET}`)).toBe(true)
      const stateText = await fs.readFile(path.join(chosen, 'install-state.json'), 'utf8')
      // (With torch: none a file listing what uv leaves out is written first.)
      const req = outcome.state.plan.steps
        .find((st) => st.id === 'requirements')!
        .commands.find((c) => c.kind === 'run')!
      expect(req.kind === 'run' && req.argv).toEqual(expect.arrayContaining(['--index-url', index.url]))
      for (const [what, text] of [
        ['install-state.json', stateText],
        ['install.log', await fs.readFile(path.join(chosen, 'logs', 'install.log'), 'utf8')],
        ['env.log events', logs.join('')],
        ['env.progress events', progress.join('\n')],
        ['env.list', JSON.stringify(await m.list())],
      ] as const) {
        expect(text, what).not.toContain(SECRET)
      }
      expect(JSON.stringify(await m.list())).toContain(`alice:****@127.0.0.1`)
      // The registry keeps the install's mirror with its password, so it is user-only; the netrc is gone.
      expect(statSync(path.join(dataDir(), 'environments.json')).mode & 0o777).toBe(0o600)
      expect(readdirSync(path.join(dataDir(), 'private')).filter((f) => f.startsWith('netrc'))).toEqual([])

      const manifest = EnvManifest.parse(await readJson(path.join(chosen, MANIFEST_FILE)))
      expect(manifest).toMatchObject({ name: 'mine', createdRoot: false })
      expect(manifest.entries).toEqual(
        expect.arrayContaining([
          MANIFEST_FILE,
          'sd-scripts',
          'venv',
          'logs',
          'install-state.json',
          'probe.json',
        ]),
      )

      // Another environment may not move into this one's folder.
      const again = await s.router.call(
        'env.install',
        { name: 'other', envDir: chosen, source: standin, torch: 'none' },
        { transport: 'test' },
      )
      expect(!again.ok && again.error.message).toContain(`${chosen} holds the environment "mine"`)

      // The user keeps work in the environment folder: Remove refuses, names it, deletes nothing.
      writeFileSync(path.join(chosen, 'my-lora.safetensors'), 'weights')
      mkdirSync(path.join(chosen, 'samples'))
      writeFileSync(path.join(chosen, 'samples', 'cat.png'), 'png')
      const refused = await s.router.call(
        'env.remove',
        { name: 'mine', confirm: true },
        { transport: 'test' },
      )
      expect(refused.ok).toBe(false)
      if (!refused.ok) {
        expect(refused.error.code).toBe('conflict')
        expect(refused.error.message).toContain(`${chosen} also holds files the install did not create`)
        expect(refused.error.message).toContain('"my-lora.safetensors", "samples"')
        expect(refused.error.details).toMatchObject({
          kind: 'foreign_files',
          folder: chosen,
          files: ['my-lora.safetensors', 'samples'],
        })
      }
      expect(existsSync(path.join(chosen, 'venv'))).toBe(true)
      expect(existsSync(path.join(chosen, 'my-lora.safetensors'))).toBe(true)
    } finally {
      await s.dispose()
    }

    // The CLI says the same and exits 1; confirming one of two names is not enough.
    const cliRefused = await cli(['env', 'remove', '--name', 'mine', '--yes', '--confirm-foreign', 'samples'])
    expect(cliRefused.code).toBe(1)
    expect(cliRefused.stderr).toContain('"my-lora.safetensors"')
    expect(cliRefused.stderr).toContain('--confirm-foreign')
    expect(existsSync(path.join(chosen, 'samples', 'cat.png'))).toBe(true)

    const removed = await cli([
      ...['env', 'remove', '--name', 'mine', '--yes', '--json'],
      ...['--confirm-foreign', 'samples', '--confirm-foreign', 'my-lora.safetensors'],
    ])
    expect(removed.code, removed.stderr).toBe(0)
    expect(JSON.parse(removed.stdout)).toMatchObject({ removed: true, deletedFiles: true })
    // The folder was the user's before the install: it stays, empty; the file beside it is untouched.
    expect(readdirSync(chosen)).toEqual([])
    expect(await fs.readFile(sibling, 'utf8')).toBe('keep me')
  }, 300_000)
})
