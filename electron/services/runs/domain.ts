import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { queryProcesses, querySnapshot } from '../gpu/nvidia-smi'
import { ENDED_STATES } from '../../../core/runs/record'
import { SettingsStore } from '../store/settings'
import { readRegularFile, openRegularFile } from '../store/regular-file'
import { lossSeries } from '../../../core/runs/summary'
import { RunService } from './run-service'

/** The last `max` bytes of a file as text (a run's or a tool job's console log); empty when it is missing. */
export async function readTail(file: string, max: number): Promise<{ text: string; truncated: boolean }> {
  let handle
  try {
    handle = await openRegularFile(file)
  } catch {
    return { text: '', truncated: false }
  }
  try {
    const { size } = await handle.stat()
    const start = Math.max(0, size - max)
    const buf = Buffer.alloc(size - start)
    await handle.read(buf, 0, buf.length, start)
    return { text: buf.toString('utf8'), truncated: start > 0 }
  } finally {
    await handle.close()
  }
}

/** The platform's file manager on a folder (explorer, open, xdg-open); fails with a message when it cannot. */
export async function openFolder(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  await mkdir(dir, { recursive: true })
  const [cmd, args] =
    process.platform === 'win32'
      ? ['explorer.exe', [dir]]
      : process.platform === 'darwin'
        ? ['open', [dir]]
        : ['xdg-open', [dir]]
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { env, detached: true, stdio: 'ignore', windowsHide: false })
    child.once('error', (error) =>
      reject(
        new ApiError('unavailable', `Could not open ${dir} with ${cmd}: ${error.message}. Open it by hand.`),
      ),
    )
    child.once('spawn', () => {
      child.unref()
      resolve()
    })
  })
}

/**
 * SDXL_STUDIO_RUN_LOG_MAX_MB: where a run's raw log is rotated (default 64 MB; a run keeps at most
 * twice that). The stream benchmark raises it so that the log holds every byte it streamed.
 */
export function runLogMaxBytes(env: NodeJS.ProcessEnv): number | undefined {
  const mb = Number(env.SDXL_STUDIO_RUN_LOG_MAX_MB)
  return Number.isFinite(mb) && mb >= 1 ? Math.round(mb * 1024 * 1024) : undefined
}

export function createRunsDomain(options: ServiceOptions) {
  let service: RunService | null = null
  const settings = new SettingsStore(options.dataDir)
  /**
   * nvidia-smi names a process's GPU by UUID; the app speaks of indexes. The map is read again only
   * when a UUID it does not know shows up (GPUs do not change while the app runs).
   */
  let indexOf = new Map<string, number>()
  async function processesWithIndex() {
    const list = await queryProcesses({ env: options.env })
    if (list.some((p) => p.gpu_uuid !== null && !indexOf.has(p.gpu_uuid))) {
      const snapshot = await querySnapshot({ env: options.env }).catch(() => null)
      if (snapshot)
        indexOf = new Map(
          snapshot.gpus.flatMap((g) => (g.uuid === null ? [] : [[g.uuid, g.index] as [string, number]])),
        )
    }
    return list.map((p) => ({
      ...p,
      gpu_index: p.gpu_uuid === null ? null : (indexOf.get(p.gpu_uuid) ?? null),
    }))
  }
  // Built on first use, so commands that never touch runs (gpu list, --help) do no recovery work.
  const runs = () =>
    (service ??= new RunService({
      dataDir: options.dataDir,
      env: options.env,
      gpuProcesses: () => processesWithIndex(),
      stopGraceMs: async () => (await settings.get()).stop_grace_s * 1000,
      logMaxBytes: runLogMaxBytes(options.env),
    }))

  const requests = {
    'run.start': (input) => runs().start(input),
    'run.list': async () => {
      const s = runs()
      const all = await s.listAll()
      return { runs: all.runs, unreadable: all.unreadable, queue: s.queueOrder(), held_by: s.heldBy }
    },
    'run.get': ({ id }) => runs().get(id),
    'run.history': async ({ id }) => {
      const s = runs()
      await s.get(id)
      const memory: Array<[number, number]> = []
      const memoryPerGpu: Record<string, Array<[number, number]>> = {}
      const events = []
      const all = [...s.store.readEvents(id)]
      for (const e of all) {
        if (e.type === 'gpu_memory') {
          memory.push([e.elapsed_s, e.used_mib])
          for (const [gpu, mib] of Object.entries(e.per_gpu ?? {}))
            (memoryPerGpu[gpu] ??= []).push([e.elapsed_s, mib])
        } else if (e.type !== 'progress') events.push(e)
      }
      return { loss: lossSeries(all), memory, memory_per_gpu: memoryPerGpu, events }
    },
    'run.log': async ({ id, tail_bytes }) => {
      const s = runs()
      await s.get(id)
      return readTail(s.store.file(id, 'log'), tail_bytes ?? 256 * 1024)
    },
    'run.stop': ({ id, mode, grace_s }) =>
      runs().stop(id, mode, grace_s === undefined ? {} : { graceMs: grace_s * 1000 }),
    'run.delete': async ({ id }) => {
      await runs().delete(id)
      return { deleted: true as const }
    },
    'run.rerun': ({ id }) => runs().rerun(id),
    'run.resume': ({ id, state }) => runs().resume(id, state),
    'run.sample': async ({ id, name }) => {
      const rec = await runs().get(id)
      // Only files the record lists: the name can never point elsewhere.
      if (!rec.output_dir || !rec.samples.includes(name))
        throw new ApiError('not_found', `Run ${id} has no sample image named ${name}.`)
      const ext = name.toLowerCase().split('.').pop()
      const mime = ext === 'png' ? 'image/png' : ext === 'webp' ? 'image/webp' : 'image/jpeg'
      // A regular file only: a FIFO named like an image would block the read.
      const data = await readRegularFile(path.join(rec.output_dir, 'sample', name))
      return { data_url: `data:${mime};base64,${data.toString('base64')}` }
    },
    'run.open_output': async ({ id }) => {
      const rec = await runs().get(id)
      if (!rec.output_dir)
        throw new ApiError('not_found', `Run ${id} has no output folder (no --output_dir).`)
      if (options.mode !== 'electron') {
        // Headless: the folder is on the machine running SDXL Studio, not the browser's.
        throw new ApiError(
          'unavailable',
          `Open this folder on the machine running SDXL Studio: ${rec.output_dir}`,
        )
      }
      await openFolder(rec.output_dir, options.env)
      return { opened: rec.output_dir }
    },
    'run.resize': async ({ id, cols, rows }) => {
      await runs().resize(id, cols, rows)
      return { ok: true as const }
    },
    'queue.reorder': async ({ ids }) => ({ queue: await runs().reorder(ids) }),
    'queue.pause': ({ id, paused }) => runs().setPaused(id, paused),
    'queue.edit': (change) => runs().edit(change),
    'queue.resume': async () => {
      runs().resumeQueue()
      return { queue: runs().queueOrder() }
    },
  } satisfies Partial<RequestHandlers>

  const subscriptions = {
    'run.output': async ({ id }, sink) => {
      const s = runs()
      const rec = await s.get(id)
      const owner = {}
      let sub: ReturnType<RunService['subscribeOutput']> = null
      const tailThenEnd = async () => {
        const { text } = await readTail(s.store.file(id, 'log'), 256 * 1024)
        if (text) sink.emit({ data: text }, text.length)
        sink.end()
      }
      const attach = () => {
        if (sub) return
        sub = s.subscribeOutput(id, (data) => sink.emit({ data }, data.length))
        if (sub?.replay) sink.emit({ data: sub.replay }, sub.replay.length)
      }
      sink.onPressure((paused) => sub?.proc.hold(owner, paused))
      attach()
      // Not live here and not about to be (ended, or run by another app process): the log's end.
      if (!sub && rec.state !== 'queued' && rec.state !== 'starting') {
        await tailThenEnd()
        return
      }
      // Live, or waiting for its turn: follow it until it ends.
      const off = s.onUpdate((u) => {
        if (u.run.id !== id) return
        if (u.run.state === 'running' || u.run.state === 'stopping') attach()
        else if (ENDED_STATES.includes(u.run.state)) {
          if (sub) sink.end()
          else void tailThenEnd()
        }
      })
      return () => {
        off()
        sub?.close()
        sub?.proc.hold(owner, false)
      }
    },
    'run.notify': (_params, sink) => runs().onNotice((n) => sink.emit(n)),
    'run.progress': ({ id }, sink) => {
      return runs().onUpdate((u) => {
        if (!id || u.run.id === id) sink.emit(u)
      })
    },
  } satisfies Partial<SubscriptionHandlers>

  return {
    requests,
    subscriptions,
    get service() {
      return runs()
    },
    dispose: async () => {
      if (service) await service.dispose()
    },
  }
}
