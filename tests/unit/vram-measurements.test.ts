import { describe, expect, it } from 'vitest'
import { measurementFromRun, MeasurementsFile, resolveRecorded } from '../../core/vram/measurements'
import { VramScenario } from '../../core/vram/scenario'

describe('measurementFromRun', () => {
  const scenario = VramScenario.parse({
    training_type: 'lora',
    network_dim: 16,
    gradient_checkpointing: true,
  })

  it('turns a run peak into a resources/vram point that the report and fit can read', () => {
    const p = measurementFromRun({
      id: 'run-7',
      scenario,
      measuredGib: 8.23456,
      source: 'RTX 4070, run 7',
      predictedGib: 8.1,
      gpu: 'NVIDIA GeForce RTX 4070',
      sdScriptsVersion: '0.9.1',
      recordedAt: '2026-11-27T00:00:00.000Z',
    })
    expect(p).toMatchObject({
      id: 'run-7',
      reading: 'process',
      measured_gib: 8.235,
      predicted_gib: 8.1,
      source: { title: 'RTX 4070, run 7', sd_scripts: '0.9.1' },
    })
    const file = MeasurementsFile.parse({ points: [p] })
    const [resolved] = resolveRecorded(file)
    expect(resolved!.scenario).toEqual(scenario)
    expect(resolved!.measured_gib).toBe(8.235)
  })

  it('refuses a peak that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => measurementFromRun({ id: 'x', scenario, measuredGib: bad, source: 's' })).toThrow(
        /positive/,
      )
    }
  })
})
