import { cpSync } from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'
import type { RequestName, RequestOutput } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import type { Services } from '../../electron/services'
import { makeWorld, repoRoot, type TrainingWorld } from './training-helpers'

/** The stand-in sd-scripts LoRA scripts (tests/fixtures/lora-scripts). */
export const standinNetworks = path.join(repoRoot, 'tests/fixtures/lora-scripts/networks')

/**
 * The training world (an existing-install sd-scripts stand-in with a real venv, an SDXL-shaped model)
 * with the stand-in LoRA scripts in its networks/ folder.
 */
export function makeLoraWorld(prefix = 'lora-'): TrainingWorld {
  const w = makeWorld(prefix)
  cpSync(standinNetworks, path.join(w.sdScripts, 'networks'), { recursive: true })
  return w
}

export function caller(services: () => Services) {
  return async function call<M extends RequestName>(method: M, input: unknown): Promise<RequestOutput<M>> {
    const r = await services().router.call(method, input, { transport: 'test' })
    if (!r.ok) throw ApiError.from(r.error)
    return r.result
  }
}

/** Registers the world's install as the active environment. */
export async function useWorld(services: Services, w: TrainingWorld): Promise<void> {
  const r = await services.router.call(
    'env.useExisting',
    { name: 'standin', folder: w.installDir },
    { transport: 'test' },
  )
  expect(r.ok, JSON.stringify(r)).toBe(true)
}
