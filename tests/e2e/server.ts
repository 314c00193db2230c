import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

/*
 * Starts the real headless server (`serve --port 0 --json`) as a child process, the way a user does,
 * for the browser tests and the startup benchmark.
 */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const fakeBinDir = path.join(repoRoot, 'tests/fixtures/bin')

const ServeLine = z.object({ url: z.string().url(), token: z.string().min(1), port: z.number().int() })
export type ServeInfo = z.infer<typeof ServeLine>

/** Builds what headless mode needs (out/renderer, out/cli) when missing or stale (scripts/ensure-build.mjs decides). */
export function ensureRendererBuilt(): void {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/ensure-build.mjs')], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (r.status !== 0)
    throw new Error(`Building the renderer failed (exit ${r.status}); see the output above.`)
}

/**
 * A folder holding only a `node` link, so a PATH made of it finds node and nothing else (no real
 * nvidia-smi, even where node lives in /usr/bin next to one).
 */
export function nodeOnlyBinDir(parent: string): string {
  const dir = path.join(parent, 'node-bin')
  mkdirSync(dir, { recursive: true })
  const link = path.join(dir, process.platform === 'win32' ? 'node.exe' : 'node')
  if (!existsSync(link)) symlinkSync(process.execPath, link)
  return dir
}

export interface StartOptions {
  /** 'fake': PATH finds the stand-in nvidia-smi (tests/fixtures/bin) first; 'none': PATH has only node. */
  nvidiaSmi?: 'fake' | 'none'
  env?: Record<string, string>
  timeoutMs?: number
}

export interface RunningServer extends ServeInfo {
  /** The origin without the token, e.g. http://127.0.0.1:43123 */
  origin: string
  dataDir: string
  child: ChildProcess
  /** Milliseconds from spawning the process to its JSON line. */
  startupMs: number
  stop(): Promise<void>
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'sdxl-e2e-'))
  const dataDir = path.join(scratch, 'data')
  mkdirSync(dataDir)
  const nodeDir = nodeOnlyBinDir(scratch)
  const pathDirs = (options.nvidiaSmi ?? 'fake') === 'fake' ? [fakeBinDir, nodeDir] : [nodeDir]
  const started = performance.now()
  // One process (node with tsx's loader), so stopping it stops the whole server.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'electron/cli/main.ts'), 'serve', '--port', '0', '--json'],
    {
      cwd: repoRoot,
      env: {
        HOME: process.env.HOME ?? scratch,
        TMPDIR: process.env.TMPDIR ?? tmpdir(),
        ...options.env,
        PATH: pathDirs.join(path.delimiter),
        SDXL_STUDIO_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))

  // A caller that dies without stop() (an uncaught error in a benchmark) must not leave the server running.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  const stop = async () => {
    process.off('exit', killOnExit)
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    rmSync(scratch, { recursive: true, force: true })
  }

  try {
    const info = await new Promise<ServeInfo>((resolve, reject) => {
      let stdout = ''
      const timer = setTimeout(
        () =>
          reject(new Error(`serve printed no JSON line in ${options.timeoutMs ?? 30_000} ms.\n${stderr}`)),
        options.timeoutMs ?? 30_000,
      )
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        stdout += d
        const newline = stdout.indexOf('\n')
        if (newline < 0) return
        clearTimeout(timer)
        try {
          resolve(ServeLine.parse(JSON.parse(stdout.slice(0, newline))))
        } catch (error) {
          reject(
            new Error(
              `serve printed an unexpected first line: ${stdout.slice(0, newline)} (${String(error)})`,
            ),
          )
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`serve exited (${code ?? signal}) before listening.\n${stderr}`))
      })
    })
    const startupMs = performance.now() - started
    return { ...info, origin: new URL(info.url).origin, dataDir, child, startupMs, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
