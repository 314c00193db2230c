// Runs integration test files alone, each in a new empty TMPDIR, so a test that relies on a folder an
// earlier run left behind (a cache, a shared venv) fails here instead of on a user's or CI's first run.
// Usage: node scripts/test-fresh-tmpdir.mjs [test files...] (default: the files that build the shared caches)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const files = process.argv.slice(2)
const defaults = ['tests/integration/env-probe.test.ts']
let failed = 0
for (const file of files.length > 0 ? files : defaults) {
  const fresh = mkdtempSync(path.join(tmpdir(), 'sdxl-fresh-tmpdir-'))
  console.log(`fresh TMPDIR ${fresh}: ${file}`)
  const result = spawnSync('npx', ['vitest', 'run', file], {
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: fresh, TMP: fresh, TEMP: fresh },
  })
  rmSync(fresh, { recursive: true, force: true })
  if (result.status !== 0) {
    failed += 1
    console.error(`FAILED in a fresh TMPDIR: ${file}`)
  }
}
process.exit(failed === 0 ? 0 : 1)
