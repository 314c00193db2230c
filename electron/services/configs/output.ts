import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

export interface OutputCheck {
  path: string
  writable: boolean
  freeBytes: number | null
  problem: string | null
}

/** Free space we ask for: an SDXL checkpoint is ~7 GB; a LoRA is small but latents caches are not. */
export function neededBytes(isDreambooth: boolean): number {
  return isDreambooth ? 14e9 : 2e9
}

/** The nearest existing folder at or above `p` (the output folder may not exist yet). */
async function existingAncestor(p: string): Promise<string | null> {
  let cur = path.resolve(p)
  for (;;) {
    try {
      if ((await fs.stat(cur)).isDirectory()) return cur
      return null
    } catch {
      const up = path.dirname(cur)
      if (up === cur) return null
      cur = up
    }
  }
}

export async function checkOutputFolder(dir: string, need: number): Promise<OutputCheck> {
  const at = await existingAncestor(dir)
  if (!at)
    return {
      path: dir,
      writable: false,
      freeBytes: null,
      problem: `Output folder cannot be created: ${dir}. Choose another folder.`,
    }
  const probe = path.join(at, `.sdxl-studio-write-test-${randomBytes(4).toString('hex')}`)
  let writable = true
  try {
    await fs.writeFile(probe, '')
  } catch {
    writable = false
  } finally {
    await fs.rm(probe, { force: true })
  }
  let freeBytes: number | null = null
  try {
    const s = await fs.statfs(at)
    freeBytes = Number(s.bavail) * Number(s.bsize)
  } catch {
    freeBytes = null
  }
  let problem: string | null = null
  if (!writable) problem = `Output folder is not writable: ${dir}. Choose a folder you can write to.`
  else if (freeBytes !== null && freeBytes < need)
    problem = `Only ${(freeBytes / 1e9).toFixed(1)} GB free for the output folder ${dir}; about ${(need / 1e9).toFixed(0)} GB are needed. Free space or choose another drive.`
  return { path: dir, writable, freeBytes, problem }
}
