import { z } from 'zod'
import { event, request } from '../define'
import { GpuReading, GpuSnapshot } from '../../gpu/types'

export const requests = {
  'gpu.list': request(
    z.object({}).strict(),
    GpuSnapshot,
    'List NVIDIA GPUs with memory, use and temperature',
  ),
}

export const events = {
  'gpu.watch': event(
    z.object({}).strict(),
    GpuReading,
    'A GPU reading every second while subscribed (one nvidia-smi at a time)',
  ),
}
