/**
 * Traces one training step of a config with sd-scripts' own model code on PyTorch's meta device (CPU,
 * no GPU, no weights) and prints the allocated peak next to the gauge's.
 *
 * Usage: npm run -s vram:trace -- <config.json> --python <python with torch> --sd-scripts <folder>
 *          [--json] [--kernel flash|efficient] [--resolution WxH]
 * <config.json>: a training config (as the Train page saves it) or a preset file ({"config": …}).
 * --json prints {"allocated_peak_gib", "phase", "breakdown", "phases", "gauge": {…}, …}: breakdown in
 * the gauge's categories, comparable with prediction.allocated_gib of `vram predict --json`.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { compareTrace, loadTraceConfig } from '../core/vram/trace-compare'
import { formatTrace } from '../electron/cli/commands/vram'
import { traceJob } from '../core/vram/trace'
import { runTrace, TraceRunError } from '../electron/services/vram/trace-runner'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    python: { type: 'string' },
    'sd-scripts': { type: 'string' },
    json: { type: 'boolean', default: false },
    kernel: { type: 'string', default: 'flash' },
    resolution: { type: 'string' },
  },
})

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nUsage: npm run -s vram:trace -- <config.json> --python <python with torch> --sd-scripts <folder> [--json] [--kernel flash|efficient] [--resolution WxH]\n`,
  )
  process.exit(2)
}

const file = positionals[0]
if (!file) usage('Give the JSON file of a training config.')
if (!values.python) usage('--python is required: a Python with torch and sd-scripts requirements.')
if (!values['sd-scripts']) usage('--sd-scripts is required: the kohya-ss/sd-scripts folder (v0.10.1).')
if (values.kernel !== 'flash' && values.kernel !== 'efficient') usage('--kernel is flash or efficient.')
let resolution: { width: number; height: number } | undefined
if (values.resolution) {
  const m = /^(\d{2,5})x(\d{2,5})$/.exec(values.resolution)
  if (!m) usage(`--resolution is WIDTHxHEIGHT in pixels, e.g. 1024x1024; got "${values.resolution}".`)
  resolution = { width: Number(m[1]), height: Number(m[2]) }
}

let text: string
try {
  text = readFileSync(file, 'utf8')
} catch (error) {
  usage(`Cannot read ${file}: ${(error as Error).message}`)
}
const loaded = loadTraceConfig(text, file)
if (!loaded.ok) usage(loaded.error)
const job = traceJob(loaded.config, { id: file, ...(resolution ? { resolution } : {}) })

try {
  const [line] = await runTrace({
    python: values.python,
    sdScriptsDir: values['sd-scripts'],
    jobs: [job],
    kernel: values.kernel,
    onLog: values.json ? undefined : (l) => process.stderr.write(`${l}\n`),
  })
  if (!line || !line.ok) {
    process.stderr.write(`The trace failed: ${line && !line.ok ? line.error : 'no result'}\n`)
    if (line && !line.ok && line.traceback) process.stderr.write(`${line.traceback}\n`)
    process.exit(1)
  }
  const c = compareTrace(loaded.config, line, resolution)
  const { id: _id, ok: _ok, ...trace } = line
  const gauge = { allocated_gib: c.gauge.allocated_gib, peak_gib: c.gauge.peak_gib, phase: c.gauge.phase }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ...trace, gauge, difference_pct: c.difference_pct }, null, 2)}\n`,
    )
  } else {
    process.stdout.write(formatTrace({ trace, gauge, difference_pct: c.difference_pct }))
  }
} catch (error) {
  if (error instanceof TraceRunError) {
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }
  throw error
}
