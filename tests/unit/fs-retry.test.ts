import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  removeWithRetry,
  renameWithRetry,
  transientCodes,
  withFsRetry,
} from '../../electron/services/store/fs-retry'

/** An operation that fails with `code` the first `failures` times, then succeeds. */
function flaky(code: string, failures: number) {
  let calls = 0
  return {
    get calls() {
      return calls
    },
    op: async () => {
      calls++
      if (calls <= failures) throw Object.assign(new Error(`${code}: held by another process`), { code })
      return 'done'
    },
  }
}

function recordingSleep() {
  const waits: number[] = []
  return { waits, sleep: async (ms: number) => void waits.push(ms) }
}

describe('withFsRetry (antivirus, indexer and backup tools holding a file for a moment)', () => {
  it('retries EPERM, EBUSY and EACCES on Windows with a growing wait, then succeeds', async () => {
    for (const code of ['EPERM', 'EBUSY', 'EACCES']) {
      const f = flaky(code, 4)
      const { waits, sleep } = recordingSleep()
      await expect(withFsRetry(f.op, { platform: 'win32', sleep })).resolves.toBe('done')
      expect(f.calls).toBe(5)
      expect(waits).toEqual([50, 100, 200, 400])
    }
  })

  it('gives up after its tries with the original error, waits capped at a second', async () => {
    const f = flaky('EBUSY', 100)
    const { waits, sleep } = recordingSleep()
    await expect(withFsRetry(f.op, { platform: 'win32', sleep })).rejects.toThrow(/EBUSY: held/)
    expect(f.calls).toBe(9)
    expect(waits).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000])
  })

  it('does not retry other errors, nor EPERM/EACCES outside Windows (a real permission problem there)', async () => {
    for (const [code, platform] of [
      ['ENOENT', 'win32'],
      ['EXDEV', 'win32'],
      ['EPERM', 'linux'],
      ['EACCES', 'darwin'],
    ] as const) {
      const f = flaky(code, 1)
      const { waits, sleep } = recordingSleep()
      await expect(withFsRetry(f.op, { platform, sleep })).rejects.toThrow(code)
      expect(f.calls).toBe(1)
      expect(waits).toEqual([])
    }
    const busy = flaky('EBUSY', 2)
    await expect(withFsRetry(busy.op, { platform: 'linux', sleep: recordingSleep().sleep })).resolves.toBe(
      'done',
    )
    expect(transientCodes('win32')).toEqual(['EPERM', 'EBUSY', 'EACCES'])
  })

  it('hostile options still make at least one try and never wait a negative time', async () => {
    for (const [attempts, tries] of [
      [0, 1],
      [-1, 1],
      [1.5, 1],
      [Number.NaN, 9],
      [Number.POSITIVE_INFINITY, 9],
    ]) {
      const f = flaky('EPERM', 100)
      const { waits, sleep } = recordingSleep()
      await expect(
        withFsRetry(f.op, { attempts, platform: 'win32', sleep, firstDelayMs: -5 }),
      ).rejects.toThrow('EPERM')
      expect(f.calls).toBe(tries)
      expect(waits.every((w) => w >= 0)).toBe(true)
    }
  })

  it('rename and remove with retry do the real thing on disk', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fs-retry-'))
    const a = path.join(dir, 'a кот.json')
    writeFileSync(a, '{"x":1}')
    await renameWithRetry(a, path.join(dir, 'b.json'))
    expect(readFileSync(path.join(dir, 'b.json'), 'utf8')).toBe('{"x":1}')
    await removeWithRetry(path.join(dir, 'b.json'))
    await removeWithRetry(path.join(dir, 'missing.json')) // nothing to delete is fine
    await removeWithRetry(dir, { recursive: true })
    await expect(renameWithRetry(path.join(dir, 'x'), path.join(dir, 'y'))).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})
