import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCliCaptured } from '../helpers/cli'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const ownLogs = path.join(repoRoot, 'tests/fixtures/logs')

/** Each call gets a fresh data folder. */
const cli = (args: string[]) => runCliCaptured(args, mkdtempSync(path.join(os.tmpdir(), 'runs-cli-')))

describe('run parse-log', () => {
  for (const f of readdirSync(ownLogs).filter((n) => n.endsWith('.log'))) {
    it(`${f} --json prints one document with the expected summary`, async () => {
      const { code, stdout } = await cli(['run', 'parse-log', path.join(ownLogs, f), '--json'])
      expect(code).toBe(0)
      const doc = JSON.parse(stdout) as { summary: unknown; events: unknown[] }
      expect(Object.keys(doc)).toEqual(['summary', 'events'])
      expect(doc.summary).toEqual(
        JSON.parse(readFileSync(path.join(ownLogs, f.replace(/\.log$/, '.expected.json')), 'utf8')),
      )
      expect(Object.keys(doc.summary as object)).toEqual([
        'total_steps',
        'last_step',
        'epochs_total',
        'last_epoch',
        'last_avr_loss',
        'error',
        'saved_checkpoints',
      ])
    })
  }

  it('a missing file is an error that names the path', async () => {
    const { code, stdout, stderr } = await cli(['run', 'parse-log', '/nonexistent/x.log', '--json'])
    expect(code).toBe(1)
    // --json: the error is JSON on stdout too, for scripts that parse stdout.
    const doc = JSON.parse(stdout) as { ok: boolean; error: { message: string } }
    expect(doc.ok).toBe(false)
    expect(doc.error.message).toContain('/nonexistent/x.log')
    expect(stderr).toContain('/nonexistent/x.log')
  })
})
