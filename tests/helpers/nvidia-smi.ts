import path from 'node:path'
import type { GpuInfo, GpuSnapshot } from '../../core/gpu/types'

/** The folder holding the stand-in nvidia-smi (tests/fixtures/bin): put it first on PATH to use it. */
export const STANDIN_BIN_DIR = path.resolve(import.meta.dirname, '../fixtures/bin')

/*
 * The recorded `two-gpus` machine (tests/fixtures/nvidia-smi/two-gpus.*, and the stand-in
 * nvidia-smi's default `two-gpus` scenario, tests/fixtures/bin/README.md) as it must be read back.
 */

export const RTX4090: GpuInfo = {
  index: 0,
  uuid: 'GPU-5d3e8c1a-7b42-4f0e-9a61-2c8d7e4b9f10',
  name: 'NVIDIA GeForce RTX 4090',
  memory_total_mib: 24564,
  memory_used_mib: 1234,
  memory_free_mib: 22905,
  utilization_percent: 3,
  temperature_c: 41,
}

export const RTX3060: GpuInfo = {
  index: 1,
  uuid: 'GPU-a91f04c2-3d6b-8e57-b0c4-71e2f5a8d364',
  name: 'NVIDIA GeForce RTX 3060',
  memory_total_mib: 12288,
  memory_used_mib: 9,
  memory_free_mib: 12042,
  utilization_percent: 0,
  temperature_c: 35,
}

/** `gpu list --json` / querySnapshot on the two-gpus machine. */
export const TWO_GPUS: GpuSnapshot = {
  driver_version: '550.54.14',
  cuda_version: '12.4',
  gpus: [RTX4090, RTX3060],
}
