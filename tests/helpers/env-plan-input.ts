import type { GpuFacts, PlanInput } from '../../core/env/plan'

/** An RTX 4090 as nvidia-smi reports it on a CUDA 12.4 driver (header CUDA, compute_cap, name). */
export const RTX_4090_CUDA_124: GpuFacts = {
  driverCuda: '12.4',
  driverVersion: '551.86',
  computeCaps: [8.9],
  names: ['NVIDIA GeForce RTX 4090'],
}

/** A plan's input on a Linux machine with Python 3.11, git and that GPU; `choices` merge into auto torch. */
export function planInput(
  overrides: Partial<Omit<PlanInput, 'choices'>> & { choices?: Partial<PlanInput['choices']> } = {},
): PlanInput {
  const { choices, ...rest } = overrides
  return {
    version: 'v0.10.1',
    os: 'linux',
    pythonCandidates: [{ path: '/usr/bin/python3.11', version: '3.11.9' }],
    uvOnPath: null,
    gitAvailable: true,
    gpu: RTX_4090_CUDA_124,
    resourcesDir: '/opt/app/resources',
    ...rest,
    choices: { torch: 'auto', envDir: '/home/u/.local/share/sdxl-studio/envs/default', ...choices },
  }
}
