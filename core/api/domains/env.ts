import { z } from 'zod'
import { event, request } from '../define'
import { GpuFacts, InstallerChoice, InstallPlan, MirrorsPatch, PlanError, TorchChoice } from '../../env/plan'
import { EnvMessageSchema } from '../../env/messages'
import { PrecheckReport } from '../../env/prechecks'
import { ProbeProblem, ProbeReport } from '../../env/probe'
import { EnvName, EnvRecord, EnvSettings } from '../../env/registry'
import { InstallProgress } from '../../env/state'
import { SdScriptsVersion } from '../../env/versions'

export const PlanRequest = z
  .object({
    name: EnvName.default('default'),
    version: z.string().optional(),
    torch: TorchChoice.optional(),
    installer: InstallerChoice.optional(),
    /** A git URL or a local folder; null: settings, else GitHub. */
    source: z.string().min(1).nullable().optional(),
    mirrors: MirrorsPatch.optional(),
    envDir: z.string().min(1).nullable().optional(),
  })
  .strict()

export const MachineFacts = z.object({
  os: z.enum(['linux', 'win32']),
  pythons: z.array(z.object({ path: z.string(), version: z.string() })),
  uvOnPath: z.string().nullable(),
  gitAvailable: z.boolean(),
  gpu: GpuFacts.nullable(),
})

export const PlanResponse = z.object({
  ok: z.boolean(),
  plan: InstallPlan.nullable(),
  error: PlanError.nullable(),
  prechecks: PrecheckReport.nullable(),
  facts: MachineFacts,
  envDir: z.string(),
})

export const EnvListItem = EnvRecord.extend({
  active: z.boolean(),
  status: z.enum(['running', 'failed', 'done', 'interrupted', 'external', 'missing']),
  running: z.boolean(),
  /** Installed and verified: a run may start on it (the same check train.start makes). */
  ready: z.boolean(),
  /** Why not, and what to do (null when ready). */
  notReady: z.string().nullable(),
  /** The same, coded for the UI's language (core/env/messages.ts: ready_*). */
  notReadyReason: EnvMessageSchema.nullable().optional(),
  /** Bytes the install's steps added on disk (null: not a managed install, or no record). */
  sizeBytes: z.number().nullable(),
})

export const VerifyResult = z.object({
  name: z.string(),
  ok: z.boolean(),
  light: z.boolean(),
  problems: z.array(ProbeProblem),
  probe: ProbeReport.nullable(),
  error: z.string().nullable(),
  /** The error's code and parameters (core/env/messages.ts: verify_*). */
  errorCode: z.string().optional(),
  errorParams: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
})

const NameOpt = z.object({ name: EnvName.optional() }).strict()
const Started = z.object({ name: z.string(), envDir: z.string() })

export const requests = {
  'env.versions': request(z.object({}).strict(), z.array(SdScriptsVersion), 'Supported sd-scripts versions'),
  'env.list': request(
    z.object({}).strict(),
    z.object({ active: z.string().nullable(), environments: z.array(EnvListItem) }),
    'Environments, their state, and which one is active',
  ),
  'env.plan': request(
    PlanRequest,
    PlanResponse,
    'Install plan and pre-checks for this machine (runs nothing)',
  ),
  'env.install': request(
    PlanRequest,
    Started,
    'Start installing an environment (progress: env.progress, log: env.log)',
  ),
  'env.resume': request(
    z.object({ name: EnvName.optional(), mirrors: MirrorsPatch.optional() }).strict(),
    Started,
    'Continue an interrupted or failed install from its first unfinished step (optionally with new mirrors)',
  ),
  'env.stop': request(z.object({}).strict(), z.object({ stopped: z.boolean() }), 'Stop the running install'),
  'env.status': request(
    NameOpt,
    InstallProgress.nullable(),
    'Step states of the last install of an environment',
  ),
  'env.verify': request(
    z.object({ name: EnvName.optional(), light: z.boolean().optional() }).strict(),
    VerifyResult,
    'Run the probe inside the environment and report what is broken',
  ),
  'env.repair': request(
    NameOpt,
    z.object({ problems: z.array(ProbeProblem), started: z.boolean() }),
    'Re-run the steps verify found broken',
  ),
  'env.update': request(
    z.object({ name: EnvName.optional(), version: z.string() }).strict(),
    Started,
    'Move an environment to another supported sd-scripts version',
  ),
  'env.remove': request(
    z
      .object({
        name: EnvName,
        confirm: z.literal(true),
        /** Entries in the folder the install did not create, confirmed by name to be deleted too. */
        confirmForeign: z.array(z.string().min(1).max(1024)).max(100_000).optional(),
      })
      .strict(),
    z.object({ removed: z.boolean(), deletedFiles: z.boolean(), deleted: z.array(z.string()) }),
    "Delete what an environment's install created (external installs are only forgotten); needs confirm: true, " +
      'and confirmForeign naming every entry the install did not create (else a conflict error lists them)',
  ),
  'env.activate': request(
    z.object({ name: EnvName }).strict(),
    z.object({ active: z.string() }),
    'Make an environment the active one',
  ),
  'env.useExisting': request(
    z
      .object({ name: EnvName, folder: z.string().min(1), venv: z.string().min(1).nullable().optional() })
      .strict(),
    z.object({ record: EnvRecord, verify: VerifyResult }),
    'Use an existing sd-scripts (or kohya_ss) install with its venv, without modifying it',
  ),
  'env.settings.get': request(
    z.object({}).strict(),
    EnvSettings,
    'Default source, installer, mirrors and proxy (passwords in addresses shown as ****)',
  ),
  'env.settings.update': request(
    z
      .object({
        source: z.string().min(1).nullable().optional(),
        installer: InstallerChoice.optional(),
        mirrors: MirrorsPatch.optional(),
      })
      .strict(),
    EnvSettings,
    'Change the default source, installer, mirrors and proxy (an address saved back with **** keeps its stored password)',
  ),
}

export const events = {
  'env.log': event(
    z.object({}).strict(),
    z.object({ name: z.string(), data: z.string() }),
    'Live install log (terminal output, flow-controlled; recent history first)',
    { flow: true },
  ),
  'env.progress': event(
    z.object({}).strict(),
    InstallProgress,
    'Step states, durations and sizes while installing',
  ),
}
