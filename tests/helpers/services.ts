import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import type { RequestName } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import { createServices, type Services } from '../../electron/services'
import type { ServiceOptions } from '../../electron/services/context'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** The stand-in trainer that prints sd-scripts' console format (tests/fixtures/trainer). */
export const trainerScript = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')

/**
 * Services made with `make` in a test are disposed after it (its runs stopped, its pty processes
 * gone), whether the test passed or not. Call at the top of a test file.
 */
export function servicesPerTest(): (options: ServiceOptions) => Services {
  const made: Services[] = []
  afterEach(async () => {
    for (const s of made.splice(0)) await s.dispose()
  })
  return (options) => {
    const services = createServices(options)
    made.push(services)
    return services
  }
}

/** A request through the router, as a transport makes it; a refusal is thrown as the ApiError it is. */
export async function callOrThrow(services: Services, method: RequestName, input: unknown): Promise<unknown> {
  const r = await services.router.call(method, input, { transport: 'test' })
  if (!r.ok) throw ApiError.from(r.error)
  return r.result
}
