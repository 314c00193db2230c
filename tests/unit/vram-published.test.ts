import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FITTED, FittedFile } from '../../core/vram/constants'
import { PUBLISHED_TABLE, shippedPoints } from '../../core/vram/data'
import { fitConstants, fittedFileFor } from '../../core/vram/fit'
import { allocatedPeak, predict } from '../../core/vram/model'
import { TRACE_DATA } from '../../core/vram/trace-data'
import { evaluateChecks } from '../../core/vram/checks'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Cells the table's own readings put out of reach together (docs/vram.md, "The published table: two
 * cells that contradict each other"): on the trace of their configs, LoRA d32 + checkpointing at batch 2
 * holds 1.4 GiB more than LoRA d32 + full_bf16 + checkpointing at batch 1 (one more image through the VAE
 * encoder, fp32 instead of bf16 LoRA weights), yet reads 4.0 GiB more. The residual fit leaves them at
 * about −11 % and +10 %; they must stay under 12 %.
 */
const OUTLIERS = new Set(['lora32-gc-bs2', 'lora32-bf16-gc-bs1'])

/** The trace's allocated peak of a row of the table (resources/vram/trace-sd-scripts-0.10.1.json). */
function traced(id: string): number {
  const p = TRACE_DATA.points.find((x) => x.id === `published:${id}`)
  if (!p) throw new Error(`published:${id} is not traced`)
  return p.trace.allocated_peak_gib
}

describe('published table (sd-scripts 0.8.3)', () => {
  const points = shippedPoints().filter((p) => p.source.startsWith('2ch-ai'))

  it('has all 20 cells of the table in vram.md', () => {
    expect(points).toHaveLength(20)
    expect(PUBLISHED_TABLE.points.map((p) => p.measured_gib).reduce((a, b) => a + b, 0)).toBeCloseTo(
      38.5 +
        44 +
        34.4 +
        40.5 +
        17.4 +
        47.7 +
        16.7 +
        9.4 +
        13.1 +
        9.1 +
        20.5 +
        41.7 +
        18.3 +
        10.3 +
        15 +
        9.9 +
        18.6 +
        30.4 +
        10.6 +
        7.2,
      6,
    )
  })

  it.each(points.map((p) => [p.id, p] as const))(
    '%s is predicted within 10 %% (or a known outlier)',
    (id, p) => {
      const predicted = predict(p.scenario).peak_gib
      const error = Math.abs(predicted - p.measured_gib) / p.measured_gib
      if (OUTLIERS.has(id)) {
        expect(error, `${id} is within 10 % now: take it off OUTLIERS`).toBeGreaterThanOrEqual(0.1)
        expect(error).toBeLessThan(0.12)
      } else expect(error).toBeLessThan(0.1)
    },
  )

  it('the outliers contradict each other: no CUDA context (≥ 0) and slack put both within 10 % of their traces', () => {
    const cells = [...OUTLIERS].map((id) => ({
      allocated: traced(id),
      measured: points.find((p) => p.id === id)!.measured_gib,
    }))
    // reading ≈ context + (1 + slack) × allocated, for any slack from 0 to 200 %
    const feasible: string[] = []
    for (let k = 1; k <= 3; k += 1e-4) {
      const lo = Math.max(0, ...cells.map((c) => 0.9 * c.measured - k * c.allocated))
      const hi = Math.min(...cells.map((c) => 1.1 * c.measured - k * c.allocated))
      if (lo <= hi) feasible.push(`slack ${((k - 1) * 100).toFixed(2)} %, context ${lo.toFixed(2)} GiB`)
    }
    expect(feasible).toEqual([])
    // while the other checkpointed LoRA/LoCon rows alone admit one, e.g. 1.0 GiB and 12 %
    for (const p of points.filter((x) => /gc/.test(x.id) && !/^db|^lora128-fp8/.test(x.id))) {
      if (OUTLIERS.has(p.id)) continue
      expect(Math.abs((1 + 1.12 * traced(p.id)) / p.measured_gib - 1), p.id).toBeLessThan(0.1)
    }
  })

  it('the VAE ran in half precision in the checkpointed rows: in fp32 their allocated peak exceeds the reading', () => {
    for (const id of ['lora32-gc-bs1', 'lora32-bf16-gc-bs1', 'lora128-bf16-gc-bs1', 'lora128-bf16-gc-bs4']) {
      const p = points.find((x) => x.id === id)!
      expect(allocatedPeak({ ...p.scenario, no_half_vae: false }).gib, id).toBeLessThan(p.measured_gib)
      expect(allocatedPeak({ ...p.scenario, no_half_vae: true }).gib, id).toBeGreaterThan(p.measured_gib)
    }
  })

  it('each assumption group gives its reasons', () => {
    for (const a of Object.values(PUBLISHED_TABLE.assumptions)) expect(a.why.length).toBeGreaterThan(0)
  })
})

describe('fitted constants', () => {
  it('resources/vram/constants.json is what `npm run vram:fit` writes now (not stale)', () => {
    const points = shippedPoints()
    const expected = fittedFileFor(points, fitConstants(points))
    const committed = FittedFile.parse(
      JSON.parse(readFileSync(path.join(root, 'resources/vram/constants.json'), 'utf8')),
    )
    expect(
      committed,
      'constants are stale: run `npm run vram:fit` and commit resources/vram/constants.json',
    ).toEqual(expected)
  })

  it('are physically plausible', () => {
    expect(FITTED.context_gib).toBeGreaterThan(0.2)
    expect(FITTED.context_gib).toBeLessThan(2)
    expect(FITTED.slack_fraction).toBeGreaterThanOrEqual(0)
    expect(FITTED.slack_fraction).toBeLessThan(0.15)
    expect(FITTED.band_pct).toBeGreaterThanOrEqual(3)
    expect(FITTED.band_pct).toBeLessThanOrEqual(15)
  })

  it('the fit is deterministic and reproduces the table within 10 % but the known outliers (12 %)', () => {
    const points = shippedPoints()
    const a = fitConstants(points)
    const b = fitConstants(points)
    expect(a.constants).toEqual(b.constants)
    expect(a.max_abs_error_pct).toBeLessThan(12)
    for (const e of a.errors) if (!OUTLIERS.has(e.id)) expect(Math.abs(e.error_pct), e.id).toBeLessThan(10)
  })
})

describe('generalisation: other published figures (not fitted)', () => {
  const results = evaluateChecks()
  it('has the checks', () => expect(results.length).toBeGreaterThanOrEqual(8))
  it.each(results.map((r) => [r.id, r] as const))('%s', (_id, r) => {
    if (r.error_pct !== null) expect(Math.abs(r.error_pct)).toBeLessThanOrEqual(25)
    else expect(r.predicted_gib).toBeLessThanOrEqual(r.expected_gib)
    expect(r.ok).toBe(true)
  })
  it('are not part of the fit', () => {
    const fitted = new Set(shippedPoints().map((p) => p.id))
    for (const r of results) expect(fitted.has(r.id)).toBe(false)
  })
})
