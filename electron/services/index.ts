import { createAppDomain } from './app/domain'
import { createConfigsDomain } from './configs/domain'
import { createDatasetDomain } from './dataset/domain'
import type { ServiceOptions } from './context'
import { createEnvDomain } from './env/domain'
import { createGpuDomain } from './gpu/domain'
import { createLoraDomain } from './lora/domain'
import { createRouter, type RequestHandlers, type Router, type SubscriptionHandlers } from './router'
import { createRunsDomain } from './runs/domain'
import { createTensorboardDomain } from './tensorboard/domain'
import { createTrainingDomain } from './training/domain'
import { createVramDomain } from './vram/domain'

export type { ServiceOptions } from './context'

export interface ServiceExtras {
  /**
   * Handlers that replace the domains' own, for what only the host can do: the desktop app passes
   * 'paths.pick' backed by a native dialog, since electron/services never imports 'electron'.
   */
  overrides?: Partial<RequestHandlers>
}

/**
 * Builds every domain and the one router over them. Both transports (IPC, WebSocket) and the CLI
 * call this; nothing here knows which transport is in use.
 */
export function createServices(options: ServiceOptions, extras: ServiceExtras = {}) {
  const app = createAppDomain(options)
  const gpu = createGpuDomain(options)
  const env = createEnvDomain(options)
  const configs = createConfigsDomain(options)
  const runs = createRunsDomain(options)
  const vram = createVramDomain(options)
  const training = createTrainingDomain(options, {
    env: env.manager,
    runs: () => runs.service,
    gpuIndexes: gpu.indexes,
  })
  const tensorboard = createTensorboardDomain(options, { env: env.manager, runs: () => runs.service })
  const lora = createLoraDomain(options, { env: env.manager })
  const dataset = createDatasetDomain(options, { env: env.manager })
  const domains = [app, gpu, env, configs, runs, vram, training, tensorboard, lora, dataset]

  const requests: RequestHandlers = {
    ...app.requests,
    ...gpu.requests,
    ...env.requests,
    ...configs.requests,
    ...runs.requests,
    ...vram.requests,
    ...training.requests,
    ...tensorboard.requests,
    ...lora.requests,
    ...dataset.requests,
    ...extras.overrides,
  }
  const subscriptions: SubscriptionHandlers = {
    ...app.subscriptions,
    ...gpu.subscriptions,
    ...env.subscriptions,
    ...configs.subscriptions,
    ...runs.subscriptions,
    ...vram.subscriptions,
    ...training.subscriptions,
    ...tensorboard.subscriptions,
    ...lora.subscriptions,
    ...dataset.subscriptions,
  }
  const router: Router = createRouter(requests, subscriptions)
  return {
    router,
    app,
    gpu,
    env,
    configs,
    runs,
    vram,
    training,
    tensorboard,
    lora,
    dataset,
    options,
    dispose: async () => {
      for (const d of domains.reverse()) await d.dispose()
    },
  }
}

export type Services = ReturnType<typeof createServices>
