import { expect } from 'vitest'
import type { RequestName, RequestOutput } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import type { Services } from '../../electron/services'
import type { TrainingWorld } from './training-helpers'

export { makeLoraWorld } from './lora-world'

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
