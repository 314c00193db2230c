import { z } from 'zod'
import { InstallerChoice, Mirrors, NO_MIRRORS, TorchChoice } from './plan'

/** Names become folder names under <dataDir>/envs. */
export const EnvName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'Use letters, digits, "-", "_" and "." (up to 64), starting with a letter or digit',
  )

export const EnvChoices = z.object({
  torch: TorchChoice,
  installer: InstallerChoice,
  source: z.string(),
  mirrors: Mirrors,
})
export type EnvChoices = z.infer<typeof EnvChoices>

/** What the last verify of an environment found (install, Verify, use-existing): readiness reads it. */
export const LastVerify = z.object({
  ok: z.boolean(),
  at: z.number(),
  /**
   * The probe's problems (check + message, and its code and parameters: core/env/messages.ts), or
   * the reason the probe could not run (check "probe").
   */
  problems: z.array(
    z.object({
      check: z.string(),
      message: z.string(),
      code: z.string().optional(),
      params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    }),
  ),
  /** Packages the probe found installed (for the package rules of config validation). */
  packages: z.array(z.string()),
})
export type LastVerify = z.infer<typeof LastVerify>

export const EnvRecord = z.object({
  name: EnvName,
  /** managed: installed by us in envDir; external: an existing install we only read and run. */
  kind: z.enum(['managed', 'external']),
  envDir: z.string(),
  srcDir: z.string(),
  venvPython: z.string(),
  version: z.string().nullable(),
  choices: EnvChoices.nullable(),
  createdAt: z.number(),
  /** Absent in records written before verify results were kept. */
  lastVerify: LastVerify.nullable().optional(),
})
export type EnvRecord = z.infer<typeof EnvRecord>

/** <dataDir>/environments.json */
export const EnvRegistry = z.object({
  schema: z.literal(1),
  active: z.string().nullable(),
  environments: z.array(EnvRecord),
})
export type EnvRegistry = z.infer<typeof EnvRegistry>

/** Env settings the user keeps between installs (Settings page and CLI defaults). */
export const EnvSettings = z.object({
  source: z.string().nullable().default(null),
  installer: InstallerChoice.default('uv'),
  mirrors: Mirrors.default(NO_MIRRORS),
})
export type EnvSettings = z.infer<typeof EnvSettings>
