import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'

export function createVramDomain(options: ServiceOptions) {
  void options
  const requests = {} satisfies Partial<RequestHandlers>
  const subscriptions = {} satisfies Partial<SubscriptionHandlers>
  return { requests, subscriptions, dispose: () => undefined }
}
