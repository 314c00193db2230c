import { cpSync } from 'node:fs'
import path from 'node:path'
import { makeWorld, repoRoot, type TrainingWorld } from './training-helpers'

/** The stand-in sd-scripts LoRA scripts (tests/fixtures/lora-scripts). */
export const standinNetworks = path.join(repoRoot, 'tests/fixtures/lora-scripts/networks')

/**
 * The training world (an existing-install sd-scripts stand-in with a real venv, an SDXL-shaped model)
 * with the stand-in LoRA scripts in its networks/ folder. Plain Node, so the browser tests use it too.
 */
export function makeLoraWorld(prefix = 'lora-'): TrainingWorld {
  const w = makeWorld(prefix)
  cpSync(standinNetworks, path.join(w.sdScripts, 'networks'), { recursive: true })
  return w
}
