import { promises as fs } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServices } from '../../electron/services'
import { tempDir, testEnv } from './env-helpers'
import { STANDIN_BIN_DIR } from '../helpers/nvidia-smi'

/*
 * The plan from what nvidia-smi really prints: the stand-in nvidia-smi (tests/fixtures/bin) answers
 * with recorded outputs of each scenario, and the env service reads it exactly as on a user's machine.
 */
let root: string

beforeAll(() => {
  root = tempDir('plan-gpu')
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

async function planFor(scenario: string, torch: 'auto' | 'cpu' = 'auto') {
  const env = testEnv({
    PATH: `${STANDIN_BIN_DIR}:${path.dirname(process.execPath)}:${process.env.PATH}`,
    FAKE_NVIDIA_SMI_SCENARIO: scenario,
  })
  const services = createServices({ dataDir: path.join(root, scenario), mode: 'test', env, version: '0.0.0' })
  try {
    const r = await services.router.call('env.plan', { name: 'p', torch }, { transport: 'test' })
    if (!r.ok) throw new Error(r.error.message)
    return r.result
  } finally {
    await services.dispose()
  }
}

describe.skipIf(process.platform === 'win32')('env plan over recorded nvidia-smi outputs', () => {
  const table: Array<[string, string, string, RegExp]> = [
    ['two-gpus', '2.6.0', 'cu124', /RTX 4090/],
    ['rtx5090', '2.8.0', 'cu128', /RTX 5090/],
    ['cuda13', '2.8.0', 'cu128', /RTX 5090/],
  ]
  for (const [scenario, torch, index, why] of table) {
    it(`${scenario}: torch ${torch} ${index}`, async () => {
      const r = await planFor(scenario)
      expect(r.error).toBeNull()
      expect(r.facts.gpu).not.toBeNull()
      expect(r.plan!.torch).toMatchObject({ torch, index })
      expect(r.plan!.torch!.why).toMatch(why)
    }, 60_000)
  }

  it('old-driver (470, CUDA 11.4, no compute_cap): update the driver', async () => {
    const r = await planFor('old-driver')
    expect(r.facts.gpu?.computeCaps).toEqual([])
    expect(r.error?.kind).toBe('driver_too_old')
    expect(r.error?.message).toMatch(/CUDA 11\.4.*Update the NVIDIA driver/s)
  }, 60_000)

  for (const scenario of ['none', 'failing']) {
    it(`${scenario}: no GPU; CPU only when asked`, async () => {
      const r = await planFor(scenario)
      expect(r.error?.kind).toBe('no_gpu')
      expect(r.error?.message).toMatch(/--torch cpu/)
      const cpu = await planFor(scenario, 'cpu')
      expect(cpu.plan?.torch?.index).toBe('cpu')
    }, 60_000)
  }
})
