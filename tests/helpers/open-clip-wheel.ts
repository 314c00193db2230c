import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { OPEN_CLIP_SPEC, findOpenClipWheel, pipDownloadWheelArgs } from '../../scripts/harness/tools'

/**
 * The open-clip-torch wheel (CLIP's BPE vocabulary) in `dir`, downloaded with `python`'s pip the first
 * time. null when pip could not get it (no network), so the test that needs it can skip and say why.
 */
export function openClipWheelOrNull(
  python: string,
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  mkdirSync(dir, { recursive: true })
  if (!findOpenClipWheel(dir)) spawnSync(python, pipDownloadWheelArgs(OPEN_CLIP_SPEC, dir), { env })
  return findOpenClipWheel(dir)
}
