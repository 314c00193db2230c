import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { SettingsStore } from '../store/settings'

export function createAppDomain(options: ServiceOptions) {
  const settings = new SettingsStore(options.dataDir)
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
  return { requests, subscriptions, settings, dispose: () => undefined }
}
