import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { TensorboardServer } from '../../../core/api/domains/tensorboard'
import { ApiError } from '../../../core/api/errors'
import { killTree, startWatchdog } from '../runs/process-tree'

/** A free TCP port on 127.0.0.1 (the OS picks it; TensorBoard binds it right after). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))))
    })
  })
}

interface Running {
  info: TensorboardServer
  child: ChildProcess
  exited: Promise<void>
}

export interface StartOptions {
  id: string
  python: string
  logdir: string
  env: NodeJS.ProcessEnv
  /** Environment name, for messages. */
  envName: string
  readyTimeoutMs?: number
}

const tail = (text: string) => text.trim().split('\n').slice(-8).join('\n')

/**
 * TensorBoard servers, one per run, bound to 127.0.0.1 only. Each is its own process group with a
 * watchdog, so it goes with the app even when the app is killed; dispose() stops them on quit.
 */
export class TensorboardServers {
  private running = new Map<string, Running>()
  private starting = new Map<string, Promise<TensorboardServer>>()

  get(id: string): TensorboardServer | null {
    return this.running.get(id)?.info ?? null
  }

  open(options: StartOptions): Promise<TensorboardServer> {
    const live = this.running.get(options.id)
    if (live && live.info.logdir === options.logdir) return Promise.resolve(live.info)
    const pending = this.starting.get(options.id)
    if (pending) return pending
    const p = (async () => {
      if (live) await this.close(options.id)
      return this.start(options)
    })().finally(() => this.starting.delete(options.id))
    this.starting.set(options.id, p)
    return p
  }

  private async start(o: StartOptions): Promise<TensorboardServer> {
    const port = await freeLocalPort()
    const child = spawn(
      o.python,
      ['-m', 'tensorboard.main', '--logdir', o.logdir, '--host', '127.0.0.1', '--port', String(port)],
      {
        env: { ...o.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      },
    )
    let output = ''
    const keep = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-16_384)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null))
      child.once('error', (error) => resolve(error))
    })
    if (spawned || child.pid === undefined)
      throw new ApiError(
        'unavailable',
        `Could not start TensorBoard with ${o.python}: ${spawned?.message ?? 'no process'}. Check environment "${o.envName}" on the Environment page.`,
      )
    const pid = child.pid
    startWatchdog(process.pid, pid)
    let exitedEarly = false
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    void exited.then(() => {
      exitedEarly = true
      const r = this.running.get(o.id)
      if (r?.child === child) this.running.delete(o.id)
    })
    const url = `http://127.0.0.1:${port}/`
    const deadline = Date.now() + (o.readyTimeoutMs ?? 90_000)
    while (!exitedEarly) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
        if (res.ok) break
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await killTree(pid)
        throw new ApiError(
          'unavailable',
          `TensorBoard did not answer on ${url} within ${Math.round((o.readyTimeoutMs ?? 90_000) / 1000)} s and was stopped.${output ? `\n${tail(output)}` : ''}`,
        )
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    if (exitedEarly) {
      if (/No module named '?tensorboard/.test(output))
        throw new ApiError(
          'domain',
          `TensorBoard is not installed in environment "${o.envName}". Install it with: ${o.python} -m pip install tensorboard`,
          { kind: 'tensorboard_missing' },
        )
      throw new ApiError(
        'unavailable',
        `TensorBoard exited before it started serving.${output ? `\n${tail(output)}` : ''}`,
      )
    }
    const info: TensorboardServer = { id: o.id, url, port, logdir: o.logdir, pid }
    this.running.set(o.id, { info, child, exited })
    return info
  }

  async close(id: string): Promise<boolean> {
    const r = this.running.get(id)
    if (!r) return false
    this.running.delete(id)
    await killTree(r.info.pid)
    await Promise.race([r.exited, new Promise((res) => setTimeout(res, 3000))])
    return true
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.starting.values()].map((p) => p.catch(() => undefined)))
    await Promise.all([...this.running.keys()].map((id) => this.close(id)))
  }
}
