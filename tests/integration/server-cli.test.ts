import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { exposureWarning } from '../../electron/cli/commands/serve'
import { openSocket, messageQueue, rawRequest } from './server-helpers'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const tsx = path.join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx')

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

function startServe(args: string[]) {
  const base = mkdtempSync(path.join(tmpdir(), 'sdxl-serve-cli-'))
  const www = path.join(base, 'www')
  mkdirSync(www)
  writeFileSync(path.join(www, 'index.html'), '<!doctype html><title>cli-index</title>')
  const child = spawn(tsx, ['electron/cli/main.ts', 'serve', ...args.map((a) => a.replace('$WWW', www))], {
    cwd: repoRoot,
    env: { ...process.env, SDXL_STUDIO_DATA_DIR: path.join(base, 'data') },
    stdio: ['ignore', 'pipe', 'pipe'],
    // tsx is a .cmd shim on Windows, which Node only starts through a shell.
    shell: process.platform === 'win32',
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const firstLine = new Promise<string>((resolve, reject) => {
    const onData = () => {
      const nl = stdout.indexOf('\n')
      if (nl >= 0) resolve(stdout.slice(0, nl))
    }
    child.stdout?.on('data', onData)
    void exited.then((code) => reject(new Error(`serve exited (${code}) before printing: ${stderr}`)))
  })
  // Tests that expect an early exit never await the line; don't let that become an unhandled rejection.
  firstLine.catch(() => undefined)
  return { child, exited, firstLine, output: () => ({ stdout, stderr }) }
}

describe('npm run cli -- serve', () => {
  it('prints one JSON line with the URL and token, serves, and exits 0 on SIGTERM', async () => {
    const s = startServe(['--json', '--port', '0', '--static-dir', '$WWW'])
    const info = JSON.parse(await s.firstLine) as { url: string; token: string; port: number }
    expect(info.port).toBeGreaterThan(0)
    expect(info.url).toBe(`http://127.0.0.1:${info.port}/?token=${info.token}`)

    const login = await rawRequest(info.port, '/')
    expect(login.status).toBe(401)
    const redirect = await rawRequest(info.port, `/?token=${info.token}`)
    expect(redirect.status).toBe(303)
    const cookie = (redirect.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? ''
    const page = await rawRequest(info.port, '/', { Cookie: cookie })
    expect(page.body).toContain('cli-index')

    const ws = await openSocket(`ws://127.0.0.1:${info.port}/api`, {
      origin: `http://127.0.0.1:${info.port}`,
      headers: { Cookie: cookie },
    })
    if (!ws.opened) throw new Error(`refused: ${ws.status}`)
    const q = messageQueue(ws.socket)
    ws.socket.send(JSON.stringify({ t: 'req', id: 1, method: 'app.info', input: {} }))
    expect(await q.next((m) => m.t === 'res' && m.id === 1)).toMatchObject({
      ok: true,
      result: { mode: 'headless' },
    })
    const socketClosed = new Promise<void>((resolve) => ws.socket.once('close', () => resolve()))

    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    await socketClosed
    // --json means exactly one JSON document on stdout.
    expect(s.output().stdout.trim().split('\n')).toHaveLength(1)
  })

  it('refuses a bad --port with a usage error', async () => {
    const s = startServe(['--json', '--port', 'eighty', '--static-dir', '$WWW'])
    expect(await s.exited).toBe(2)
    expect(s.output().stderr).toContain('--port must be a number')
  })

  it('says how to build the renderer when it is missing', async () => {
    const s = startServe(['--json', '--port', '0', '--static-dir', path.join(tmpdir(), 'sdxl-no-such-dir')])
    expect(await s.exited).toBe(1)
    expect(s.output().stderr).toContain('npm run build')
  })

  it('warns that --host other than loopback exposes the server, naming the SSH tunnel', () => {
    const text = exposureWarning('0.0.0.0', 7860)
    expect(text).toContain('WARNING')
    expect(text).toContain('firewall')
    expect(text).toContain('ssh -L 7860:127.0.0.1:7860')
  })
})
