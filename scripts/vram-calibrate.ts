/**
 * Measures the gauge's activation coefficients on the traces of the presets and the grid
 * (resources/vram/trace-sd-scripts-0.10.1.json) and writes resources/vram/activations.json; prints the
 * gauge's allocated peak against the trace's for every traced config, the published table's rows (held
 * out of the calibration) included. Usage: npm run vram:calibrate [-- --check] [-- --table]
 * (--check: exit 1 if the file is stale, writing nothing; --table: also print the markdown table of docs/vram.md).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { activationsFileFor, calibrate, calibrationErrors } from '../core/vram/calibrate'
import { calibratesOn, tracePoints } from '../core/vram/trace-data'

const file = path.resolve('resources/vram/activations.json')
const { points, stale } = tracePoints()
for (const s of stale)
  process.stderr.write(`stale trace (its config changed; rerun vram:trace-grid --only ${s}): left out\n`)
const calibration = points.filter(calibratesOn)
const coef = calibrate(calibration)
const next = activationsFileFor(calibration, coef, 'resources/vram/trace-sd-scripts-0.10.1.json')
const text = `${JSON.stringify(next, null, 2)}\n`
const rows = calibrationErrors(points, coef)
for (const r of rows.sort((a, b) => Math.abs(b.error_pct) - Math.abs(a.error_pct))) {
  process.stdout.write(
    `${r.id.padEnd(40)} trace ${r.trace_gib.toFixed(3).padStart(7)} ${r.trace_phase.padEnd(10)} gauge ${r.gauge_gib.toFixed(3).padStart(7)} ${r.gauge_phase.padEnd(10)} ${(r.error_pct >= 0 ? '+' : '') + r.error_pct.toFixed(2)} %\n`,
  )
}
const held = rows.filter((r) => !calibratesOn(r)).map((r) => Math.abs(r.error_pct))
process.stdout.write(
  `\n${calibration.length} calibration configs; median |error| ${next.median_abs_error_pct} %, largest ${next.max_abs_error_pct} %\n` +
    (held.length
      ? `${held.length} held-out configs (the published table's): largest |error| ${Math.max(...held).toFixed(2)} %\n`
      : ''),
)
for (const [k, v] of Object.entries(next.coefficients)) process.stdout.write(`  ${k.padEnd(32)} ${v}\n`)
if (process.argv.includes('--table')) {
  // The trace-vs-gauge table of docs/vram.md, in the order of the points.
  process.stdout.write(
    '\n| config | trace GiB | phase | gauge GiB | phase | gauge − trace |\n|---|---|---|---|---|---|\n',
  )
  for (const r of calibrationErrors(points, coef)) {
    process.stdout.write(
      `| ${r.id} | ${r.trace_gib.toFixed(2)} | ${r.trace_phase} | ${r.gauge_gib.toFixed(2)} | ${r.gauge_phase} | ${(r.error_pct >= 0 ? '+' : '') + r.error_pct.toFixed(1)} % |\n`,
    )
  }
}
if (process.argv.includes('--check')) {
  const current = readFileSync(file, 'utf8')
  if (current !== text) {
    process.stderr.write('resources/vram/activations.json is stale: run npm run vram:calibrate\n')
    process.exit(1)
  }
} else writeFileSync(file, text)
