import { SUPPORTED_VERSIONS } from '../../../core/env/versions'
import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { EnvManager } from './manager'

export function createEnvDomain(options: ServiceOptions) {
  const manager = new EnvManager(options)
  // Files an older version wrote world-readable become user-only (they may hold mirror passwords).
  void manager.restrictPrivateFiles().catch(() => undefined)
  let consumers = 0
  const requests = {
    'env.versions': () => [...SUPPORTED_VERSIONS],
    'env.list': () => manager.list(),
    'env.plan': (input) => manager.plan(input),
    'env.install': async (input) => {
      const run = await manager.install(input)
      await run.started
      const rec = await manager.get(input.name)
      return { name: input.name, envDir: rec.envDir }
    },
    'env.resume': async (input) => {
      const name = await manager.resolveName(input.name)
      const run = await manager.resume(name, input.mirrors)
      await run.started
      return { name, envDir: (await manager.get(name)).envDir }
    },
    'env.stop': () => {
      const running = manager.list().then((l) => l.environments.some((e) => e.running))
      manager.stop()
      return running.then((stopped) => ({ stopped }))
    },
    'env.status': async (input) => manager.progress(await manager.resolveName(input.name)),
    'env.verify': async (input) => manager.verify(await manager.resolveName(input.name), input.light),
    'env.repair': async (input) => {
      const r = await manager.repair(await manager.resolveName(input.name))
      if (r.run) await r.run.started
      return { problems: r.problems, started: r.run !== null }
    },
    'env.update': async (input) => {
      const name = await manager.resolveName(input.name)
      const run = await manager.update(name, input.version)
      await run.started
      return { name, envDir: (await manager.get(name)).envDir }
    },
    'env.remove': (input) => manager.remove(input.name, input.confirm, input.confirmForeign ?? []),
    'env.activate': async (input) => {
      await manager.activate(input.name)
      return { active: input.name }
    },
    'env.useExisting': (input) => manager.useExisting(input.name, input.folder, input.venv ?? null),
    'env.settings.get': () => manager.publicSettings(),
    'env.settings.update': (input) => manager.updateSettings(input),
  } satisfies Partial<RequestHandlers>
  const subscriptions = {
    'env.log': (_params, sink) => {
      const id = ++consumers
      sink.onPressure((paused) => manager.setPressure(id, paused))
      const off = manager.onLog((chunk) => sink.emit(chunk, chunk.data.length))
      return () => {
        off()
        manager.setPressure(id, false)
      }
    },
    'env.progress': (_params, sink) => manager.onProgress((p) => sink.emit(p)),
  } satisfies Partial<SubscriptionHandlers>
  return { requests, subscriptions, manager, dispose: () => manager.dispose() }
}
