import { z } from 'zod'
import type { EnvOs } from './layout'
import { listNames } from './ownership'
import { compareVersionPrefix, pythonSupported, type SdScriptsVersion } from './versions'

/** Facts about the machine and the chosen folder, gathered by electron/services/env/prechecks.ts. */
export const PrecheckFacts = z.object({
  os: z.enum(['linux', 'win32']),
  envDir: z.string(),
  neededBytes: z.number(),
  /** Free bytes on the volume holding envDir (or its nearest existing parent); null if unknown. */
  freeBytes: z.number().nullable(),
  /** null when the folder could be written; otherwise the system's error text. */
  writeError: z.string().nullable(),
  /** File system type of that volume (ext4, vfat, exfat, NTFS, FAT32, exFAT …); null if unknown. */
  fsType: z.string().nullable(),
  /** Folders OneDrive syncs (from the OneDrive* environment variables). */
  oneDriveRoots: z.array(z.string()),
  gitAvailable: z.boolean(),
  sourceIsUrl: z.boolean(),
  pythonVersions: z.array(z.string()),
  uvAvailable: z.boolean(),
  installer: z.enum(['uv', 'pip']),
  /** Who the folder belongs to (ownership.ts); absent: not checked. */
  folder: z
    .object({
      kind: z.enum(['absent', 'empty', 'ours', 'foreign', 'not_a_folder']),
      /** foreign: the names that are not ours. */
      entries: z.array(z.string()).default([]),
      /** ours: another registered environment that lives there, if any. */
      otherEnv: z.string().nullable().default(null),
    })
    .optional(),
})
export type PrecheckFacts = z.input<typeof PrecheckFacts>

export const PrecheckProblem = z.object({
  id: z.enum([
    'disk',
    'writable',
    'filesystem',
    'cloud',
    'path_chars',
    'path_length',
    'git',
    'python',
    'folder',
  ]),
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
})
export type PrecheckProblem = z.infer<typeof PrecheckProblem>

export const PrecheckReport = z.object({ ok: z.boolean(), problems: z.array(PrecheckProblem) })
export type PrecheckReport = z.infer<typeof PrecheckReport>

const GiB = 1024 ** 3
const gib = (n: number) => `${(n / GiB).toFixed(1)} GB`

/** cmd.exe and batch files treat these specially; PATH splits on ';'. Python tools launched through them break. */
const WINDOWS_BAD_CHARS = /[!%^&|<>";=`]/
/** ':' splits PATH and PYTHONPATH on Linux; control characters break every tool. */
const POSIX_BAD_CHARS = /[:\p{Cc}]/u

/** The names of a Windows path below its drive or share ("C:\\a\\b" → a, b). */
function windowsSegments(p: string): string[] {
  const rest = p.replace(/^(?:[A-Za-z]:|\\\\[^\\/]+[\\/][^\\/]+)/, '')
  return rest.split(/[\\/]+/).filter((seg) => seg !== '' && seg !== '.' && seg !== '..')
}

function normalise(os: EnvOs, p: string): string {
  const s = os === 'win32' ? p.replace(/\//g, '\\').toLowerCase() : p
  return s.replace(/[\\/]+$/, '')
}

function isInside(os: EnvOs, child: string, parent: string): boolean {
  const c = normalise(os, child)
  const p = normalise(os, parent)
  const sep = os === 'win32' ? '\\' : '/'
  return p !== '' && (c === p || c.startsWith(p + sep))
}

/** Decides, from gathered facts, whether an environment can be installed at envDir. Pure. */
export function evaluatePrechecks(rawFacts: PrecheckFacts, version: SdScriptsVersion): PrecheckReport {
  const facts = PrecheckFacts.parse(rawFacts)
  const problems: PrecheckProblem[] = []
  const { os, envDir } = facts
  const add = (id: PrecheckProblem['id'], severity: PrecheckProblem['severity'], message: string) =>
    problems.push({ id, severity, message })

  // Disk: the estimate plus room for pip/uv caches and temporary unpacking.
  if (facts.freeBytes !== null) {
    const margin = Math.max(2 * GiB, facts.neededBytes * 0.25)
    if (facts.freeBytes < facts.neededBytes) {
      add(
        'disk',
        'error',
        `Not enough free space for the environment: ${gib(facts.freeBytes)} free where ${envDir} is, about ` +
          `${gib(facts.neededBytes)} needed. Free some space or choose a folder on another drive.`,
      )
    } else if (facts.freeBytes < facts.neededBytes + margin) {
      add(
        'disk',
        'warning',
        `Free space is tight: ${gib(facts.freeBytes)} free, about ${gib(facts.neededBytes)} needed plus room for ` +
          'download caches. The install may fail with "No space left on device"; freeing space first is safer.',
      )
    }
  }

  const folder = facts.folder
  if (folder?.kind === 'foreign') {
    const own = folder.entries.filter((n) => n === 'sd-scripts' || n === 'venv')
    add(
      'folder',
      'error',
      `${envDir} already holds files that SDXL Studio did not put there (${listNames(folder.entries)}). ` +
        'An environment needs a folder of its own: installing here could replace them, and removing the ' +
        'environment later could delete them. Choose a new or empty folder' +
        (own.length
          ? `; to use the sd-scripts install that is there as it is, choose "Use existing" (env use-existing ${envDir}).`
          : '.'),
    )
  } else if (folder?.kind === 'not_a_folder') {
    add(
      'folder',
      'error',
      `${envDir} is a file, not a folder. Choose a new or empty folder for the environment.`,
    )
  } else if (folder?.kind === 'ours' && folder.otherEnv) {
    add(
      'folder',
      'error',
      `${envDir} holds the environment "${folder.otherEnv}". Remove that environment first, or choose another folder.`,
    )
  }

  if (facts.writeError !== null) {
    add(
      'writable',
      'error',
      `Cannot write to ${envDir} (${facts.writeError}). Choose a folder you own, or fix its permissions.`,
    )
  }

  const fs = facts.fsType?.toLowerCase() ?? ''
  if (['vfat', 'fat', 'fat12', 'fat16', 'fat32', 'msdos', 'exfat'].includes(fs)) {
    add(
      'filesystem',
      'error',
      `${envDir} is on a ${facts.fsType} drive. Python environments need NTFS (Windows) or a Linux file system ` +
        '(ext4, btrfs, xfs): FAT32 cannot hold files over 4 GB and FAT/exFAT lack the links and permissions venvs use. ' +
        'Choose a folder on another drive.',
    )
  }

  const cloud = facts.oneDriveRoots.find((root) => root && isInside(os, envDir, root))
  const segments = normalise(os, envDir).split(/[\\/]/)
  if (cloud || segments.some((s) => /^onedrive(\s*-.*)?$/i.test(s))) {
    add(
      'cloud',
      'error',
      `${envDir} is inside a OneDrive folder${cloud ? ` (${cloud})` : ''}. OneDrive syncs and locks the tens of ` +
        'thousands of files a Python environment has, and "files on demand" leaves placeholders Python cannot read. ' +
        `Choose a folder outside OneDrive, e.g. ${os === 'win32' ? 'C:\\SDXL-Studio\\envs' : '~/sdxl-studio/envs'}.`,
    )
  } else if (segments.some((s) => /^(dropbox|google drive|icloud ?drive|my drive)$/i.test(s))) {
    add(
      'cloud',
      'warning',
      `${envDir} looks like a cloud-synced folder. Syncing a Python environment is slow and can lock files during ` +
        'the install; a folder outside it is safer.',
    )
  }

  if (os === 'win32') {
    const bad = WINDOWS_BAD_CHARS.exec(envDir)
    if (bad) {
      add(
        'path_chars',
        'error',
        `The folder path contains "${bad[0]}", which breaks Python tools started through Windows command scripts ` +
          `(${envDir}). Choose a path with letters, digits, spaces, '-', '_' and '.' only.`,
      )
    }
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(envDir)) {
      add(
        'path_chars',
        'warning',
        `The folder path has non-English letters (${envDir}). Most tools cope, but some Python packages fail to ` +
          'load from such paths on Windows. If the install or training fails, use a path like C:\\SDXL-Studio\\envs.',
      )
    }
    // Spaces inside names are fine: every command gets its arguments as a list, never through a
    // shell, and venv launchers quote their own paths (the default %LOCALAPPDATA%\\SDXL Studio has
    // one). What Windows itself cannot handle is a name that starts or ends with a space, ends with
    // a dot, or is a device name: such folders cannot be opened by most programs.
    const badSegment = windowsSegments(envDir).find(
      (seg) => /^\s|\s$|\.$/.test(seg) || /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i.test(seg),
    )
    if (badSegment !== undefined) {
      add(
        'path_chars',
        'error',
        `The folder name "${badSegment}" in ${envDir} starts or ends with a space, ends with a dot, or is a ` +
          'reserved device name; Windows programs cannot open such folders. Rename it or choose another folder.',
      )
    }
    // site-packages paths of torch and friends add ~150 characters to the environment folder.
    if (envDir.length > 100) {
      add(
        'path_length',
        'warning',
        `The folder path is ${envDir.length} characters long; files deep inside the environment may exceed ` +
          "Windows' 260-character limit. Use a shorter path, or enable long paths in Windows.",
      )
    }
  } else {
    const bad = POSIX_BAD_CHARS.exec(envDir)
    if (bad) {
      add(
        'path_chars',
        'error',
        `The folder path contains ${JSON.stringify(bad[0])}, which breaks PATH and Python's module search path ` +
          `(${envDir}). Choose another folder.`,
      )
    }
  }

  if (!facts.gitAvailable) {
    add(
      'git',
      'warning',
      facts.sourceIsUrl
        ? 'git is not installed: the sd-scripts release archive will be downloaded instead. Install git ' +
            '(https://git-scm.com) for faster updates.'
        : 'git is not installed: the local sd-scripts folder will be copied as it is (its tag cannot be checked). ' +
            'Install git (https://git-scm.com) to check out the exact version.',
    )
  }

  const range = `${version.python.min}–${version.python.max}`
  const supported = facts.pythonVersions.filter((v) => pythonSupported(version, v))
  if (supported.length === 0) {
    const found = facts.pythonVersions.length
      ? `Found Python ${facts.pythonVersions.join(', ')}`
      : 'No Python found'
    const tooNew = facts.pythonVersions.some((v) => compareVersionPrefix(v, version.python.max) > 0)
    if (facts.installer === 'pip') {
      add(
        'python',
        'error',
        `${found}; sd-scripts ${version.tag} needs Python ${range}${tooNew ? ' (newer versions are untested and some packages have no wheels)' : ''}. ` +
          `Install Python ${version.python.install}, or use the uv installer, which downloads it.`,
      )
    } else {
      add(
        'python',
        'info',
        `${found}; uv${facts.uvAvailable ? '' : ' (downloaded from the PyPI index first)'} will download Python ` +
          `${version.python.install} for this environment.`,
      )
    }
  }

  return { ok: !problems.some((p) => p.severity === 'error'), problems }
}
