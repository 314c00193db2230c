/**
 * Traces every calibration config (built-in presets, resources/vram/trace-grid.json, the published
 * table's rows) with sd-scripts' model code on the meta device, and writes the results to
 * resources/vram/trace-sd-scripts-0.10.1.json (each point as soon as it is done; same ids replaced).
 *
 * Usage: npm run vram:trace-grid -- --python <python with torch> --sd-scripts <folder>
 *          [--only id,id|prefix*] [--stale] [--kernel flash|efficient] [--out file]
 * --stale traces only points that are missing or whose job changed since they were traced.
 * A point takes 0.5 to 3 minutes of one CPU core; the whole set about 1 to 2 hours.
 */
import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { configForRef, TraceDataFile, traceReferences, type TracePoint } from '../core/vram/trace-data'
import { jobHash, traceJob } from '../core/vram/trace'
import { runTrace } from '../electron/services/vram/trace-runner'
import { writeJsonAtomic } from '../electron/services/store/atomic'

const { values } = parseArgs({
  options: {
    python: { type: 'string' },
    'sd-scripts': { type: 'string' },
    only: { type: 'string' },
    stale: { type: 'boolean', default: false },
    kernel: { type: 'string', default: 'flash' },
    out: { type: 'string', default: 'resources/vram/trace-sd-scripts-0.10.1.json' },
  },
})

function fail(msg: string): never {
  process.stderr.write(`${msg}\n`)
  process.exit(2)
}

if (!values.python || !values['sd-scripts'])
  fail(
    'Usage: npm run vram:trace-grid -- --python <python with torch> --sd-scripts <sd-scripts folder> [--only ids] [--stale]',
  )
const kernel = values.kernel === 'efficient' ? 'efficient' : 'flash'
const out = path.resolve(values.out)
const data = TraceDataFile.parse(JSON.parse(readFileSync(out, 'utf8')))
if (data.kernel !== kernel)
  fail(`${out} holds traces for the ${data.kernel} kernel; write ${kernel} traces elsewhere (--out).`)

const patterns = (values.only ?? '').split(',').filter(Boolean)
const matches = (id: string) =>
  patterns.length === 0 ||
  patterns.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : id === p || id.endsWith(`:${p}`)))

const refs = traceReferences().filter((r) => matches(r.id))
const jobs = refs
  .map((r) => ({ ...r, job: traceJob(configForRef(r.ref), { id: r.id }) }))
  .filter((r) => {
    if (!values.stale) return true
    const have = data.points.find((p) => p.id === r.id)
    return !have || have.job_hash !== jobHash(r.job)
  })
if (jobs.length === 0) {
  process.stdout.write('Nothing to trace.\n')
  process.exit(0)
}
process.stdout.write(`Tracing ${jobs.length} configs (kernel ${kernel}) into ${out}\n`)

let written = Promise.resolve()
let failed = 0
const started = Date.now()
await runTrace({
  python: values.python,
  sdScriptsDir: values['sd-scripts'],
  jobs: jobs.map((j) => j.job),
  kernel,
  timeoutMs: jobs.length * 10 * 60_000,
  onResult: (line) => {
    const item = jobs.find((j) => j.id === line.id)
    if (!line.ok || !item) {
      failed++
      process.stdout.write(`FAILED ${line.id ?? '?'}: ${line.ok ? 'unknown id' : line.error}\n`)
      if (!line.ok && line.traceback) process.stdout.write(`${line.traceback}\n`)
      return
    }
    const { id: _id, ok: _ok, ...trace } = line
    const point: TracePoint = { id: item.id, ref: item.ref, job_hash: jobHash(item.job), trace }
    const i = data.points.findIndex((p) => p.id === point.id)
    if (i >= 0) data.points[i] = point
    else data.points.push(point)
    data.points.sort((a, b) => a.id.localeCompare(b.id))
    written = written.then(() => writeJsonAtomic(out, data))
    process.stdout.write(
      `${item.id.padEnd(40)} ${line.allocated_peak_gib.toFixed(3).padStart(8)} GiB  ${line.phase.padEnd(11)} ${line.seconds.toFixed(0)} s\n`,
    )
  },
})
await written
process.stdout.write(
  `\nDone in ${((Date.now() - started) / 60_000).toFixed(1)} min: ${jobs.length - failed} traced, ${failed} failed.\n`,
)
process.exit(failed ? 1 : 0)
