// The gauge against the trace of sd-scripts' own model code (resources/vram/trace-sd-scripts-0.10.1.json,
// written by `npm run vram:trace-grid` where torch and sd-scripts are installed): no torch needed here.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ActivationsFile, PRIORS } from '../../core/vram/activations'
import { BUILTIN_PRESETS } from '../../core/config/presets'
import { activationsFileFor, calibrate, calibrationErrors } from '../../core/vram/calibrate'
import { allocatedPeak } from '../../core/vram/model'
import { PUBLISHED_TABLE } from '../../core/vram/data'
import { calibratesOn, TRACE_DATA, tracePoints } from '../../core/vram/trace-data'

const root = path.resolve(import.meta.dirname, '../..')
const { points, stale } = tracePoints()
const committed = ActivationsFile.parse(
  JSON.parse(readFileSync(path.join(root, 'resources/vram/activations.json'), 'utf8')),
)
const calibration = points.filter(calibratesOn)
const errors = calibrationErrors(points, committed.coefficients)

/**
 * Traced configs where the gauge is still more than 3 % from the trace, each with what is known. An
 * entry that comes within 3 % fails the test below, so the list only shrinks.
 */
const KNOWN_GAPS: Record<string, string> = {}

describe('trace data', () => {
  it('covers every built-in preset, and no traced config has changed since it was traced', () => {
    expect(stale, `rerun npm run vram:trace-grid -- --stale for ${stale.join(', ')}`).toEqual([])
    const ids = new Set(points.map((p) => p.id))
    for (const p of BUILTIN_PRESETS) expect(ids.has(`preset:${p.id}`), p.id).toBe(true)
    expect(TRACE_DATA.sd_scripts).toBe('v0.10.1')
  })

  it('resources/vram/activations.json is what `npm run vram:calibrate` writes now (not stale)', () => {
    const expected = activationsFileFor(
      calibration,
      calibrate(calibration),
      'resources/vram/trace-sd-scripts-0.10.1.json',
    )
    expect(committed, 'run npm run vram:calibrate and commit resources/vram/activations.json').toEqual(
      ActivationsFile.parse(expected),
    )
  })

  it('traces every row of the published table, and holds them out of the calibration', () => {
    const held = points.filter((p) => !calibratesOn(p)).map((p) => p.id)
    expect(held.sort()).toEqual(PUBLISHED_TABLE.points.map((p) => `published:${p.row.id}`).sort())
    expect(committed.points).toBe(calibration.length)
    expect(calibration.some((p) => p.id.startsWith('published:'))).toBe(false)
  })

  it('no memory coefficient is negative; the ones no trace covers are the documented estimates', () => {
    for (const [id, v] of Object.entries(committed.coefficients)) expect(v, id).toBeGreaterThanOrEqual(0)
    for (const id of committed.from_prior) {
      expect(committed.coefficients[id], id).toBeCloseTo(PRIORS[id as keyof typeof PRIORS]!, 5)
    }
  })
})

describe("the gauge's allocated figure against the trace", () => {
  it('is within 3 % on every built-in preset', () => {
    for (const e of errors.filter((x) => x.id.startsWith('preset:'))) {
      expect(Math.abs(e.error_pct), `${e.id}: trace ${e.trace_gib}, gauge ${e.gauge_gib}`).toBeLessThan(3)
    }
  })

  it('is within 3 % on every traced config but the known gaps (the held-out table rows too), which are still gaps', () => {
    for (const e of errors) {
      const msg = `${e.id}: trace ${e.trace_gib.toFixed(3)} GiB (${e.trace_phase}), gauge ${e.gauge_gib.toFixed(3)} GiB (${e.gauge_phase})`
      if (KNOWN_GAPS[e.id]) expect(Math.abs(e.error_pct), `${msg}: no longer a gap`).toBeGreaterThanOrEqual(3)
      else expect(Math.abs(e.error_pct), msg).toBeLessThan(3)
    }
    const abs = errors.map((e) => Math.abs(e.error_pct)).sort((a, b) => a - b)
    expect(abs[Math.floor(abs.length / 2)]!).toBeLessThan(1)
  })

  it('does not under-predict LoRA with text-encoder training, nor high-rank LoRA without checkpointing', () => {
    const regime = errors.filter(
      (e) => /^grid:lora-te-|^preset:(lora|locon|loha|lokr)-(16|24)gb/.test(e.id) || /d256-nogc/.test(e.id),
    )
    expect(regime.length).toBeGreaterThanOrEqual(5)
    // The issue reported about 20 % low for these; the gauge now stays within 2 % below at worst.
    for (const e of regime) expect(e.error_pct, e.id).toBeGreaterThan(-2)
  })

  it('puts the peak in the same part of the step as the trace where it is clear-cut', () => {
    for (const p of points) {
      const phases = Object.values(p.trace.phases)
        .map((x) => x.gib)
        .sort((a, b) => b - a)
      // only where the runner-up is more than 5 % below the peak
      if (phases.length > 1 && phases[1]! > phases[0]! * 0.95) continue
      expect(allocatedPeak(p.scenario, committed.coefficients).phase.phase, p.id).toBe(p.trace.phase)
    }
  })
})
