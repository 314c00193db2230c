import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { msg, type MessageCode, type Params } from '../../../core/sdscripts/messages'

export interface OutputCheck {
  path: string
  writable: boolean
  freeBytes: number | null
  problem: string | null
  problem_code: MessageCode | null
  problem_params: Params | null
}

function problem(code: MessageCode, params: Params) {
  return { problem: msg(code, params).message, problem_code: code, problem_params: params }
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
    return { path: dir, writable: false, freeBytes: null, ...problem('output_cannot_create', { path: dir }) }
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
  const none = { problem: null, problem_code: null, problem_params: null }
  const found = !writable
    ? problem('output_not_writable', { path: dir })
    : freeBytes !== null && freeBytes < need
      ? problem('output_low_space', {
          free: Math.round(freeBytes / 1e8) / 10,
          path: dir,
          need: Math.round(need / 1e9),
        })
      : none
  return { path: dir, writable, freeBytes, ...found }
}
