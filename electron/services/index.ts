import { createAppDomain } from './app/domain'
import { createConfigsDomain } from './configs/domain'
import { createDatasetDomain } from './dataset/domain'
import type { ServiceOptions } from './context'
import { createDesktopDomain, type DesktopShell } from './desktop/domain'
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
  /**
   * The desktop app's shell (Electron's shell.openPath / showItemInFolder): "Open output folder" and
   * "Show in file manager" use it. Without it (headless, CLI) they say where the files are instead.
   */
  shell?: DesktopShell
}

/**
 * Builds every domain and the one router over them. Both transports (IPC, WebSocket) and the CLI
 * call this; nothing here knows which transport is in use.
 */
export function createServices(options: ServiceOptions, extras: ServiceExtras = {}) {
  const app = createAppDomain(options)
  const gpu = createGpuDomain(options)
  const env = createEnvDomain(options)
  const configs = createConfigsDomain(options, { activePackages: () => env.manager.activePackages() })
  const runs = createRunsDomain(options)
  const vram = createVramDomain(options, { env: env.manager })
  const training = createTrainingDomain(options, {
    env: env.manager,
    runs: () => runs.service,
    gpuIndexes: gpu.indexes,
  })
  const tensorboard = createTensorboardDomain(options, { env: env.manager, runs: () => runs.service })
  const lora = createLoraDomain(options, { env: env.manager })
  const dataset = createDatasetDomain(options, { env: env.manager })
  const desktop = createDesktopDomain(options, {
    runs: () => runs.service,
    env: env.manager,
    toolJobs: () => lora.jobs.list(),
    shell: extras.shell,
  })
  const domains = [app, gpu, env, configs, runs, vram, training, tensorboard, lora, dataset, desktop]

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
    ...desktop.requests,
    // With a desktop shell, the output folder opens through it (Electron's shell.openPath).
    ...(extras.shell ? { 'run.open_output': ({ id }: { id: string }) => desktop.openOutput(id) } : {}),
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
    ...desktop.subscriptions,
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
    desktop,
    options,
    dispose: async () => {
      for (const d of domains.reverse()) await d.dispose()
    },
  }
}

export type Services = ReturnType<typeof createServices>
