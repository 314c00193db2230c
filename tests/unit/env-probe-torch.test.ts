import { describe, expect, it } from 'vitest'
import { evaluateProbe, type ProbeReport } from '../../core/env/probe'

/** A probe report of a healthy environment, with torch as given. */
function report(
  torchVersion: string,
  cuda = true,
  cudaVersion: string | null = cuda ? '12.4' : null,
): ProbeReport {
  return {
    schema: 1,
    light: false,
    python: { version: '3.11.7', executable: '/e/venv/bin/python', prefix: '/e/venv', in_venv: true },
    packages: { torch: torchVersion, torchvision: '0.21.0' },
    requirements: { file: '/e/sd-scripts/requirements.txt', checked: 1, missing: [], mismatched: [] },
    sd_scripts: { path: '/e/sd-scripts', exists: true, tag: 'v0.10.1', commit: 'abc' },
    library: { importable: true, error: null, path: '/e/sd-scripts/library/__init__.py' },
    torch: {
      imported: true,
      error: null,
      version: torchVersion,
      cuda_available: cuda,
      cuda_version: cudaVersion,
      torchvision_version: '0.21.0',
      torchvision_error: null,
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

describe('verify: unlabelled (PyPI) builds are told apart by the CUDA they were built for', () => {
  const pypi = { ...ctx, torchBuild: { torch: '2.6.0', index: 'cu124', cuda: '12.4' } }

  it("accepts PyPI's 2.6.0 built for CUDA 12.4, refuses one built for another CUDA or for the CPU", () => {
    expect(evaluateProbe(report('2.6.0', true, '12.4'), pypi)).toEqual([])
    const other = evaluateProbe(report('2.6.0', true, '12.6'), pypi)
    expect(other.map((p) => p.message)).toEqual([
      'torch 2.6.0 (CUDA 12.6) is installed, but this environment uses torch 2.6.0 (CUDA 12.4); another install replaced it. Repair reinstalls the planned build.',
    ])
    const cpu = evaluateProbe(report('2.6.0', false, null), pypi)
    expect(cpu[0]).toMatchObject({ check: 'torch', repair: ['torch'] })
    expect(cpu[0]!.message).toMatch(/2\.6\.0 \(CPU\) is installed/)
  })

  it('a CPU plan from a PyPI index on Linux expects the CUDA 12.4 build it serves, without CUDA at run time', () => {
    const cpuPlan = {
      ...pypi,
      expect: { torch: true, cuda: false, trainingScripts: true },
    }
    expect(evaluateProbe(report('2.6.0', false, '12.4'), cpuPlan)).toEqual([])
    // Older records have no cuda: the index decides (cu124 → 12.4, cpu → none).
    expect(
      evaluateProbe(report('2.6.0', false, null), {
        ...cpuPlan,
        torchBuild: { torch: '2.6.0', index: 'cpu' },
      }),
    ).toEqual([])
  })
})

describe('verify: torch and torchvision must both work, whoever installed them', () => {
  const none = {
    ...ctx,
    torchBuild: null,
    expect: {
      torch: true,
      cuda: false,
      trainingScripts: true,
      torchFix: 'Install them yourself: uv pip install …, then press Resume.',
    },
  }

  it('torch: none and no torch: names torch, says how to install it, and Repair has nothing to run', () => {
    const r = report('2.6.0')
    r.packages = { torch: null, torchvision: null }
    r.torch = {
      ...r.torch!,
      imported: false,
      error: "ModuleNotFoundError: No module named 'torch'",
      version: null,
    }
    expect(evaluateProbe(r, none)).toEqual([
      {
        check: 'torch',
        message: 'torch is not installed. Install them yourself: uv pip install …, then press Resume.',
        repair: [],
      },
    ])
  })

  it('torch without torchvision is a problem too (sd-scripts imports both)', () => {
    const r = report('2.6.0+cu124')
    r.packages = { torch: '2.6.0+cu124', torchvision: null }
    r.torch = {
      ...r.torch!,
      torchvision_version: null,
      torchvision_error: "ModuleNotFoundError: No module named 'torchvision'",
    }
    expect(evaluateProbe(r, none)).toEqual([
      {
        check: 'torch',
        message:
          'torchvision is not installed (sd-scripts needs it beside torch). Install them yourself: uv pip install …, then press Resume.',
        repair: [],
      },
    ])
    // A managed install repairs it with its torch step.
    expect(evaluateProbe(r, ctx)[0]).toMatchObject({ check: 'torch', repair: ['torch'] })
    expect(evaluateProbe(r, ctx)[0]!.message).toMatch(/torchvision is not installed.*Repair reinstalls it/)
  })

  it('reports of older probes (no torchvision fields) are not held against the environment', () => {
    const r = report('2.6.0+cu124')
    delete r.torch!.torchvision_version
    delete r.torch!.torchvision_error
    expect(evaluateProbe(r, ctx)).toEqual([])
  })
})
