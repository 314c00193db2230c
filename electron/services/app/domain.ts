import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { SettingsStore } from '../store/settings'
import { cleanStaleTemps } from '../store/stale-temps'

export function createAppDomain(options: ServiceOptions) {
  const settings = new SettingsStore(options.dataDir)
  // At start: the temporary files of atomic writes that a killed process left (see stale-temps.ts).
  const startupCleanup = cleanStaleTemps(options.dataDir).catch(() => [] as string[])
  const requests = {
    'app.info': () => ({
      name: 'SDXL Studio',
      version: options.version,
      platform: process.platform,
      dataDir: options.dataDir,
      mode: options.mode,
    }),
    'settings.get': () => settings.get(),
    'settings.update': (patch) => settings.update(patch),
  } satisfies Partial<RequestHandlers>
  const subscriptions = {} satisfies Partial<SubscriptionHandlers>
  return {
    requests,
    subscriptions,
    settings,
    /** The stale temporary files removed at start. */
    startupCleanup,
    dispose: async () => {
      await startupCleanup
    },
  }
}
