import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evaluatePrechecks } from '../../core/env/prechecks'
import { findVersion } from '../../core/env/versions'
import {
  freeBytes,
  fsType,
  gatherPrecheckFacts,
  nearestExisting,
  writeError,
} from '../../electron/services/env/prechecks'
import { dirSize } from '../../electron/services/env/fsops'
import { tempDir } from './env-helpers'

let root: string
beforeAll(() => {
  root = tempDir('prechecks')
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false
  // Runs while the tests are collected, before beforeAll: its own scratch folder.
  const probe = tempDir('mount-probe')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' })
    execFileSync('umount', [probe])
    return true
  } catch {
    return false
  } finally {
    execFileSync('rmdir', [probe])
  }
}

/**
 * Pre-check facts for installing into `envDir` from a git URL with uv (not yet there) and Python 3.11:
 * everything but the folder is settled, so the folder's own facts decide.
 */
function factsForFolder(envDir: string, neededBytes: number) {
  return gatherPrecheckFacts({
    envDir,
    neededBytes,
    gitAvailable: true,
    sourceIsUrl: true,
    pythonVersions: ['3.11.7'],
    uvAvailable: false,
    installer: 'uv',
    env: process.env,
  })
}

describe('pre-check facts from the real file system', () => {
  it('a new folder under a writable one: nearest parent, free space, writable, no leftovers', async () => {
    const target = path.join(root, 'not', 'yet', 'there')
    expect(await nearestExisting(target)).toBe(root)
    expect(await freeBytes(target)).toBeGreaterThan(0)
    expect(await writeError(target)).toBeNull()
    expect(await fs.readdir(root)).toEqual([])
    const facts = await factsForFolder(target, 1024)
    expect(evaluatePrechecks(facts, findVersion('v0.10.1')!)).toEqual({ ok: true, problems: [] })
  })

  it.skipIf(!canMount())(
    'reads the file system type from /proc/mounts (a mount point with a space) and its size',
    async () => {
      const mnt = path.join(root, 'mount point')
      await fs.mkdir(mnt)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt])
      try {
        expect(await fsType(path.join(mnt, 'envs', 'a'), process.env)).toBe('tmpfs')
        const free = (await freeBytes(path.join(mnt, 'envs')))!
        expect(free).toBeGreaterThan(3 * 1024 * 1024)
        expect(free).toBeLessThanOrEqual(4 * 1024 * 1024)
        const facts = await factsForFolder(path.join(mnt, 'envs', 'a'), 9 * 1024 ** 3)
        const report = evaluatePrechecks(facts, findVersion('v0.10.1')!)
        expect(report.ok).toBe(false)
        expect(report.problems.map((p) => p.id)).toEqual(['disk'])
        // Read-only: remount and the write check fails.
        execFileSync('mount', ['-o', 'remount,ro', mnt])
        expect(await writeError(path.join(mnt, 'envs'))).toMatch(/EROFS/)
      } finally {
        execFileSync('umount', [mnt])
      }
    },
  )

  it('dirSize adds up every file of a deep tree (the step sizes on the Environment page)', async () => {
    const tree = path.join(root, 'tree')
    let expected = 0
    for (let d = 0; d < 20; d++) {
      const dir = path.join(tree, `d${d}`, 'sub')
      await fs.mkdir(dir, { recursive: true })
      for (let f = 0; f < 30; f++) {
        const size = 100 + d * 30 + f
        await fs.writeFile(path.join(dir, `f${f}`), Buffer.alloc(size))
        expected += size
      }
    }
    expect(await dirSize(tree)).toBe(expected)
    expect(await dirSize(path.join(root, 'absent'))).toBe(0)
  })
})
