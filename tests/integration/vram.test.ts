import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { MeasurementsFile } from '../../core/vram/measurements'
import { createServices } from '../../electron/services'
import { measurementsFile } from '../../electron/services/vram/domain'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const ctx = { transport: 'test' } as const

function services() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sdxl-vram-'))
  return { dataDir, s: createServices({ dataDir, mode: 'test', env: { PATH: '' }, version: '0.0.0-test' }) }
}

describe('vram service', () => {
  it('predicts a scenario with breakdown, advice, state and make-it-fit for a target', async () => {
    const { s } = services()
    const r = await s.router.call(
      'vram.predict',
      { scenario: { network_dim: 32, batch_size: 2 }, target_gib: 8 },
      ctx,
    )
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.result.prediction.peak_gib).toBeGreaterThan(8)
    expect(r.result.state).toBe('does_not_fit')
    expect(r.result.make_it_fit?.peak_gib).toBeLessThanOrEqual(8)
    expect(r.result.advice[0]!.id).toBe('gradient_checkpointing')
  })

  it('predicts a training config (configs schema field names)', async () => {
    const { s } = services()
    const config = {
      type: 'lora',
      network: { dim: 16, train_unet_only: true },
      memory: { gradient_checkpointing: true },
    }
    const r = await s.router.call('vram.predict', { config, os: 'windows' }, ctx)
    expect(r.ok).toBe(true)
    if (r.ok) {
      expect(r.result.scenario).toMatchObject({ network_dim: 16, train_text_encoder: false, os: 'windows' })
      expect(r.result.state).toBeNull()
    }
  })

  it('answers bad input with a typed error naming the field', async () => {
    const { s } = services()
    const bad = await s.router.call('vram.predict', { scenario: { batch_size: 0 } }, ctx)
    expect(bad.ok).toBe(false)
    if (!bad.ok) {
      expect(bad.error.code).toBe('bad_request')
      expect(bad.error.message).toContain('batch_size')
    }
    const both = await s.router.call('vram.predict', { scenario: {}, config: { type: 'lora' } }, ctx)
    expect(both.ok).toBe(false)
    const cfg = await s.router.call('vram.predict', { config: { type: 'lora', network: { dim: -3 } } }, ctx)
    expect(cfg.ok).toBe(false)
    if (!cfg.ok) expect(cfg.error.message).toContain('network.dim')
  })

  it('records measurements atomically into the data folder and reports them', async () => {
    const { s, dataDir } = services()
    const recs = await Promise.all(
      [9.5, 10.1, 10.4].map((m, i) =>
        s.router.call(
          'vram.record',
          { scenario: { gradient_checkpointing: true }, measured_gib: m, source: `rig ${i}` },
          ctx,
        ),
      ),
    )
    for (const r of recs) expect(r.ok).toBe(true)
    const file = MeasurementsFile.parse(JSON.parse(readFileSync(measurementsFile(dataDir), 'utf8')))
    expect(file.points.map((p) => p.measured_gib).sort()).toEqual([10.1, 10.4, 9.5])
    expect(file.points[0]!.predicted_gib).toBeGreaterThan(0)
    const report = await s.router.call('vram.report', {}, ctx)
    expect(report.ok).toBe(true)
    if (report.ok) expect(report.result.points.filter((p) => p.source.startsWith('rig'))).toHaveLength(3)
  })
})

// Each call starts tsx, which compiles the CLI afresh: slow on a busy machine.
describe('vram CLI', { timeout: 120_000 }, () => {
  const cli = (args: string[], dataDir: string) =>
    promisify(execFile)('npm', ['run', '-s', 'cli', '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    )

  it('vram predict --json prints one JSON document; errors go to stderr with a non-zero exit', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-vram-cli-'))
    const file = path.join(dir, 'scenario.json')
    writeFileSync(file, JSON.stringify({ training_type: 'lora', network_dim: 32 }))
    const ok = await cli(['vram', 'predict', file, '--json', '--target-gb', '12'], dir)
    expect(ok.code).toBe(0)
    const out = JSON.parse(ok.stdout) as { prediction: { peak_gib: number }; total_gib: number }
    expect(out.total_gib).toBe(12)
    expect(out.prediction.peak_gib).toBeGreaterThan(5)
    const text = await cli(['vram', 'predict', file, '--target-gb', '8'], dir)
    expect(text.stdout).toContain('Predicted peak')
    expect(text.stdout).toContain('Make it fit')
    const bad = await cli(['vram', 'predict', path.join(dir, 'missing.json')], dir)
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toBe('')
    expect(bad.stderr).toContain('Cannot read')
    const rec = await cli(
      ['vram', 'record', '--scenario', file, '--measured-gib', '18.2', '--source', 'test'],
      dir,
    )
    expect(rec.code).toBe(0)
    expect(rec.stdout).toContain('Recorded')
  }, 180_000)
})
