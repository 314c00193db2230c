import { z } from 'zod'
import { envText, type EnvCode, type EnvParams } from './messages'
import type { ProbeExpectations, StepId } from './plan'
import { cudaOfIndex } from './versions'

/** What resources/env/probe.py prints. */
export const ProbeReport = z.object({
  schema: z.literal(1),
  light: z.boolean(),
  python: z.object({ version: z.string(), executable: z.string(), prefix: z.string(), in_venv: z.boolean() }),
  packages: z.record(z.string(), z.string().nullable()),
  requirements: z.object({
    file: z.string().nullable(),
    checked: z.number(),
    missing: z.array(z.string()),
    mismatched: z.array(z.object({ name: z.string(), required: z.string(), installed: z.string() })),
  }),
  sd_scripts: z.object({
    path: z.string(),
    exists: z.boolean(),
    tag: z.string().nullable(),
    commit: z.string().nullable(),
  }),
  library: z.object({ importable: z.boolean(), error: z.string().nullable(), path: z.string().nullable() }),
  torch: z
    .object({
      imported: z.boolean(),
      error: z.string().nullable(),
      version: z.string().nullable(),
      cuda_available: z.boolean(),
      cuda_version: z.string().nullable(),
      /** torchvision imported beside torch (absent in reports of older probes). */
      torchvision_version: z.string().nullable().optional(),
      torchvision_error: z.string().nullable().optional(),
      devices: z.array(z.object({ name: z.string(), memory_bytes: z.number(), capability: z.string() })),
    })
    .nullable(),
  training_scripts: z
    .array(z.object({ name: z.string(), ok: z.boolean(), error: z.string().nullable() }))
    .nullable(),
})
export type ProbeReport = z.infer<typeof ProbeReport>

export const ProbeCheck = z.enum([
  'python',
  'venv',
  'source',
  'version',
  'requirements',
  'library',
  'extras',
  'torch',
  'cuda',
  'training_scripts',
])
export const ProbeProblem = z.object({
  check: ProbeCheck,
  message: z.string(),
  /** The message's code and parameters (core/env/messages.ts), for the UI's language. */
  code: z.string().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** The install step that fixes it (Repair re-runs these). */
  repair: z.array(z.string()),
})
export type ProbeProblem = z.infer<typeof ProbeProblem>

export interface ProbeContext {
  expect: ProbeExpectations
  pythonRange: { min: string; max: string }
  /** Tag the environment should be at; null for external installs of unknown version. */
  tag: string | null
  /** Extra packages the plan installs ("lycoris-lora==3.2.0.post2"); empty for external installs. */
  extras: string[]
  /**
   * The torch build the plan installed (torch version, index suffix such as cu124, and the CUDA version
   * the build reports when it carries no label); absent: not checked.
   */
  torchBuild?: { torch: string; index: string; cuda?: string | null | undefined } | null
  /**
   * An existing install ("use existing"): never modified, so Repair does not apply and its problems
   * say how to fix it by hand, torch's with the command that installs it with that venv's Python.
   */
  existing?: { torchCommand: string } | undefined
}

function cmpMinor(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number)
  const [b1 = 0, b2 = 0] = b.split('.').map(Number)
  return a1 - b1 || a2 - b2
}

/**
 * Is the installed torch ("2.6.0+cu124") the planned build? The version must match; a local label
 * (+cu124, +cpu) must name the planned index. PyPI's builds carry no label: then the CUDA version the
 * build was made for (torch.version.cuda, null for CPU) must be the planned one.
 */
export function torchMatches(
  installed: string,
  cudaVersion: string | null,
  build: { torch: string; index: string; cuda?: string | null | undefined },
): boolean {
  const [version, local] = installed.split('+')
  if (version !== build.torch) return false
  if (local !== undefined) return local === build.index
  const expected = build.cuda !== undefined ? build.cuda : cudaOfIndex(build.index)
  return (cudaVersion ?? null) === expected
}

/** "2.6.0+cu118" as it is; an unlabelled (PyPI) build with the CUDA it was made for: "2.6.0 (CUDA 12.4)". */
function buildName(t: { version: string | null; cuda_version: string | null }): string {
  const v = t.version ?? '?'
  return v.includes('+') ? v : `${v} (${t.cuda_version ? `CUDA ${t.cuda_version}` : 'CPU'})`
}

/** Turns a probe report into the problems Verify shows and the steps Repair re-runs. Pure. */
export function evaluateProbe(report: ProbeReport, ctx: ProbeContext): ProbeProblem[] {
  const problems: ProbeProblem[] = []
  const existing = ctx.existing
  // Repair re-runs install steps; an existing install has none (Repair refuses it).
  const add = (check: ProbeProblem['check'], code: EnvCode, params: EnvParams, repair: StepId[]) =>
    problems.push({ check, ...envText(code, params), repair: existing ? [] : repair })
  const py = report.python.version
  if (cmpMinor(py, ctx.pythonRange.min) < 0 || cmpMinor(py, ctx.pythonRange.max) > 0) {
    const code = existing ? 'probe_python_existing' : 'probe_python'
    add('python', code, { version: py, min: ctx.pythonRange.min, max: ctx.pythonRange.max }, [
      'venv',
      'torch',
      'requirements',
      'extras',
    ])
  }
  if (!report.python.in_venv) {
    add('venv', 'probe_not_venv', { python: report.python.executable }, [
      'venv',
      'torch',
      'requirements',
      'extras',
    ])
  }
  if (!report.sd_scripts.exists) {
    add('source', 'probe_source_missing', { path: report.sd_scripts.path }, ['source', 'requirements'])
  } else if (ctx.tag && report.sd_scripts.tag && report.sd_scripts.tag !== ctx.tag) {
    add('version', 'probe_version', { tag: report.sd_scripts.tag, expected: ctx.tag }, [
      'source',
      'requirements',
    ])
  }
  const req = report.requirements
  if (report.sd_scripts.exists && req.file === null) {
    add('source', 'probe_no_requirements', {}, ['source', 'requirements'])
  }
  if (req.missing.length || req.mismatched.length) {
    // Names and versions only in the parameters: "diffusers 0.24.0 (sd-scripts: 0.25.0)" reads in any language.
    const missing = req.missing.join(', ')
    const versions = req.mismatched
      .map((m) => `${m.name} ${m.installed} (sd-scripts: ${m.required})`)
      .join(', ')
    if (!versions) add('requirements', 'probe_requirements_missing', { missing }, ['requirements'])
    else if (!missing) add('requirements', 'probe_requirements_versions', { versions }, ['requirements'])
    else add('requirements', 'probe_requirements_both', { missing, versions }, ['requirements'])
  }
  if (!report.library.importable) {
    add('library', 'probe_library', { error: report.library.error ?? '?' }, ['requirements'])
  }
  const missingExtras = ctx.extras
    .map((spec) =>
      spec
        .split(/[=<>!~ ]/)[0]!
        .toLowerCase()
        .replace(/[_.]+/g, '-'),
    )
    .filter((name) => !report.packages[name])
  if (missingExtras.length) {
    add('extras', 'probe_extras', { packages: missingExtras.join(', ') }, ['extras'])
  }
  if (ctx.expect.torch) {
    const t = report.torch
    // torch: none: the user installs torch; Repair has no torch step to run, so say how instead
    // (the command; records written before it was kept have the English sentence only). An
    // existing install is never modified: the command installs torch with its own Python.
    const userFix = ctx.expect.torchFix !== undefined
    const fixCommand = ctx.expect.torchFixCommand
    const repairTorch: StepId[] = userFix ? [] : ['torch']
    const torchProblem = (code: EnvCode, user: EnvCode, own: EnvCode, params: EnvParams = {}) => {
      if (existing) add('torch', own, { ...params, command: existing.torchCommand }, [])
      else if (!userFix) add('torch', code, params, repairTorch)
      else if (fixCommand !== undefined) add('torch', user, { ...params, command: fixCommand }, repairTorch)
      else
        problems.push({
          check: 'torch',
          message: `${envText(code, params).message.replace(/ Repair reinstalls it\.$/, '')} ${ctx.expect.torchFix}`,
          repair: repairTorch,
        })
    }
    const installed = report.packages.torch
    const importError = { error: t?.error ? `: ${t.error}` : '' }
    if (!t || !t.imported) {
      if (!installed)
        torchProblem('probe_torch_missing', 'probe_torch_missing_user', 'probe_torch_missing_existing')
      else
        torchProblem(
          'probe_torch_import',
          'probe_torch_import_user',
          'probe_torch_import_existing',
          importError,
        )
    } else if (ctx.torchBuild && t.version && !torchMatches(t.version, t.cuda_version, ctx.torchBuild)) {
      const planned =
        ctx.torchBuild.cuda !== undefined
          ? ctx.torchBuild.cuda
            ? `CUDA ${ctx.torchBuild.cuda}`
            : 'CPU'
          : ctx.torchBuild.index
      add(
        'torch',
        'probe_torch_replaced',
        { installed: buildName(t), torch: ctx.torchBuild.torch, index: planned },
        ['torch'],
      )
    } else if (
      t.torchvision_error !== undefined &&
      (t.torchvision_error !== null || !t.torchvision_version)
    ) {
      if (report.packages.torchvision)
        torchProblem(
          'probe_torchvision_import',
          'probe_torchvision_import_user',
          'probe_torchvision_import_existing',
          { error: t.torchvision_error ? `: ${t.torchvision_error}` : '' },
        )
      else
        torchProblem(
          'probe_torchvision_missing',
          'probe_torchvision_missing_user',
          'probe_torchvision_missing_existing',
        )
    } else if (ctx.expect.cuda && !t.cuda_available) {
      add('cuda', 'probe_cuda', { version: t.version ?? '?' }, ['torch'])
    }
  }
  if (ctx.expect.trainingScripts) {
    for (const s of report.training_scripts ?? []) {
      if (!s.ok)
        add('training_scripts', 'probe_script', { name: s.name, error: s.error ?? '?' }, [
          'requirements',
          'extras',
        ])
    }
    if (report.training_scripts === null) add('training_scripts', 'probe_scripts_unchecked', {}, [])
  }
  return problems
}
