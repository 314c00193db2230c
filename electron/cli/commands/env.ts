import { createInterface } from 'node:readline/promises'
import { ApiError } from '../../../core/api/errors'
import { PlanRequest } from '../../../core/api/domains/env'
import { describeZodError } from '../../../core/api/errors'
import type { InstallPlan, Mirrors, StepCommand } from '../../../core/env/plan'
import type { PrecheckReport } from '../../../core/env/prechecks'
import type { InstallProgress } from '../../../core/env/state'
import type { RunOutcome } from '../../services/env/runner'
import type { PlanResponse, VerifyResult } from '../../services/env/manager'
import { CliUsageError, command, jsonOption, printJson, type CliCommand, type CliContext } from '../command'

/** The mirror flags, one table for plan, install, resume and settings. */
const MIRROR_FLAGS = {
  'index-url': 'pypiIndex',
  'torch-index-url': 'torchIndex',
  'hf-endpoint': 'hfEndpoint',
  'python-mirror': 'pythonMirror',
  proxy: 'proxy',
} as const satisfies Record<string, keyof Mirrors>

const mirrorOptions = {
  'index-url': { type: 'string' },
  'torch-index-url': { type: 'string' },
  'hf-endpoint': { type: 'string' },
  'python-mirror': { type: 'string' },
  proxy: { type: 'string' },
} as const satisfies Record<keyof typeof MIRROR_FLAGS, { type: 'string' }>

const planOptions = {
  name: { type: 'string' },
  version: { type: 'string' },
  torch: { type: 'string' },
  installer: { type: 'string' },
  source: { type: 'string' },
  dir: { type: 'string' },
  ...mirrorOptions,
} as const

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>

const str = (v: Values[string]): string | undefined => (typeof v === 'string' ? v : undefined)

/**
 * The mirrors given as flags. `clear`: an empty value means "back to the default" (null), as in
 * `env settings`; otherwise an empty value is the same as no flag.
 */
function mirrorValues(values: Values, clear = false): Partial<Record<keyof Mirrors, string | null>> {
  const out: Partial<Record<keyof Mirrors, string | null>> = {}
  for (const [flag, field] of Object.entries(MIRROR_FLAGS)) {
    const v = str(values[flag])
    if (v === undefined) continue
    if (v !== '') out[field] = v
    else if (clear) out[field] = null
  }
  return out
}

function planRequest(values: Values) {
  const mirrors = mirrorValues(values)
  const raw = {
    ...(str(values.name) ? { name: str(values.name) } : {}),
    ...(str(values.version) ? { version: str(values.version) } : {}),
    ...(str(values.torch) ? { torch: str(values.torch) } : {}),
    ...(str(values.installer) ? { installer: str(values.installer) } : {}),
    ...(str(values.source) ? { source: str(values.source) } : {}),
    ...(str(values.dir) ? { envDir: str(values.dir) } : {}),
    ...(Object.keys(mirrors).length ? { mirrors } : {}),
  }
  const parsed = PlanRequest.safeParse(raw)
  if (!parsed.success) throw new CliUsageError(describeZodError(parsed.error))
  return parsed.data
}

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GB`

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return gib(n)
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`
  return `${Math.max(1, Math.round(n / 1024))} KB`
}

function describeCommand(c: StepCommand): string {
  switch (c.kind) {
    case 'run':
      return `$ ${Object.entries(c.env ?? {})
        .map(([k, v]) => `${k}=${v} `)
        .join(
          '',
        )}${c.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}${c.cwd ? `   (in ${c.cwd})` : ''}`
    case 'write-file':
      return `write ${c.path}`
    case 'copy-tree':
      return `copy ${c.from} -> ${c.to}`
    case 'download':
      return `download ${c.url}`
    case 'fetch-uv':
      return `download uv ${c.version} from ${c.index} into ${c.to} (sha256 checked against the index)`
    case 'mkdir':
      return `create ${c.path}`
    case 'remove':
      return `clear ${c.path}`
  }
}

export function formatPlan(plan: InstallPlan): string {
  const lines = [
    `sd-scripts ${plan.version} into ${plan.envDir} (${plan.installer}; about ${gib(plan.totalBytes)})`,
    plan.torch
      ? `torch ${plan.torch.torch} from ${plan.torch.indexUrl}: ${plan.torch.why}`
      : 'torch: not installed',
  ]
  plan.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.title}${s.skipReason ? ` — skipped: ${s.skipReason}` : ''}`)
    for (const c of s.commands) lines.push(`     ${describeCommand(c)}`)
  })
  return `${lines.join('\n')}\n`
}

export function formatPrechecks(report: PrecheckReport | null): string {
  if (!report || report.problems.length === 0) return ''
  return `${report.problems.map((p) => `${p.severity.toUpperCase()}: ${p.message}`).join('\n')}\n`
}

function formatProgress(p: InstallProgress): string {
  return p.steps
    .map((s) => {
      const d = s.durationMs !== null ? ` ${(s.durationMs / 1000).toFixed(1)} s` : ''
      const b = s.bytes ? `, ${formatBytes(s.bytes)}` : ''
      return `  [${s.state}] ${s.title}${d}${b}${s.error ? `\n      ${s.error.replace(/\n/g, '\n      ')}` : ''}`
    })
    .join('\n')
}

function formatVerify(v: VerifyResult): string {
  const lines: string[] = []
  const p = v.probe
  if (p) {
    lines.push(`Python ${p.python.version} (${p.python.executable})`)
    lines.push(`sd-scripts: ${p.sd_scripts.tag ?? 'unknown version'} at ${p.sd_scripts.path}`)
    lines.push(`library package: ${p.library.importable ? 'imports' : 'BROKEN'}`)
    lines.push(
      `requirements: ${p.requirements.checked} checked, ${p.requirements.missing.length} missing, ${p.requirements.mismatched.length} wrong version`,
    )
    if (p.torch) {
      const t = p.torch
      lines.push(
        `torch: ${t.imported ? `${t.version}, CUDA ${t.cuda_available ? `available (${t.devices.map((d) => `${d.name} ${gib(d.memory_bytes)}`).join(', ')})` : 'not available'}` : `does not import`}`,
      )
    } else lines.push('torch: not checked (light)')
    for (const [k, val] of Object.entries(p.packages)) if (k !== 'torch') lines.push(`  ${k}: ${val ?? '-'}`)
    for (const s of p.training_scripts ?? []) lines.push(`${s.name}.py: ${s.ok ? 'imports' : 'BROKEN'}`)
  }
  if (v.error) lines.push(`ERROR: ${v.error}`)
  for (const pr of v.problems) lines.push(`PROBLEM: ${pr.message}`)
  lines.push(v.ok ? 'Environment verified.' : 'Environment does NOT verify.')
  return `${lines.join('\n')}\n`
}

async function confirm(ctx: CliContext, yes: boolean, question: string): Promise<boolean> {
  if (yes) return true
  if (!process.stdin.isTTY) {
    throw new CliUsageError(`${question} Add --yes to confirm (there is no terminal to ask).`)
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

/** Streams an install's log and progress until it ends; Ctrl-C stops it (resumable). */
async function follow(
  ctx: CliContext,
  name: string,
  run: { done: Promise<RunOutcome> },
  json: boolean,
): Promise<number> {
  const manager = ctx.services().env.manager
  const write = json ? ctx.io.stderr : ctx.io.stdout
  const offLog = manager.onLog((c) => write(c.data), false)
  let interrupted = false
  void ctx.io.interrupted.then(() => {
    interrupted = true
    manager.stop()
  })
  let outcome: RunOutcome
  try {
    outcome = await run.done
  } finally {
    offLog()
  }
  const progress = (await manager.progress(name))!
  if (json) {
    printJson(ctx.io, { ok: outcome.state.status === 'done', progress, probe: outcome.probe })
  } else {
    ctx.io.stdout(`\n${formatProgress(progress)}\n`)
    if (outcome.state.status === 'done') ctx.io.stdout(`Environment "${name}" is installed and verified.\n`)
  }
  if (outcome.state.status !== 'done') {
    const err = outcome.state.lastError
    ctx.io.stderr(
      `${err ? err.message : 'The install did not finish.'}\n${interrupted ? '' : ''}Continue with: npm run -s cli -- env resume --name ${name}\n`,
    )
    return 1
  }
  return 0
}

function printPlanResponse(ctx: CliContext, r: PlanResponse): void {
  if (r.plan) ctx.io.stdout(formatPlan(r.plan))
  if (r.error) ctx.io.stderr(`${r.error.message}\n`)
  const pre = formatPrechecks(r.prechecks)
  if (pre) ctx.io.stderr(pre)
}

export const envCommands: CliCommand[] = [
  command({
    path: ['env', 'list'],
    summary: 'List environments (the active one is marked)',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const list = await ctx.call('env.list', {})
      if (values.json) printJson(ctx.io, list)
      else if (list.environments.length === 0)
        ctx.io.stdout('No environments. Install one with: env install\n')
      else
        for (const e of list.environments)
          ctx.io.stdout(
            `${e.active ? '*' : ' '} ${e.name}  ${e.kind}  ${e.version ?? 'unknown version'}  ${e.status}  ${e.envDir}\n`,
          )
      return 0
    },
  }),
  command({
    path: ['env', 'plan'],
    summary: 'Show the install plan and pre-checks for this machine (runs nothing)',
    options: { ...planOptions, ...jsonOption },
    async run({ values }, ctx) {
      const r = await ctx.call('env.plan', planRequest(values))
      if (values.json) printJson(ctx.io, r)
      else printPlanResponse(ctx, r)
      return r.ok ? 0 : 1
    },
  }),
  command({
    path: ['env', 'install'],
    summary: 'Install sd-scripts into a new environment (--torch auto|cpu|none, --yes to skip confirmation)',
    options: { ...planOptions, yes: { type: 'boolean', default: false }, ...jsonOption },
    async run({ values }, ctx) {
      const req = planRequest(values)
      const manager = ctx.services().env.manager
      const planned = await manager.plan(req)
      if (!values.json) printPlanResponse(ctx, planned)
      else if (formatPrechecks(planned.prechecks)) ctx.io.stderr(formatPrechecks(planned.prechecks))
      if (!planned.plan) throw new ApiError('domain', planned.error!.message)
      if (!planned.ok) {
        ctx.io.stderr('Fix the errors above, then run the install again.\n')
        return 1
      }
      if (!(await confirm(ctx, values.yes === true, `Install into ${planned.envDir}?`))) return 1
      const run = await manager.install(req)
      return follow(ctx, req.name, run, values.json === true)
    },
  }),
  command({
    path: ['env', 'resume'],
    summary: 'Continue an interrupted or failed install from its first unfinished step (new mirrors allowed)',
    options: { name: { type: 'string' }, ...mirrorOptions, ...jsonOption },
    async run({ values }, ctx) {
      const manager = ctx.services().env.manager
      const name = await manager.resolveName(str(values.name))
      const run = await manager.resume(name, mirrorValues(values))
      return follow(ctx, name, run, values.json === true)
    },
  }),
  command({
    path: ['env', 'verify'],
    summary: 'Check an environment (Python, requirements, library, torch, CUDA, training scripts)',
    options: { name: { type: 'string' }, light: { type: 'boolean' }, ...jsonOption },
    async run({ values }, ctx) {
      const input = {
        ...(str(values.name) ? { name: str(values.name) } : {}),
        ...(values.light !== undefined ? { light: values.light === true } : {}),
      }
      const v = await ctx.call('env.verify', input)
      if (values.json) printJson(ctx.io, v)
      else ctx.io.stdout(formatVerify(v))
      return v.ok ? 0 : 1
    },
  }),
  command({
    path: ['env', 'repair'],
    summary: 'Re-run the install steps that verify finds broken',
    options: { name: { type: 'string' }, ...jsonOption },
    async run({ values }, ctx) {
      const manager = ctx.services().env.manager
      const name = await manager.resolveName(str(values.name))
      const r = await manager.repair(name)
      if (!r.run) {
        if (values.json) printJson(ctx.io, { ok: true, repaired: false })
        else ctx.io.stdout(`Environment "${name}" verifies; nothing to repair.\n`)
        return 0
      }
      for (const p of r.problems) ctx.io.stderr(`repairing: ${p.message}\n`)
      return follow(ctx, name, r.run, values.json === true)
    },
  }),
  command({
    path: ['env', 'update'],
    summary: 'Move an environment to another supported sd-scripts version (--version)',
    options: {
      name: { type: 'string' },
      version: { type: 'string' },
      yes: { type: 'boolean', default: false },
      ...jsonOption,
    },
    async run({ values }, ctx) {
      const version = str(values.version)
      if (!version) throw new CliUsageError('Give the version to move to: --version <tag>')
      const manager = ctx.services().env.manager
      const name = await manager.resolveName(str(values.name))
      if (!(await confirm(ctx, values.yes === true, `Update "${name}" to sd-scripts ${version}?`))) return 1
      const run = await manager.update(name, version)
      return follow(ctx, name, run, values.json === true)
    },
  }),
  command({
    path: ['env', 'remove'],
    summary:
      "Delete what an environment's install created (existing installs are only forgotten); asks first unless --yes. " +
      'Files the install did not create stop it unless each is named with --confirm-foreign <name>',
    options: {
      name: { type: 'string' },
      yes: { type: 'boolean', default: false },
      'confirm-foreign': { type: 'string', multiple: true },
      ...jsonOption,
    },
    async run({ values }, ctx) {
      const name = str(values.name)
      if (!name) throw new CliUsageError('Name the environment to remove: --name <name>')
      const confirmForeign = (
        Array.isArray(values['confirm-foreign']) ? values['confirm-foreign'] : []
      ).filter((v): v is string => typeof v === 'string')
      const rec = await ctx.services().env.manager.get(name)
      const what =
        rec.kind === 'managed'
          ? `Delete what the install created in ${rec.envDir}${confirmForeign.length ? `, and ${confirmForeign.join(', ')}` : ''}?`
          : `Forget "${name}" (its files stay)?`
      if (!(await confirm(ctx, values.yes === true, what))) return 1
      const r = await ctx.call('env.remove', {
        name,
        confirm: true,
        ...(confirmForeign.length ? { confirmForeign } : {}),
      })
      if (values.json) printJson(ctx.io, r)
      else
        ctx.io.stdout(
          r.deletedFiles ? `Deleted ${r.deleted.join(', ')} in ${rec.envDir}.\n` : `Forgot "${name}".\n`,
        )
      return 0
    },
  }),
  command({
    path: ['env', 'use-existing'],
    summary: 'Use an existing sd-scripts or kohya_ss folder and its venv (never modified)',
    args: '<folder>',
    options: { name: { type: 'string' }, venv: { type: 'string' }, ...jsonOption },
    async run({ values, positionals }, ctx) {
      const folder = positionals[0]
      const name = str(values.name)
      if (!folder || !name)
        throw new CliUsageError('Usage: env use-existing <folder> --name <name> [--venv <folder>]')
      const r = await ctx.call('env.useExisting', { name, folder, venv: str(values.venv) ?? null })
      if (values.json) printJson(ctx.io, r)
      else ctx.io.stdout(`Registered "${name}" (${r.record.srcDir}).\n${formatVerify(r.verify)}`)
      return r.verify.ok ? 0 : 1
    },
  }),
  command({
    path: ['env', 'settings'],
    summary:
      'Show or change the default sd-scripts source, installer, mirrors and proxy (--source, --installer, --index-url, --torch-index-url, --hf-endpoint, --python-mirror, --proxy; "" clears)',
    options: {
      source: { type: 'string' },
      installer: { type: 'string' },
      ...mirrorOptions,
      ...jsonOption,
    },
    async run({ values }, ctx) {
      // An empty value clears a setting back to the default.
      const opt = (v: Values[string]) => (typeof v === 'string' ? (v === '' ? null : v) : undefined)
      const mirrors = mirrorValues(values, true)
      const patch = {
        ...(opt(values.source) !== undefined ? { source: opt(values.source) } : {}),
        ...(str(values.installer) ? { installer: str(values.installer) } : {}),
        ...(Object.keys(mirrors).length ? { mirrors } : {}),
      }
      const settings = Object.keys(patch).length
        ? await ctx.call('env.settings.update', patch)
        : await ctx.call('env.settings.get', {})
      if (values.json) printJson(ctx.io, settings)
      else
        ctx.io.stdout(
          [
            `source: ${settings.source ?? 'https://github.com/kohya-ss/sd-scripts.git (default)'}`,
            `installer: ${settings.installer}`,
            `PyPI index: ${settings.mirrors.pypiIndex ?? 'default'}`,
            `torch index: ${settings.mirrors.torchIndex ?? 'https://download.pytorch.org/whl (default)'}`,
            `Hugging Face endpoint: ${settings.mirrors.hfEndpoint ?? 'default'}`,
            `Python download mirror: ${settings.mirrors.pythonMirror ?? "uv's default"}`,
            `proxy: ${settings.mirrors.proxy ?? 'HTTPS_PROXY/HTTP_PROXY from the environment, if set'}`,
            '',
          ].join('\n'),
        )
      return 0
    },
  }),
  command({
    path: ['env', 'activate'],
    summary: 'Make an environment the active one',
    args: '<name>',
    options: {},
    async run({ positionals }, ctx) {
      const name = positionals[0]
      if (!name) throw new CliUsageError('Usage: env activate <name>')
      await ctx.call('env.activate', { name })
      ctx.io.stdout(`Active environment: ${name}\n`)
      return 0
    },
  }),
]
