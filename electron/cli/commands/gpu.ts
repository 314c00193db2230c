import { CliUsageError, command, jsonOption, printJson } from '../command'
import type { GpuComputeCapability, GpuSnapshot } from '../../../core/gpu/types'
import { parseGpuIds } from '../../../core/gpu/selection'
import { msg } from '../../../core/sdscripts/messages'

/**
 * `--gpus 0,1` of `run start` and `train preview`: the indexes `gpu list` prints, read by the same rules
 * as the config's launch.gpu_ids and the Train page's GPU picker.
 */
export function gpusOption(value: unknown): number[] | undefined {
  if (value === undefined) return undefined
  const parsed = parseGpuIds(String(value))
  if (!parsed.ok)
    throw new CliUsageError(`--gpus: ${msg(parsed.problem.code, parsed.problem.params).message}`)
  if (parsed.ids.length === 0)
    throw new CliUsageError('--gpus needs GPU indexes (see "gpu list"), e.g. --gpus 0 or --gpus 0,1.')
  return parsed.ids
}

function mib(value: number | null): string {
  return value === null ? 'n/a' : `${(value / 1024).toFixed(1)} GiB`
}

export function formatSnapshot(s: GpuSnapshot): string {
  const lines = [`Driver ${s.driver_version ?? 'unknown'}, CUDA ${s.cuda_version ?? 'unknown'}`]
  if (s.gpus.length === 0) lines.push('No NVIDIA GPU found.')
  for (const g of s.gpus) {
    lines.push(
      `GPU ${g.index}: ${g.name ?? 'unknown'} | ${mib(g.memory_used_mib)} / ${mib(g.memory_total_mib)} used | ` +
        `${g.utilization_percent ?? 'n/a'}% busy | ${g.temperature_c ?? 'n/a'} °C`,
    )
  }
  return `${lines.join('\n')}\n`
}

export const gpuCommands = [
  command({
    path: ['gpu', 'list'],
    summary: 'List NVIDIA GPUs (memory, use, temperature)',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const snapshot = await ctx.call('gpu.list', {})
      if (values.json) printJson(ctx.io, snapshot)
      else ctx.io.stdout(formatSnapshot(snapshot))
      return 0
    },
  }),
  command({
    path: ['gpu', 'watch'],
    summary: 'Print a GPU reading every second until Ctrl-C (--json: one JSON document per line)',
    options: { ...jsonOption, count: { type: 'string' } },
    async run({ values }, ctx) {
      const limit = values.count === undefined ? Infinity : Number(values.count)
      if (values.count !== undefined && !(Number.isInteger(limit) && limit > 0)) {
        throw new CliUsageError(`--count must be a whole number above 0 (got "${String(values.count)}").`)
      }
      const monitor = ctx.services().gpu.monitor
      let seen = 0
      let failed = false
      await new Promise<void>((resolve) => {
        const stop = monitor.subscribe((reading) => {
          seen++
          if (values.json) ctx.io.stdout(`${JSON.stringify(reading)}\n`)
          else if (reading.ok) ctx.io.stdout(formatSnapshot(reading.snapshot))
          else ctx.io.stderr(`${reading.error.message}\n`)
          failed = !reading.ok
          if (seen >= limit) {
            stop()
            resolve()
          }
        })
        void ctx.io.interrupted.then(() => {
          stop()
          resolve()
        })
      })
      return failed ? 1 : 0
    },
  }),
  command({
    path: ['gpu', 'caps'],
    summary: "Show the driver, its CUDA version and each GPU's compute capability (for the installer)",
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const smi = ctx.services().gpu.smi
      const gpus: GpuComputeCapability[] = await smi.computeCapabilities()
      const info =
        gpus.length === 0
          ? { driver_version: null, cuda_version: null }
          : await smi.table().then(
              (t) => ({ driver_version: t.driver_version, cuda_version: t.cuda_version }),
              () => ({ driver_version: null, cuda_version: null }),
            )
      const result = { ...info, gpus }
      if (values.json) printJson(ctx.io, result)
      else {
        const lines = [`Driver ${info.driver_version ?? 'unknown'}, CUDA ${info.cuda_version ?? 'unknown'}`]
        if (gpus.length === 0) lines.push('No NVIDIA GPU found.')
        for (const g of gpus) {
          lines.push(
            `GPU ${g.index}: ${g.name ?? 'unknown'} | compute capability ${g.compute_cap ?? 'unknown'}`,
          )
        }
        ctx.io.stdout(`${lines.join('\n')}\n`)
      }
      return 0
    },
  }),
]
