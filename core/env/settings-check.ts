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
 * Why a mirror value cannot be used, or null when it can. pip, uv and huggingface_hub only accept
 * http(s) addresses here, so anything else would fail much later, in the middle of an install.
 * The value is quoted without its password: error messages end up in logs and screenshots.
 */
export function mirrorUrlProblem(field: MirrorField, value: string): EnvCodedText | null {
  const shown = shownValue(value)
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    const example = field === 'proxy' ? 'http://proxy.example.com:3128' : 'https://mirror.example.com/simple'
    return envText('mirror_not_url', { field, value: shown, example })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return envText('mirror_scheme', { field, value: shown, scheme: url.protocol })
  }
  if (/[\s\p{Cc}]/u.test(value.trim())) {
    return envText('mirror_space', { field, value: shown })
  }
  return null
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
