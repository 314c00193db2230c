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
