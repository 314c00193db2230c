import { z } from 'zod'
import { envLayout } from './layout'

/**
 * Environments never take over user folders. An install writes a manifest of the top-level entries
 * it created in its folder; Remove deletes only those, and refuses while the folder holds anything
 * else unless the user confirms each such entry by name. An install into a folder that already
 * holds files, and is not one of ours, is refused.
 */

export const MANIFEST_FILE = '.sdxl-studio-env.json'

export const EnvManifest = z.object({
  schema: z.literal(1),
  app: z.literal('sdxl-studio'),
  /** The environment's name when the folder was claimed. */
  name: z.string(),
  /** Whether the install created the folder itself (then Remove deletes the folder once it is empty). */
  createdRoot: z.boolean(),
  /** Top-level names inside the folder that the install created. */
  entries: z.array(z.string()),
  createdAt: z.number(),
})
export type EnvManifest = z.infer<typeof EnvManifest>

/** Every top-level name an install may create in its folder, from the layout (so the two never drift). */
export function installEntryNames(): string[] {
  const root = '/E'
  const names = new Set<string>([MANIFEST_FILE])
  for (const value of Object.values(envLayout('linux', root))) {
    const m = /^\/E\/([^/]+)$/.exec(value)
    if (m) names.add(m[1]!)
  }
  return [...names].sort()
}

/**
 * Transient files of ours that may sit in the folder: an atomic write's temporary file
 * (".install-state.json.<pid>.<hex>.tmp") and the pre-check's write test folder.
 */
export function isTransientOfOurs(name: string): boolean {
  if (/^\.sdxl-studio-write-test-/.test(name)) return true
  const m = /^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/.exec(name)
  return !!m && installEntryNames().includes(m[1]!)
}

export type FolderClaim =
  /** Nothing there: the install creates the folder. */
  | { kind: 'absent' }
  /** An empty folder the user chose. */
  | { kind: 'empty' }
  /** One of ours (a manifest, or an install record written before manifests existed). */
  | { kind: 'ours'; manifest: EnvManifest | null }
  /** A folder holding files that are not ours. */
  | { kind: 'foreign'; entries: string[] }
  /** Not a folder at all (a file). */
  | { kind: 'not_a_folder' }

/** What an install would find at a path: whether it is there, its top-level names, and our records there. */
export function classifyFolder(input: {
  exists: boolean
  isDirectory: boolean
  entries: string[]
  manifest: EnvManifest | null
  hasInstallRecord: boolean
}): FolderClaim {
  if (!input.exists) return { kind: 'absent' }
  if (!input.isDirectory) return { kind: 'not_a_folder' }
  if (input.manifest) return { kind: 'ours', manifest: input.manifest }
  if (input.hasInstallRecord) return { kind: 'ours', manifest: null }
  const entries = input.entries.filter((n) => !isTransientOfOurs(n)).sort()
  return entries.length === 0 ? { kind: 'empty' } : { kind: 'foreign', entries }
}

/**
 * The entries Remove may delete without asking (those the install created) and the foreign ones.
 * Without a manifest (an install from before manifests), only the names an install creates count as ours.
 */
export function splitEntries(
  entries: string[],
  manifest: EnvManifest | null,
): { ours: string[]; foreign: string[] } {
  const owned = new Set(manifest ? [...manifest.entries, MANIFEST_FILE] : installEntryNames())
  const ours: string[] = []
  const foreign: string[] = []
  for (const name of [...entries].sort()) {
    if (owned.has(name) || isTransientOfOurs(name)) ours.push(name)
    else foreign.push(name)
  }
  return { ours, foreign }
}

/** Up to `max` names for a message, and how many more there are. */
export function listNames(names: string[], max = 12): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`)
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ')
}
