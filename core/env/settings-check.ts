import { MASK, redactUrls } from './credentials'
import { envText, type EnvCodedText, type EnvSettingField } from './messages'
import { parseSource } from './source'

/** The env settings a user can type in; the names match EnvSettings / Mirrors. */
export type { EnvSettingField }
export type MirrorField = Exclude<EnvSettingField, 'source'>
export const MIRROR_FIELDS = [
  'pypiIndex',
  'torchIndex',
  'hfEndpoint',
  'pythonMirror',
  'proxy',
] as const satisfies readonly MirrorField[]

/** A typed value as a message quotes it: without its password, and not the whole of a pasted page. */
function shownValue(value: string): string {
  const shown = redactUrls(value)
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown
}

/**
 * What each field's tools accept, as they behave (pip 23-25, uv 0.13, huggingface_hub), not a wish list:
 * - pypiIndex, torchIndex: http(s), or a file:// PyPI-style index folder (`--index-url file:///srv/wheels/simple`
 *   works in pip and uv alike). A missing folder is only a warning to pip and "package not found" to uv,
 *   minutes into an install, so the folder is checked on disk before anything starts.
 * - pythonMirror: http(s) or file:// (uv documents file:// for UV_PYTHON_INSTALL_MIRROR: a folder laid out
 *   like python-build-standalone's releases).
 * - hfEndpoint: http(s) only: huggingface_hub and the tokenizer step speak HTTP to it.
 * - proxy: http(s) only: pip without PySocks refuses socks5 ("Missing dependencies for SOCKS support"), and
 *   so do our own downloads; every download of an install goes through the same proxy.
 */
export const FOLDER_MIRROR_FIELDS = [
  'pypiIndex',
  'torchIndex',
  'pythonMirror',
] as const satisfies readonly MirrorField[]

/** Whether a field may name a local folder (file://). */
export function acceptsFolder(field: MirrorField): boolean {
  return (FOLDER_MIRROR_FIELDS as readonly MirrorField[]).includes(field)
}

/** Fields whose folder must be a PyPI-style index (one folder per package), not a folder of wheel files. */
export function wantsPackageIndex(field: MirrorField): boolean {
  return field === 'pypiIndex' || field === 'torchIndex'
}

/** The OS of the machine that runs the installs (and so reads a file:// folder). */
export type MirrorOs = 'linux' | 'win32'

const WINDOWS_DRIVE = /^[A-Za-z]:(?:[\\/]|$)/

/** A typed absolute path (not a URL) as the file:// address pip and uv want, for the message's advice. */
function fileUrlFor(typed: string): string {
  const slashed = typed.replace(/\\/g, '/')
  const escaped = slashed.replace(/[%#?\s]/g, (c) => encodeURIComponent(c))
  if (escaped.startsWith('//')) return `file:${escaped}`
  return escaped.startsWith('/') ? `file://${escaped}` : `file:///${escaped}`
}

/** Whether a typed value is a local path rather than an address: /srv/wheels, C:\wheels, \\server\share. */
function looksLikePath(value: string): boolean {
  return value.startsWith('/') || value.startsWith('\\\\') || WINDOWS_DRIVE.test(value)
}

/**
 * The folder a file:// value names on the machine that runs the installs, or why it names none there.
 * Done here rather than with Node's fileURLToPath so the rule reads the same for both systems: on Linux
 * a host (file://server/…) or a drive letter (file:///C:/…) cannot be a local folder; on Windows the
 * path needs its drive letter, and file://server/share is the share \\server\share.
 */
export function mirrorFolderPath(
  field: MirrorField,
  value: string,
  os: MirrorOs,
): { path: string } | { problem: EnvCodedText } {
  const shown = shownValue(value)
  const url = new URL(value.trim())
  let decoded: string
  try {
    decoded = decodeURIComponent(url.pathname)
  } catch {
    decoded = '\0'
  }
  // %2F inside a name, or a NUL: no tool reads those as one folder.
  if (decoded.includes('\0') || /%2f|%5c/i.test(url.pathname)) {
    return { problem: envText('mirror_file_bad_path', { field, value: shown }) }
  }
  const host = url.hostname === 'localhost' ? '' : url.hostname
  if (os === 'win32') {
    if (host) return { path: `\\\\${host}${decoded.replace(/\//g, '\\')}` }
    const drive = decoded.replace(/^\//, '')
    if (!WINDOWS_DRIVE.test(drive))
      return { problem: envText('mirror_file_no_drive', { field, value: shown }) }
    return { path: drive.replace(/\//g, '\\') }
  }
  if (host) return { problem: envText('mirror_file_host', { field, value: shown, host: url.hostname }) }
  if (WINDOWS_DRIVE.test(decoded.replace(/^\//, ''))) {
    return { problem: envText('mirror_file_windows_path', { field, value: shown }) }
  }
  return { path: decoded }
}

/**
 * Why a mirror value cannot be used, or null when it can (the rule per field above). A file:// value
 * passes here when its path is well formed for `os`; whether the folder exists is asked on disk
 * (mirrorFolderPath, mirrorFolderMessage). The value is quoted without its password: error messages
 * end up in logs and screenshots.
 */
export function mirrorUrlProblem(field: MirrorField, value: string, os: MirrorOs): EnvCodedText | null {
  const shown = shownValue(value)
  const typed = value.trim()
  const folderOk = acceptsFolder(field)
  if (folderOk && looksLikePath(typed)) {
    return envText('mirror_path_not_url', { field, value: shown, suggested: shownValue(fileUrlFor(typed)) })
  }
  let url: URL
  try {
    url = new URL(typed)
  } catch {
    const example = field === 'proxy' ? 'http://proxy.example.com:3128' : 'https://mirror.example.com/simple'
    return envText('mirror_not_url', { field, value: shown, example })
  }
  const web = url.protocol === 'http:' || url.protocol === 'https:'
  if (!web && !(folderOk && url.protocol === 'file:')) {
    return envText(folderOk ? 'mirror_scheme_folder' : 'mirror_scheme', {
      field,
      value: shown,
      scheme: url.protocol,
    })
  }
  if (/[\s\p{Cc}]/u.test(typed)) {
    return envText('mirror_space', { field, value: shown })
  }
  if (url.protocol === 'file:') {
    const folder = mirrorFolderPath(field, typed, os)
    if ('problem' in folder) return folder.problem
  }
  return null
}

/** The refusal for a file:// folder that is missing, a file, or (for a package index) a bare folder of wheels. */
export function mirrorFolderMessage(
  field: MirrorField,
  value: string,
  folder: string,
  state: 'missing' | 'not-a-folder' | 'no-index',
): EnvCodedText {
  const code =
    state === 'missing'
      ? 'mirror_folder_missing'
      : state === 'not-a-folder'
        ? 'mirror_not_folder'
        : 'mirror_folder_flat'
  return envText(code, { field, value: shownValue(value), path: folder })
}

/** The problem with a typed source that no file system check is needed to see (coded), or null. */
export function sourceSyntaxProblem(value: string): EnvCodedText | null {
  const parsed = parseSource(value.trim())
  return parsed.kind === 'invalid'
    ? { message: parsed.message, code: parsed.code, params: parsed.params }
    : null
}

/** Whether the sd-scripts source needs checking on disk (a local folder) rather than being a git URL. */
export function sourceIsFolder(value: string): boolean {
  return parseSource(value.trim()).kind === 'folder'
}

export function sourceFolderMessage(value: string, state: 'missing' | 'not-a-folder'): EnvCodedText {
  return envText(state === 'missing' ? 'plan_source_folder_missing' : 'plan_source_not_folder', {
    source: value,
  })
}

/**
 * A value that still carries the mask where a password was (shown masked, then edited so that the
 * stored password cannot be matched to it) would save "****" as the password: ask for it instead.
 */
export function maskedPasswordProblem(field: EnvSettingField, value: string): EnvCodedText | null {
  if (
    !new RegExp(`^[a-z][a-z0-9+.-]*://[^/?#@]*${MASK.replace(/\*/g, '\\*')}[^/?#@]*@`, 'i').test(value.trim())
  )
    return null
  return envText('setting_password_masked', { field, mask: MASK })
}
