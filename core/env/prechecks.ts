import { z } from 'zod'
import type { EnvOs } from './layout'
import { envText, type EnvCode, type EnvParams } from './messages'
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
  /** The message's code and parameters (core/env/messages.ts), for the UI's language. */
  code: z.string().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
})
export type PrecheckProblem = z.infer<typeof PrecheckProblem>

export const PrecheckReport = z.object({ ok: z.boolean(), problems: z.array(PrecheckProblem) })
export type PrecheckReport = z.infer<typeof PrecheckReport>

const GiB = 1024 ** 3
/** GB with one decimal, as the messages show it. */
const gibs = (n: number) => Math.round((n / GiB) * 10) / 10

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
  const add = (
    id: PrecheckProblem['id'],
    severity: PrecheckProblem['severity'],
    code: EnvCode,
    params: EnvParams = {},
  ) => problems.push({ id, severity, ...envText(code, params) })

  // Disk: the estimate plus room for pip/uv caches and temporary unpacking.
  if (facts.freeBytes !== null) {
    const margin = Math.max(2 * GiB, facts.neededBytes * 0.25)
    if (facts.freeBytes < facts.neededBytes) {
      add('disk', 'error', 'pre_disk_short', {
        free: gibs(facts.freeBytes),
        dir: envDir,
        need: gibs(facts.neededBytes),
      })
    } else if (facts.freeBytes < facts.neededBytes + margin) {
      add('disk', 'warning', 'pre_disk_tight', { free: gibs(facts.freeBytes), need: gibs(facts.neededBytes) })
    }
  }

  const folder = facts.folder
  if (folder?.kind === 'foreign') {
    const own = folder.entries.some((n) => n === 'sd-scripts' || n === 'venv')
    add('folder', 'error', own ? 'pre_folder_foreign_install' : 'pre_folder_foreign', {
      dir: envDir,
      names: listNames(folder.entries),
    })
  } else if (folder?.kind === 'not_a_folder') {
    add('folder', 'error', 'pre_folder_file', { dir: envDir })
  } else if (folder?.kind === 'ours' && folder.otherEnv) {
    add('folder', 'error', 'pre_folder_other_env', { dir: envDir, env: folder.otherEnv })
  }

  if (facts.writeError !== null) {
    add('writable', 'error', 'pre_not_writable', { dir: envDir, error: facts.writeError })
  }

  const fs = facts.fsType?.toLowerCase() ?? ''
  if (['vfat', 'fat', 'fat12', 'fat16', 'fat32', 'msdos', 'exfat'].includes(fs)) {
    add('filesystem', 'error', 'pre_filesystem', { dir: envDir, fs: facts.fsType ?? '' })
  }

  const cloud = facts.oneDriveRoots.find((root) => root && isInside(os, envDir, root))
  const segments = normalise(os, envDir).split(/[\\/]/)
  if (cloud || segments.some((s) => /^onedrive(\s*-.*)?$/i.test(s))) {
    add('cloud', 'error', 'pre_onedrive', {
      dir: envDir,
      root: cloud ? ` (${cloud})` : '',
      example: os === 'win32' ? 'C:\\SDXL-Studio\\envs' : '~/sdxl-studio/envs',
    })
  } else if (segments.some((s) => /^(dropbox|google drive|icloud ?drive|my drive)$/i.test(s))) {
    add('cloud', 'warning', 'pre_cloud', { dir: envDir })
  }

  if (os === 'win32') {
    const bad = WINDOWS_BAD_CHARS.exec(envDir)
    if (bad) {
      add('path_chars', 'error', 'pre_path_char_windows', { char: bad[0], dir: envDir })
    }
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(envDir)) {
      add('path_chars', 'warning', 'pre_path_non_ascii', { dir: envDir })
    }
    // Spaces inside names are fine: every command gets its arguments as a list, never through a
    // shell, and venv launchers quote their own paths (the default %LOCALAPPDATA%\\SDXL Studio has
    // one). What Windows itself cannot handle is a name that starts or ends with a space, ends with
    // a dot, or is a device name: such folders cannot be opened by most programs.
    const badSegment = windowsSegments(envDir).find(
      (seg) => /^\s|\s$|\.$/.test(seg) || /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i.test(seg),
    )
    if (badSegment !== undefined) {
      add('path_chars', 'error', 'pre_path_bad_segment', { segment: badSegment, dir: envDir })
    }
    // site-packages paths of torch and friends add ~150 characters to the environment folder.
    if (envDir.length > 100) {
      add('path_length', 'warning', 'pre_path_length', { length: envDir.length })
    }
  } else {
    const bad = POSIX_BAD_CHARS.exec(envDir)
    if (bad) {
      add('path_chars', 'error', 'pre_path_char_posix', { char: JSON.stringify(bad[0]), dir: envDir })
    }
  }

  if (!facts.gitAvailable) {
    add('git', 'warning', facts.sourceIsUrl ? 'pre_git_archive' : 'pre_git_copy')
  }

  const range = `${version.python.min}–${version.python.max}`
  const supported = facts.pythonVersions.filter((v) => pythonSupported(version, v))
  if (supported.length === 0) {
    const versions = facts.pythonVersions.join(', ')
    const tooNew = facts.pythonVersions.some((v) => compareVersionPrefix(v, version.python.max) > 0)
    const install = version.python.install
    if (facts.installer === 'pip') {
      add(
        'python',
        'error',
        !facts.pythonVersions.length
          ? 'pre_python_pip_none'
          : tooNew
            ? 'pre_python_pip_too_new'
            : 'pre_python_pip_found',
        { versions, tag: version.tag, range, install },
      )
    } else {
      const found = facts.pythonVersions.length > 0
      const code: EnvCode = facts.uvAvailable
        ? found
          ? 'pre_python_uv_found'
          : 'pre_python_uv_none'
        : found
          ? 'pre_python_uv_fetch_found'
          : 'pre_python_uv_fetch_none'
      add('python', 'info', code, { versions, install })
    }
  }

  return { ok: !problems.some((p) => p.severity === 'error'), problems }
}
