import { execFile } from 'node:child_process'
import {
  COMPUTE_APPS_FIELDS,
  GPU_QUERY_FIELDS,
  parseComputeApps,
  parseCudaVersion,
  parseGpuQuery,
} from '../../../core/gpu/nvidia-smi'
import type { GpuErrorKind, GpuProcess, GpuSnapshot } from '../../../core/gpu/types'

export class GpuError extends Error {
  constructor(
    readonly kind: GpuErrorKind,
    message: string,
  ) {
    super(message)
    this.name = 'GpuError'
  }
}

export interface NvidiaSmiOptions {
  env: NodeJS.ProcessEnv
  timeoutMs?: number
}

function run(args: string[], options: NvidiaSmiOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'nvidia-smi',
      args,
      { env: options.env, timeout: options.timeoutMs ?? 5000, windowsHide: true, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout)
        const err = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null }
        if (err.code === 'ENOENT') {
          return reject(
            new GpuError(
              'not_found',
              'No NVIDIA driver found: nvidia-smi is not on PATH. Install the NVIDIA driver, or plan for a target GPU size instead.',
            ),
          )
        }
        if (err.killed || err.signal) {
          return reject(
            new GpuError(
              'timeout',
              `nvidia-smi did not answer within ${options.timeoutMs ?? 5000} ms and was stopped.`,
            ),
          )
        }
        const detail = (stderr || stdout || err.message).trim().split(/\r?\n/)[0] ?? ''
        reject(new GpuError('failed', `nvidia-smi failed (exit code ${String(err.code)}): ${detail}`))
      },
    )
  })
}

export async function querySnapshot(options: NvidiaSmiOptions): Promise<GpuSnapshot> {
  const text = await run(
    [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
    options,
  )
  const { gpus, driverVersion } = parseGpuQuery(text)
  // The CUDA version is only in the plain table's header; a failure there should not hide the GPUs.
  const header = await run([], options).catch(() => '')
  return { driver_version: driverVersion, cuda_version: parseCudaVersion(header), gpus }
}

export async function queryProcesses(options: NvidiaSmiOptions): Promise<GpuProcess[]> {
  const text = await run(
    [`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
    options,
  )
  return parseComputeApps(text)
}
