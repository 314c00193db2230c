import { z } from 'zod'
import { envText, type EnvCode, type EnvParams } from './messages'
import type { ProbeExpectations, StepId } from './plan'

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
  /** The torch build the plan installed (torch version, index suffix such as cu124); absent: not checked. */
  torchBuild?: { torch: string; index: string } | null
}

function cmpMinor(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number)
  const [b1 = 0, b2 = 0] = b.split('.').map(Number)
  return a1 - b1 || a2 - b2
}

/**
 * Is the installed torch ("2.6.0+cu124") the planned build? The version must match; a local label
 * (+cu124, +cpu) must name the planned index. No label is accepted: PyPI's own builds carry none.
 */
function torchMatches(installed: string, build: { torch: string; index: string }): boolean {
  const [version, local] = installed.split('+')
  return version === build.torch && (local === undefined || local === build.index)
}

/** Turns a probe report into the problems Verify shows and the steps Repair re-runs. Pure. */
export function evaluateProbe(report: ProbeReport, ctx: ProbeContext): ProbeProblem[] {
  const problems: ProbeProblem[] = []
  const add = (check: ProbeProblem['check'], code: EnvCode, params: EnvParams, repair: StepId[]) =>
    problems.push({ check, ...envText(code, params), repair })
  const py = report.python.version
  if (cmpMinor(py, ctx.pythonRange.min) < 0 || cmpMinor(py, ctx.pythonRange.max) > 0) {
    add('python', 'probe_python', { version: py, min: ctx.pythonRange.min, max: ctx.pythonRange.max }, [
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
    const parts = [
      ...(req.missing.length ? [`missing ${req.missing.join(', ')}`] : []),
      ...req.mismatched.map((m) => `${m.name} ${m.installed} (needs ${m.required})`),
    ]
    add('requirements', 'probe_requirements', { details: parts.join('; ') }, ['requirements'])
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
    if (!t || !t.imported) {
      add('torch', 'probe_torch_import', { error: t?.error ? `: ${t.error}` : '' }, ['torch'])
    } else if (ctx.torchBuild && t.version && !torchMatches(t.version, ctx.torchBuild)) {
      add(
        'torch',
        'probe_torch_replaced',
        { installed: t.version, torch: ctx.torchBuild.torch, index: ctx.torchBuild.index },
        ['torch'],
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
