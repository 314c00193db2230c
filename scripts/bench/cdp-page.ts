/**
 * Chromium driven through the DevTools protocol with the Runtime domain only.
 *
 * Why not Playwright here: Playwright turns on the Network domain for every page, so each WebSocket
 * frame the app receives is copied, escaped and sent to the driver as a DevTools event. For a stream
 * benchmark that doubles the work of the browser and the page (a user's browser has no DevTools
 * attached), so this leg talks to Chromium itself: launch, navigate, evaluate, read the heap.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { z } from 'zod'

const Target = z.object({ type: z.string(), webSocketDebuggerUrl: z.string().optional() })
const Reply = z.object({
  id: z.number(),
  result: z.unknown().optional(),
  error: z.object({ message: z.string() }).optional(),
})
const Event = z.object({ method: z.string(), params: z.unknown().optional() })
const Evaluated = z.object({
  result: z.object({ value: z.unknown().optional() }),
  exceptionDetails: z.object({ text: z.string() }).optional(),
})

export interface CdpPage {
  /** Evaluates an expression in the page (promises awaited) and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>
  /** Any DevTools protocol method (e.g. Profiler.start and Profiler.stop). */
  send(method: string, params?: object): Promise<unknown>
  /** DevTools protocol events of one method (e.g. Tracing.dataCollected); returns the unsubscribe. */
  on(method: string, listener: (params: unknown) => void): () => void
  /** JS heap in use, in bytes. */
  heapUsed(): Promise<number>
  /** Polls `expression` every `everyMs` until it is truthy. */
  waitFor(expression: string, timeoutMs?: number, everyMs?: number): Promise<void>
  close(): Promise<void>
}

export async function openPage(
  url: string,
  options: { executablePath: string; width?: number; height?: number },
): Promise<CdpPage> {
  const profile = mkdtempSync(path.join(tmpdir(), 'sdxl-bench-chromium-'))
  const args = [
    '--headless=new',
    '--remote-debugging-port=0',
    `--user-data-dir=${profile}`,
    `--window-size=${options.width ?? 1280},${options.height ?? 900}`,
    ...(process.env.BENCH_CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean),
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    // Root (CI containers) cannot use the sandbox; Playwright passes the same flag there.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    'about:blank',
  ]
  const browser: ChildProcess = spawn(options.executablePath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const cleanup = async () => {
    if (browser.exitCode === null && browser.signalCode === null) {
      const exited = new Promise((resolve) => browser.once('exit', resolve))
      browser.kill('SIGKILL')
      await exited
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 })
  }
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = ''
      const timer = setTimeout(() => reject(new Error(`Chromium did not start in 30 s:\n${err}`)), 30_000)
      browser.stderr?.setEncoding('utf8').on('data', (d: string) => {
        err += d
        const m = /DevTools listening on (ws:\/\/[^\s]+)/.exec(err)
        if (m) {
          clearTimeout(timer)
          resolve(m[1] as string)
        }
      })
      browser.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`Chromium exited (${code}) before it listened:\n${err}`))
      })
    })
    const base = new URL(endpoint)
    const targets = z.array(Target).parse(await (await fetch(`http://${base.host}/json/list`)).json())
    const pageUrl = targets.find((t) => t.type === 'page')?.webSocketDebuggerUrl
    if (!pageUrl) throw new Error('Chromium has no page target')
    const socket = new WebSocket(pageUrl, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 })
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    let nextId = 1
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
    const listeners = new Map<string, Set<(params: unknown) => void>>()
    socket.on('message', (raw: Buffer) => {
      const message: unknown = JSON.parse(raw.toString('utf8'))
      const parsed = Reply.safeParse(message)
      if (!parsed.success) {
        const event = Event.safeParse(message)
        if (event.success) for (const l of listeners.get(event.data.method) ?? []) l(event.data.params)
        return
      }
      const p = pending.get(parsed.data.id)
      pending.delete(parsed.data.id)
      if (parsed.data.error) p?.reject(new Error(parsed.data.error.message))
      else p?.resolve(parsed.data.result)
    })
    const send = (method: string, params: object = {}) =>
      new Promise<unknown>((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        socket.send(JSON.stringify({ id, method, params }))
      })
    const evaluate = async <T>(expression: string): Promise<T> => {
      const r = Evaluated.parse(
        await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }),
      )
      if (r.exceptionDetails)
        throw new Error(`In the page: ${r.exceptionDetails.text} (${expression.slice(0, 80)})`)
      return r.result.value as T
    }
    const waitFor = async (expression: string, timeoutMs = 30_000, everyMs = 100): Promise<void> => {
      const until = Date.now() + timeoutMs
      for (;;) {
        // Booleans only: a DOM node cannot be returned by value.
        if (await evaluate<boolean>(`!!(${expression})`).catch(() => false)) return
        if (Date.now() > until) throw new Error(`Timed out waiting for: ${expression}`)
        await new Promise((r) => setTimeout(r, everyMs))
      }
    }
    await send('Page.navigate', { url })
    await waitFor("document.readyState === 'complete' && location.href !== 'about:blank'")
    return {
      evaluate,
      waitFor,
      send,
      on(method, listener) {
        const set = listeners.get(method) ?? new Set()
        listeners.set(method, set.add(listener))
        return () => set.delete(listener)
      },
      async heapUsed() {
        const r = z.object({ usedSize: z.number() }).parse(await send('Runtime.getHeapUsage'))
        return r.usedSize
      },
      async close() {
        socket.close()
        await cleanup()
      },
    }
  } catch (error) {
    await cleanup()
    throw error
  }
}
