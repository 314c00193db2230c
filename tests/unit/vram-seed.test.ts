import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { PUBLISHED_TABLE, seedRowToScenario } from '../../core/vram/data'
import { rowToScenario } from '../../core/vram/measurements'
import { predict } from '../../core/vram/model'
import { runSeed } from '../../core/vram/seed'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vram-seed-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const row = {
  id: 'a',
  type: 'lora',
  network_dim: 32,
  conv_dim: 0,
  batch_size: 1,
  gradient_checkpointing: true,
  full_bf16: false,
  fp8_base: false,
} as const

describe('seed rows', () => {
  it('map with the published-table assumptions', () => {
    const s = seedRowToScenario(row)
    expect(s).toEqual(rowToScenario(row, PUBLISHED_TABLE.assumptions))
    expect(s.resolution).toEqual({ width: 1024, height: 1024 })
    expect(s.optimizer).toBe('AdamW8bit')
    expect(s.gradient_checkpointing).toBe(true)
  })

  it('predict every published cell as the model does, rounded to 0.1 GiB', () => {
    const rows = PUBLISHED_TABLE.points.map((p) => p.row)
    const r = runSeed({ rows })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    r.output.rows.forEach((o, i) => {
      expect(o.id).toBe(rows[i]!.id)
      expect(o.predicted_gib).toBe(Math.round(predict(seedRowToScenario(rows[i]!)).peak_gib * 10) / 10)
    })
  })

  it('reject malformed input with a message naming the field', () => {
    const r = runSeed({ rows: [{ ...row, type: 'loha' }] })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error).toContain('rows.0.type')
    expect(runSeed([]).ok).toBe(false)
  })
})

describe('npm run -s vram:seed', () => {
  const run = (args: string[]) =>
    promisify(execFile)('npx', ['tsx', 'scripts/vram-seed.ts', ...args], { cwd: root }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    )

  it('prints only the JSON document on stdout', async () => {
    const file = path.join(tmp, 'rows.json')
    writeFileSync(
      file,
      JSON.stringify({ rows: [row, { ...row, id: 'b', type: 'dreambooth', network_dim: 0 }] }),
    )
    const r = await run([file])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { rows: { id: string; predicted_gib: number }[] }
    expect(out.rows.map((x) => x.id)).toEqual(['a', 'b'])
    expect(r.stdout.trim()).toBe(JSON.stringify(out))
    expect(out.rows[0]!.predicted_gib).toBeGreaterThan(5)
  })

  it('fails with a message on stderr and nothing on stdout for bad input', async () => {
    const file = path.join(tmp, 'bad.json')
    writeFileSync(file, '{"rows": [')
    const r = await run([file])
    expect(r.code).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('not valid JSON')
    const missing = await run([path.join(tmp, 'nope.json')])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('Cannot read')
  })
})
