import { promises as fs } from 'node:fs'
import path from 'node:path'
import {
  classifyFolder,
  EnvManifest,
  installEntryNames,
  MANIFEST_FILE,
  splitEntries,
  type FolderClaim,
} from '../../../core/env/ownership'
import { readJsonFile, writeJsonAtomic } from '../store/atomic'

const manifestPath = (dir: string) => path.join(dir, MANIFEST_FILE)

export async function readManifest(dir: string): Promise<EnvManifest | null> {
  return readJsonFile(manifestPath(dir), EnvManifest.nullable(), () => null).catch(() => null)
}

/** The top-level names in a folder; null when it is not there. */
async function listEntries(
  dir: string,
): Promise<{ exists: boolean; isDirectory: boolean; entries: string[] }> {
  const st = await fs.lstat(dir).catch(() => null)
  if (!st) return { exists: false, isDirectory: false, entries: [] }
  if (!st.isDirectory()) return { exists: true, isDirectory: false, entries: [] }
  return { exists: true, isDirectory: true, entries: await fs.readdir(dir) }
}

/** Who a folder belongs to, as an install would see it. */
export async function inspectFolder(dir: string): Promise<FolderClaim> {
  const listed = await listEntries(dir)
  return classifyFolder({
    ...listed,
    manifest: listed.isDirectory ? await readManifest(dir) : null,
    hasInstallRecord: listed.entries.includes('install-state.json'),
  })
}

export class FolderNotOursError extends Error {
  constructor(
    readonly dir: string,
    readonly claim: FolderClaim,
  ) {
    super(
      claim.kind === 'not_a_folder'
        ? `${dir} is a file, not a folder. Choose a new or empty folder for the environment.`
        : `${dir} already holds files that SDXL Studio did not put there, so it will not install into it ` +
            '(removing the environment later could delete them). Choose a new or empty folder.',
    )
    this.name = 'FolderNotOursError'
  }
}

/**
 * Makes a folder ours before an install writes anything: creates it (remembering that we did) or
 * takes an empty one, and writes the manifest. A folder of ours keeps its manifest; an older install
 * (a record but no manifest) gets one listing the entries an install creates that are there. A
 * folder with anything else in it is refused.
 */
export async function claimFolder(dir: string, name: string): Promise<EnvManifest> {
  const claim = await inspectFolder(dir)
  if (claim.kind === 'foreign' || claim.kind === 'not_a_folder') throw new FolderNotOursError(dir, claim)
  if (claim.kind === 'ours' && claim.manifest) return claim.manifest
  if (claim.kind === 'absent') await fs.mkdir(dir, { recursive: true })
  const manifest: EnvManifest = {
    schema: 1,
    app: 'sdxl-studio',
    name,
    createdRoot: claim.kind === 'absent',
    entries: [MANIFEST_FILE],
    createdAt: Date.now(),
  }
  await writeJsonAtomic(manifestPath(dir), manifest)
  await recordCreated(dir)
  return (await readManifest(dir)) ?? manifest
}

/** Adds to the manifest the entries an install creates that now exist (called as steps finish). */
export async function recordCreated(dir: string): Promise<void> {
  const manifest = await readManifest(dir)
  if (!manifest) return
  const present = new Set((await listEntries(dir)).entries)
  const known = new Set(manifest.entries)
  const added = installEntryNames().filter((n) => present.has(n) && !known.has(n))
  if (added.length === 0) return
  await writeJsonAtomic(manifestPath(dir), { ...manifest, entries: [...manifest.entries, ...added].sort() })
}

export type RemoveOutcome =
  | { ok: true; deleted: string[]; folderDeleted: boolean }
  | { ok: false; foreign: string[]; unconfirmed: string[] }

/**
 * Deletes what the install created, and the foreign entries the user confirmed by name; refuses
 * (deleting nothing) while a foreign entry is not confirmed. The folder itself goes only when the
 * install created it and nothing is left. `legacyCreatedRoot` stands in for a manifest's
 * createdRoot for installs made before manifests.
 */
export async function removeOwned(
  dir: string,
  options: { confirmForeign: readonly string[]; legacyCreatedRoot: boolean },
): Promise<RemoveOutcome> {
  const listed = await listEntries(dir)
  if (!listed.exists) return { ok: true, deleted: [], folderDeleted: false }
  if (!listed.isDirectory)
    return { ok: false, foreign: [path.basename(dir)], unconfirmed: [path.basename(dir)] }
  const manifest = await readManifest(dir)
  const { ours, foreign } = splitEntries(listed.entries, manifest)
  const confirmed = new Set(options.confirmForeign)
  const unconfirmed = foreign.filter((n) => !confirmed.has(n))
  if (unconfirmed.length) return { ok: false, foreign, unconfirmed }
  // The manifest goes last: a remove interrupted halfway still knows what is ours.
  const order = [
    ...ours.filter((n) => n !== MANIFEST_FILE),
    ...foreign,
    ...(ours.includes(MANIFEST_FILE) ? [MANIFEST_FILE] : []),
  ]
  for (const n of order) await fs.rm(path.join(dir, n), { recursive: true, force: true })
  const createdRoot = manifest ? manifest.createdRoot : options.legacyCreatedRoot
  let folderDeleted = false
  if (createdRoot && (await fs.readdir(dir)).length === 0) {
    await fs.rmdir(dir)
    folderDeleted = true
  }
  return { ok: true, deleted: order, folderDeleted }
}
