import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses'
import { getRawHeader, listPackage } from '@electron/asar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProbeReport } from '../../core/env/probe'
import { detectLayout } from '../../electron/services/app-files'
import { runCollecting } from '../helpers/processes'
import { createStandinRepo } from '../integration/env-helpers'
import { messageQueue, openSocket, rawRequest } from '../integration/server-helpers'

/*
 * The installed app's layout, built for real: electron-builder's `dir` target with a stand-in Electron
 * binary (electronDist), the same config the installers use. Then the installed code runs from that
 * output, as `sdxl-studio cli` / `--serve` run it (the CLI bundle as Node): it must find probe.py
 * outside the asar, node-pty's native file unpacked, the built renderer, and the presets in its
 * bundle. The desktop window itself needs a real Electron: scripts/electron-smoke.mjs.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')

/** The fuse wire Electron 45 ships with (sentinel, wire version 1, 8 fuses), so the test sees what flips. */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'
const STOCK_WIRE = '10110001'

let scratch: string
let appDir: string
let resources: string
let cliBundle: string
let dataDir: string

function standinElectron(dir: string): string {
  mkdirSync(dir, { recursive: true })
  const bin = path.join(dir, 'electron')
  writeFileSync(
    bin,
    Buffer.from(
      `#!/bin/sh\necho "stand-in Electron"\nexit 1\n# ${SENTINEL}\x01\x08${STOCK_WIRE}\n`,
      'latin1',
    ),
  )
  chmodSync(bin, 0o755)
  return dir
}

/** The installed CLI, run as Node the way `sdxl-studio cli …` runs it (ELECTRON_RUN_AS_NODE). */
function installedCli(args: string[], extraEnv: Record<string, string> = {}) {
  return runCollecting(process.execPath, [cliBundle, ...args], {
    cwd: scratch,
    env: { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir, ...extraEnv, SDXL_STUDIO_RESOURCES: '' },
  })
}

beforeAll(() => {
  for (const built of [
    'out/main/index.cjs',
    'out/preload/index.cjs',
    'out/cli/index.js',
    'out/renderer/index.html',
  ]) {
    if (!existsSync(path.join(repoRoot, built))) {
      throw new Error(
        `${built} is missing: run \`npm run build\` (or \`npm run test:packaged\`, which builds first).`,
      )
    }
  }
  scratch = path.join(tmpdir(), `sdxl-packaged-${process.pid}-${Date.now()}`)
  mkdirSync(scratch, { recursive: true })
  dataDir = path.join(scratch, 'data')
  const electronDist = standinElectron(path.join(scratch, 'electron-dist'))
  // A space in the output path, as in "C:\Program Files\SDXL Studio" and "/opt/SDXL Studio".
  const output = path.join(scratch, 'dist out')
  execFileSync(
    path.join(repoRoot, 'node_modules/.bin/electron-builder'),
    ['--linux', 'dir', `-c.electronDist=${electronDist}`, `-c.directories.output=${output}`],
    { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } },
  )
  appDir = path.join(output, 'linux-unpacked')
  resources = path.join(appDir, 'resources')
  cliBundle = path.join(resources, 'app.asar.unpacked', 'out', 'cli', 'index.js')
}, 180_000)

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe.skipIf(process.platform !== 'linux')('the installed app (electron-builder dir target)', () => {
  it('ships what runs and nothing else', () => {
    const asar = path.join(resources, 'app.asar')
    const files = listPackage(asar, { isPack: false }).map((f) => f.split(path.sep).join('/'))
    for (const needed of [
      '/package.json',
      '/out/main/index.cjs',
      '/out/preload/index.cjs',
      '/out/cli/index.js',
    ]) {
      expect(files, needed).toContain(needed)
    }
    const forbidden = files.filter((f) =>
      /^\/(resources|presets|core|electron|renderer|tests|scripts|docs|\.ci)(\/|$)|\.map$|\.pdb$|\.ts$|\/node-pty\/(src|deps|third_party|prebuilds|scripts|typings)\/|\/node-addon-api\/|\/out\/renderer\/\.vite\//.test(
        f,
      ),
    )
    expect(forbidden).toEqual([])
    // node-pty is the only production module: the rest is bundled.
    const modules = new Set(files.filter((f) => /^\/node_modules\/[^/]+$/.test(f)))
    expect([...modules]).toEqual(['/node_modules/node-pty'])
    const shipped = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { main: string }
    expect(files).toContain(`/${shipped.main.replace(/^\.\//, '')}`)
  })

  it('keeps node-pty native file, the CLI and the renderer unpacked, where the code loads them', () => {
    const header = getRawHeader(path.join(resources, 'app.asar')).header as {
      files: Record<string, unknown>
    }
    const entry = (p: string) =>
      p
        .split('/')
        .reduce<unknown>(
          (node, part) => (node as { files: Record<string, unknown> }).files[part],
          header,
        ) as {
        unpacked?: boolean
      }
    for (const p of [
      'node_modules/node-pty/build/Release/pty.node',
      'node_modules/node-pty/lib/index.js',
      'out/cli/index.js',
      'out/renderer/index.html',
    ]) {
      expect(entry(p)?.unpacked, p).toBe(true)
      expect(existsSync(path.join(resources, 'app.asar.unpacked', p)), p).toBe(true)
    }
    // Linux uses the module npm compiled; the Windows prebuilds (winpty, conpty) stay out.
    expect(existsSync(path.join(resources, 'app.asar.unpacked/node_modules/node-pty/prebuilds'))).toBe(false)
  })

  it('puts the Python resources outside the asar, where the installed code resolves them', () => {
    expect(existsSync(path.join(resources, 'env', 'probe.py'))).toBe(true)
    expect(existsSync(path.join(resources, 'env', 'prefill_tokenizers.py'))).toBe(true)
    // The layout the main process and the CLI see from their own files.
    for (const code of ['app.asar/out/main/index.cjs', 'app.asar.unpacked/out/cli/index.js']) {
      expect(detectLayout(path.join(resources, code)), code).toEqual({
        kind: 'installed',
        resourcesPath: resources,
      })
    }
  })

  it('flips the Electron fuses docs/packaging.md documents', async () => {
    const wire = await getCurrentFuseWire(path.join(appDir, 'sdxl-studio'))
    const state = (o: FuseV1Options) => String.fromCharCode(wire[o] as number)
    expect({
      runAsNode: state(FuseV1Options.RunAsNode),
      cookieEncryption: state(FuseV1Options.EnableCookieEncryption),
      nodeOptions: state(FuseV1Options.EnableNodeOptionsEnvironmentVariable),
      inspect: state(FuseV1Options.EnableNodeCliInspectArguments),
      asarIntegrity: state(FuseV1Options.EnableEmbeddedAsarIntegrityValidation),
      onlyFromAsar: state(FuseV1Options.OnlyLoadAppFromAsar),
      browserSnapshot: state(FuseV1Options.LoadBrowserProcessSpecificV8Snapshot),
      fileProtocol: state(FuseV1Options.GrantFileProtocolExtraPrivileges),
    }).toEqual({
      runAsNode: '1',
      cookieEncryption: '1',
      nodeOptions: '1',
      inspect: '0',
      asarIntegrity: '0',
      onlyFromAsar: '1',
      browserSnapshot: '0',
      fileProtocol: '1',
    })
  })

  it('the installed CLI prints its version, and its bundle holds the presets', async () => {
    const version = await installedCli(['--version'])
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` })
    const presets = await installedCli(['preset', 'list', '--json'])
    expect(presets.code).toBe(0)
    const list = JSON.parse(presets.stdout) as Array<{ id: string; builtin: boolean }>
    expect(list.filter((p) => p.builtin).map((p) => p.id)).toContain('lora-8gb')
    expect(list.filter((p) => p.builtin).length).toBeGreaterThanOrEqual(14)
    // --json errors are JSON on stdout.
    const bad = await installedCli(['preset', 'list', '--json', '--no-such-option'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: { code: 'usage' } })
  })

  it('plans with the installed probe.py, which runs from there and reads a stand-in sd-scripts', async () => {
    const plan = await installedCli(['env', 'plan', '--name', 'packaged', '--torch', 'cpu', '--json'])
    const doc = JSON.parse(plan.stdout) as {
      ok: boolean
      error: unknown
      plan: { steps: Array<{ id: string; commands: Array<{ kind: string; argv?: string[] }> }> }
    }
    expect(doc.error).toBeNull()
    const argvOf = (id: string) => doc.plan.steps.find((s) => s.id === id)?.commands[0]?.argv ?? []
    expect(argvOf('verify')[1]).toBe(path.join(resources, 'env', 'probe.py'))
    expect(argvOf('tokenizers')[1]).toBe(path.join(resources, 'env', 'prefill_tokenizers.py'))

    const standin = createStandinRepo(path.join(scratch, 'standin'))
    const probe = await runCollecting('python3', [
      argvOf('verify')[1] as string,
      '--light',
      '--sd-scripts',
      standin,
    ])
    expect(probe.code, probe.stderr).toBe(0)
    const report = ProbeReport.parse(JSON.parse(probe.stdout))
    expect(report.light).toBe(true)
    expect(report.sd_scripts.exists).toBe(true)
  })

  it('runs a command in a terminal through the unpacked node-pty', async () => {
    const spec = path.join(scratch, 'run.json')
    writeFileSync(
      spec,
      JSON.stringify({
        command: [
          'python3',
          trainer,
          '--steps',
          '3',
          '--delay',
          '0',
          '--output_dir',
          path.join(scratch, 'run-out'),
        ],
        cwd: scratch,
        name: 'packaged run',
      }),
    )
    const run = await installedCli(['run', 'start', spec])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/finished\s+steps 3\/3/)
  })

  it('serves the unpacked renderer in headless mode (--serve)', async () => {
    const { spawn } = await import('node:child_process')
    const child = spawn(process.execPath, [cliBundle, 'serve', '--port', '0', '--json'], {
      cwd: scratch,
      env: { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')))
        })
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
      })
      const info = JSON.parse(line) as { port: number; token: string }
      const login = await rawRequest(info.port, `/?token=${info.token}`)
      const cookie = (login.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? ''
      const page = await rawRequest(info.port, '/', { Cookie: cookie })
      expect(page.status).toBe(200)
      expect(page.body).toBe(
        readFileSync(path.join(resources, 'app.asar.unpacked/out/renderer/index.html'), 'utf8'),
      )
      const ws = await openSocket(`ws://127.0.0.1:${info.port}/api`, {
        origin: `http://127.0.0.1:${info.port}`,
        headers: { Cookie: cookie },
      })
      if (!ws.opened) throw new Error(`WebSocket refused: ${ws.status}`)
      const q = messageQueue(ws.socket)
      ws.socket.send(JSON.stringify({ t: 'req', id: 1, method: 'app.info', input: {} }))
      expect(await q.next((m) => m.t === 'res' && m.id === 1)).toMatchObject({
        ok: true,
        result: { mode: 'headless', version: pkg.version, dataDir },
      })
      ws.socket.close()
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('with a broken native module: runs fail with a clear error, the rest still works', async () => {
    // What a user sees when pty.node was built for another glibc or an antivirus quarantined it.
    writeFileSync(
      path.join(resources, 'app.asar.unpacked/node_modules/node-pty/build/Release/pty.node'),
      'not a library',
    )
    const version = await installedCli(['--version'])
    expect(version.code).toBe(0)
    const spec = path.join(scratch, 'run.json')
    const run = await installedCli(['run', 'start', spec])
    expect(run.code).not.toBe(0)
    const combined = `${run.stdout}\n${run.stderr}`
    expect(combined).toContain('The terminal component (node-pty) could not be loaded')
    expect(combined).toContain('Reinstall SDXL Studio')
    const list = await installedCli(['run', 'list', '--json'])
    const runs = (
      JSON.parse(list.stdout) as { runs: Array<{ name: string; state: string; reason?: string | null }> }
    ).runs
    expect(runs.find((r) => r.state === 'failed')).toBeTruthy()
  })
})
