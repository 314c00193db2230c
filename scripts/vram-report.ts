/**
 * Accuracy report: for every shipped measurement, measured vs predicted peak and the error, with the
 * trace's allocated peak of the same config where it was traced (what the reading holds besides it is
 * the residual: context and slack), then the median and the largest error; then the generalisation
 * checks (other published figures, not fitted). Usage: npm run vram:report [-- --json]
 */
import { evaluateChecks } from '../core/vram/checks'
import { shippedPoints } from '../core/vram/data'
import { errorsFor } from '../core/vram/fit'
import { FITTED } from '../core/vram/constants'
import { predict } from '../core/vram/model'
import { TRACE_DATA } from '../core/vram/trace-data'

const points = shippedPoints()
const { errors, median_abs_error_pct, max_abs_error_pct } = errorsFor(points, FITTED)
const checks = evaluateChecks()

if (process.argv.includes('--json')) {
  process.stdout.write(
    `${JSON.stringify({ points: errors, median_abs_error_pct, max_abs_error_pct, checks }, null, 2)}\n`,
  )
} else {
  const traced = (id: string) =>
    TRACE_DATA.points.find((t) => t.id === `published:${id}`)?.trace.allocated_peak_gib.toFixed(2) ?? '-'
  const rows = errors.map((e, i) => {
    const p = points[i]!
    return [
      e.id,
      e.measured_gib.toFixed(1),
      e.predicted_gib.toFixed(2),
      `${e.error_pct >= 0 ? '+' : ''}${e.error_pct.toFixed(1)} %`,
      traced(e.id),
      predict(p.scenario).phase,
      p.source,
    ]
  })
  const header = ['point', 'measured GiB', 'predicted GiB', 'error', 'traced GiB', 'peak at', 'source']
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 || c >= 5 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  process.stdout.write(`${line(header)}\n`)
  for (const r of rows) process.stdout.write(`${line(r)}\n`)
  const worst = errors.reduce((a, b) => (Math.abs(b.error_pct) > Math.abs(a.error_pct) ? b : a), errors[0]!)
  process.stdout.write(
    `\n${points.length} points. Median |error| ${median_abs_error_pct.toFixed(2)} %, ` +
      `largest ${max_abs_error_pct.toFixed(2)} % (${worst.id}).\n`,
  )
  process.stdout.write('\nGeneralisation checks (other published figures, not fitted):\n')
  for (const c of checks) {
    const what =
      c.error_pct !== null
        ? `measured ${c.expected_gib} GB, predicted ${c.predicted_gib.toFixed(2)} GiB (${c.error_pct >= 0 ? '+' : ''}${c.error_pct.toFixed(1)} %)`
        : `fits in ${c.expected_gib} GB, predicted ${c.predicted_gib.toFixed(2)} GiB`
    process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.id.padEnd(32)} ${what}\n`)
  }
}
