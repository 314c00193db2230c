import { describe, expect, it } from 'vitest'
import { evaluateProbe, type ProbeReport } from '../../core/env/probe'

/** A probe report of a healthy environment, with torch as given. */
function report(torchVersion: string, cuda = true): ProbeReport {
  return {
    schema: 1,
    light: false,
    python: { version: '3.11.7', executable: '/e/venv/bin/python', prefix: '/e/venv', in_venv: true },
    packages: { torch: torchVersion },
    requirements: { file: '/e/sd-scripts/requirements.txt', checked: 1, missing: [], mismatched: [] },
    sd_scripts: { path: '/e/sd-scripts', exists: true, tag: 'v0.10.1', commit: 'abc' },
    library: { importable: true, error: null, path: '/e/sd-scripts/library/__init__.py' },
    torch: {
      imported: true,
      error: null,
      version: torchVersion,
      cuda_available: cuda,
      cuda_version: cuda ? '12.4' : null,
      devices: [],
    },
    training_scripts: [],
  }
}

const ctx = {
  expect: { torch: true, cuda: true, trainingScripts: true },
  pythonRange: { min: '3.10', max: '3.11' },
  tag: 'v0.10.1',
  extras: [],
  torchBuild: { torch: '2.6.0', index: 'cu124' },
}

describe('verify: the installed torch is the planned build', () => {
  it('accepts the planned version with its index label, or without a label (PyPI builds have none)', () => {
    expect(evaluateProbe(report('2.6.0+cu124'), ctx)).toEqual([])
    expect(evaluateProbe(report('2.6.0'), ctx)).toEqual([])
  })

  it('another version or another build is a torch problem that Repair fixes with the torch step', () => {
    for (const v of ['2.7.1+cu126', '2.6.0+cu118', '2.6.0+cpu']) {
      const problems = evaluateProbe(report(v, v !== '2.6.0+cpu'), ctx)
      expect(problems, v).toEqual([
        {
          check: 'torch',
          message: `torch ${v} is installed, but this environment uses torch 2.6.0 (cu124); another install replaced it. Repair reinstalls the planned build.`,
          code: 'probe_torch_replaced',
          params: { installed: v, torch: '2.6.0', index: 'cu124' },
          repair: ['torch'],
        },
      ])
    }
  })

  it('is not checked without a planned build (existing installs) or without torch expected', () => {
    expect(evaluateProbe(report('2.7.1+cu126'), { ...ctx, torchBuild: null })).toEqual([])
    expect(
      evaluateProbe(report('2.7.1+cu126'), {
        ...ctx,
        expect: { torch: false, cuda: false, trainingScripts: false },
      }),
    ).toEqual([])
  })
})
