import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BoundedLog } from '../../electron/services/runs/bounded-log'
import { runLogMaxBytes } from '../../electron/services/runs/domain'
import { renameSync } from 'node:fs'

const MB = 1024 * 1024

describe('the raw console log', () => {
  it('rotates at its cap; a rotation that fails (file held) is tried again later and loses nothing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bounded-log-'))
    const file = path.join(dir, 'console.log')
    let failures = 2
    const attempts: number[] = []
    const log = new BoundedLog(file, 2 * MB, (from, to) => {
      attempts.push(readFileSync(from).length)
      if (failures-- > 0) throw Object.assign(new Error('EPERM: held by a scanner'), { code: 'EPERM' })
      renameSync(from, to)
    })
    const chunk = Buffer.alloc(256 * 1024, 'a')
    for (let i = 0; i < 24; i++) log.append(chunk) // 6 MB
    log.close()
    // Tried at the cap, then a megabyte later each time, then it went through.
    expect(attempts).toEqual([2 * MB, 3 * MB, 4 * MB])
    const total = readFileSync(file).length + readFileSync(`${file}.1`).length
    expect(total).toBe(6 * MB) // every byte kept
    expect(readFileSync(`${file}.1`).length).toBe(4 * MB)
  })

  it('without failures, at most twice the cap is kept', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bounded-log-'))
    const file = path.join(dir, 'console.log')
    const log = new BoundedLog(file, MB)
    for (let i = 0; i < 40; i++) log.append(Buffer.alloc(128 * 1024, 'b'))
    log.close()
    expect(readFileSync(file).length).toBeLessThanOrEqual(MB)
    expect(existsSync(`${file}.1`)).toBe(true)
    expect(readFileSync(`${file}.1`).length).toBeLessThanOrEqual(MB)
  })

  it('SDXL_STUDIO_RUN_LOG_MAX_MB sets the cap; anything but a number of at least 1 keeps the default', () => {
    expect(runLogMaxBytes({ SDXL_STUDIO_RUN_LOG_MAX_MB: '1024' })).toBe(1024 * MB)
    expect(runLogMaxBytes({ SDXL_STUDIO_RUN_LOG_MAX_MB: '1.5' })).toBe(1.5 * MB)
    for (const bad of [undefined, '', '0', '-1', '1e-4', 'много', 'Infinity', ' '])
      expect(runLogMaxBytes({ SDXL_STUDIO_RUN_LOG_MAX_MB: bad })).toBeUndefined()
  })
})
