/**
 * npm run bench:stream — pushes trainer-like output through the whole pipeline:
 *   stand-in trainer (python, under node-pty) → UTF-8 decode → raw log → parser → events
 *   → run.output (flow-controlled) → WebSocket → a client that acknowledges like xterm would.
 * Two legs: (1) a Node WebSocket client in a separate process, so the CPU figure is the service side
 * only; (2) the real headless server and the Runs page's xterm terminal in Chromium (stream-chromium.ts).
 * Prints MB/s end to end, CPU seconds per 100 MB, peak memory, and (Chromium) long frames.
 *
 * Options (env): BENCH_MB (default 200), BENCH_FILLER (bytes of filler per step, default 50000),
 * BENCH_CLIENT=node|chromium|both (default both); Chromium leg: CHROMIUM_PATH, BENCH_CHROMIUM_FLAGS (extra
 * command-line flags, e.g. "--enable-gpu-rasterization" on a desktop), BENCH_PAGE_PROFILE=<file> (a CPU
 * profile of the page while streaming).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocketServer } from 'ws'
import { ClientMessage } from '../../core/api/protocol'
import { ProgressParser } from '../../core/runs/progress-parser'
import { createServices } from '../../electron/services'
import { RouterSession } from '../../electron/services/router'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')
const targetMb = Number(process.env.BENCH_MB ?? 200)
const filler = Number(process.env.BENCH_FILLER ?? 50_000)
const steps = Math.max(10, Math.round((targetMb * 1024 * 1024) / (filler + 200)))

// The client: acknowledges in 5,000-unit chunks after "writing" each message, as the terminal does.
const CLIENT = `
const WebSocket = require('ws');
const ws = new WebSocket(process.argv[1]);
let units = 0, pending = 0, peak = 0, first = 0;
const ackChunk = 5000;
ws.on('open', () => ws.send(JSON.stringify({ t: 'sub', id: 1, event: 'run.output', params: { id: process.argv[2] } })));
ws.on('message', (raw) => {
  const m = JSON.parse(raw.toString());
  if (m.t === 'evt' && m.id === 1) {
    if (!first) first = Date.now();
    const n = m.data.data.length; units += n; pending += n;
    if (pending >= ackChunk) { ws.send(JSON.stringify({ t: 'ack', id: 1, units: pending })); pending = 0; }
    peak = Math.max(peak, process.memoryUsage().rss);
  } else if (m.t === 'end' && m.id === 1) {
    process.stdout.write(JSON.stringify({ units, peakRss: peak, first, last: Date.now() }));
    ws.close(); process.exit(0);
  }
});
`

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-stream-'))
  const services = createServices({ dataDir: dir, mode: 'headless', env: process.env, version: 'bench' })
  const server = http.createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket) => {
    const session = new RouterSession(services.router, (m) => socket.send(JSON.stringify(m)), {
      transport: 'ws',
    })
    socket.on('message', (raw) => {
      const parsed = ClientMessage.safeParse(JSON.parse(raw.toString()))
      if (parsed.success) void session.receive(parsed.data)
    })
    socket.on('close', () => session.close())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port

  let peakRss = 0
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
  const runs = services.runs.service
  const cpu0 = process.cpuUsage()
  const t0 = Date.now()
  const rec = await runs.start({
    command: [
      'python3',
      trainer,
      '--steps',
      String(steps),
      '--epochs',
      '4',
      '--delay',
      '0',
      '--filler_bytes',
      String(filler),
      '--output_dir',
      path.join(dir, 'out'),
    ],
    cwd: dir,
  })
  while (runs.bytesRead(rec.id) === null && (await runs.get(rec.id)).state !== 'failed')
    await new Promise((r) => setTimeout(r, 5))
  const client = spawn(process.execPath, ['-e', CLIENT, `ws://127.0.0.1:${port}`, rec.id], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let clientOut = ''
  client.stdout.on('data', (d: Buffer) => (clientOut += d.toString()))
  const done = await runs.waitFor(rec.id)
  await new Promise<void>((r) => client.on('exit', () => r()))
  const t1 = Date.now()
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)

  const c = JSON.parse(clientOut || '{}') as { units?: number; peakRss?: number }
  // The raw log rotates at 64 MB, so the amount streamed is what the client received (ASCII: chars = bytes).
  const mb = (c.units ?? 0) / (1024 * 1024)
  const logFile = runs.store.file(rec.id, 'log')
  const logFiles = [`${logFile}.1`, logFile].filter((f) => existsSync(f))
  const onDisk = logFiles.reduce((n, f) => n + statSync(f).size, 0)
  const secs = (t1 - t0) / 1000
  const cpuS = (cpu.user + cpu.system) / 1e6
  console.log('Node WebSocket client (service only)')
  console.log(`run: ${done.state}, ${done.summary.last_step}/${done.summary.total_steps} steps`)
  console.log(
    `streamed to the client: ${mb.toFixed(1)} MB; raw log on disk (capped): ${(onDisk / 2 ** 20).toFixed(1)} MB`,
  )
  console.log(`end to end: ${(mb / secs).toFixed(1)} MB/s (${secs.toFixed(1)} s)`)
  console.log(
    `service process CPU: ${((cpuS * 100) / mb).toFixed(2)} s per 100 MB (${cpuS.toFixed(1)} s total)`,
  )
  console.log(
    `peak RSS: service ${(peakRss / 2 ** 20).toFixed(0)} MB, client ${((c.peakRss ?? 0) / 2 ** 20).toFixed(0)} MB`,
  )

  // The parser alone, on the same bytes, for comparison.
  const bytes = Buffer.concat(logFiles.map((f) => readFileSync(f)))
  const parsedMb = bytes.length / 2 ** 20
  const parser = new ProgressParser({ keepText: false })
  const p0 = process.hrtime.bigint()
  for (let i = 0; i < bytes.length; i += 64 * 1024) parser.feed(bytes.subarray(i, i + 64 * 1024))
  parser.end()
  const ps = Number(process.hrtime.bigint() - p0) / 1e9
  console.log(
    `parser alone: ${(parsedMb / ps).toFixed(0)} MB/s (on the ${parsedMb.toFixed(0)} MB kept on disk)`,
  )

  await services.dispose()
  wss.close()
  server.close()
  rmSync(dir, { recursive: true, force: true })
}

const client = process.env.BENCH_CLIENT ?? 'both'
if (client !== 'chromium') await main()
if (client !== 'node') {
  const { chromiumLeg } = await import('./stream-chromium')
  await chromiumLeg(targetMb, filler)
}
