import { ApiError } from '../../../core/api/errors'
import type { RunRecord } from '../../../core/runs/record'
import { looksLikeConfig } from '../../../core/vram/from-config'

/** What `vram.record` needs, taken from a finished run: its config (→ scenario) and measured peak. */
export interface RunMeasurement {
  config: unknown
  measured_gib: number
  source: string
}

/**
 * Every real run becomes a measurement: a finished run started from a training config, with the peak
 * GPU memory the runs service read from nvidia-smi (per process, MiB). Refuses with the reason otherwise.
 */
export function measurementFromRecord(rec: RunRecord): RunMeasurement {
  if (rec.state !== 'finished') {
    throw new ApiError(
      'bad_request',
      `Run ${rec.id} is ${rec.state}, not finished: only a run that trained to the end is known to have reached its peak memory.`,
    )
  }
  const config = rec.input.config
  if (!looksLikeConfig(config)) {
    throw new ApiError(
      'bad_request',
      `Run ${rec.id} was not started from a training config (train.start, or run start <config.json>), so its settings are unknown. Record it by hand with --scenario <file> --measured-gib N --source <text>.`,
    )
  }
  const peak = rec.peak_gpu_memory_mib
  if (peak === null || !(peak > 0)) {
    throw new ApiError(
      'bad_request',
      `Run ${rec.id} has no measured peak GPU memory: nvidia-smi reported no memory for its processes (no NVIDIA GPU, or per-process memory unavailable, as on Windows WDDM). Record it by hand with --scenario <file> --measured-gib N --source <text>.`,
    )
  }
  const predicted =
    rec.predicted_peak_mib !== null
      ? `, predicted at start ${(rec.predicted_peak_mib / 1024).toFixed(2)} GiB`
      : ''
  return {
    config,
    measured_gib: Math.round((peak / 1024) * 1000) / 1000,
    source: `SDXL Studio run ${rec.id} "${rec.name}" (${rec.ended_at ?? rec.created_at}${predicted})`,
  }
}
