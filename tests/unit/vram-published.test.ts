import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FITTED, FittedFile } from '../../core/vram/constants'
import { PUBLISHED_TABLE, shippedPoints } from '../../core/vram/data'
import { fitConstants, fittedFileFor } from '../../core/vram/fit'
import { predict } from '../../core/vram/model'
import { evaluateChecks } from '../../core/vram/checks'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Cells no model in which a sample costs the same memory can put within 10 % together: the LoRA d32 +
 * checkpointing row grows 3.7 GiB from batch 1 to 2, where the LoRA d128 + checkpointing row grows 1.6 GiB
 * per sample and the trace of sd-scripts' code 1.4 GiB (a VAE encode and checkpointed activations).
 * The residual fit leaves them at −11.4 % and +10.3 %; they must stay under 12 %.
 */
const OUTLIERS = new Set(['lora32-gc-bs2', 'lora32-bf16-gc-bs1'])

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
