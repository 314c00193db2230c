import { MASK, redactUrls } from './credentials'
import { envText } from './messages'
import { parseSource } from './source'

/** The env settings a user can type in; the names match EnvSettings / Mirrors. */
export type EnvSettingField = 'source' | 'pypiIndex' | 'torchIndex' | 'hfEndpoint' | 'pythonMirror' | 'proxy'
export type MirrorField = Exclude<EnvSettingField, 'source'>

const LABELS: Record<MirrorField, string> = {
  pypiIndex: 'PyPI index',
  torchIndex: 'torch index',
  hfEndpoint: 'Hugging Face endpoint',
  pythonMirror: 'Python download mirror',
  proxy: 'proxy',
}

/**
 * Why a mirror value cannot be used, or null when it can. pip, uv and huggingface_hub only accept
 * http(s) addresses here, so anything else would fail much later, in the middle of an install.
 * The value is shown without its password: error messages end up in logs and screenshots.
 */
export function mirrorUrlProblem(field: MirrorField, value: string): string | null {
  const label = LABELS[field]
  const shown = redactUrls(value)
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    return `The ${label} is not a web address: "${shown}". Enter a full URL such as ${field === 'proxy' ? 'http://proxy.example.com:3128' : 'https://mirror.example.com/simple'}, or leave it empty to use the default.`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `The ${label} must start with http:// or https://, not "${url.protocol}": "${shown}". Enter a web address, or leave it empty to use the default.`
  }
  if (/[\s\p{Cc}]/u.test(value.trim())) {
    return `The ${label} contains a space or a control character: "${shown}". Enter the address on one line, spaces written as %20.`
  }
  return null
}

/** The problem with a typed source that no file system check is needed to see, or null. */
export function sourceSyntaxProblem(value: string): string | null {
  const parsed = parseSource(value.trim())
  return parsed.kind === 'invalid' ? parsed.message : null
}

/** Whether the sd-scripts source needs checking on disk (a local folder) rather than being a git URL. */
export function sourceIsFolder(value: string): boolean {
  return parseSource(value.trim()).kind === 'folder'
}

export function sourceFolderMessage(value: string, state: 'missing' | 'not-a-folder') {
  return envText(state === 'missing' ? 'plan_source_folder_missing' : 'plan_source_not_folder', {
    source: value,
  })
}

export function sourceFolderProblem(value: string, state: 'missing' | 'not-a-folder'): string {
  return sourceFolderMessage(value, state).message
}

/**
 * A value that still carries the mask where a password was (shown masked, then edited so that the
 * stored password cannot be matched to it) would save "****" as the password: ask for it instead.
 */
export function maskedPasswordProblem(field: EnvSettingField, value: string): string | null {
  if (
    !new RegExp(`^[a-z][a-z0-9+.-]*://[^/?#@]*${MASK.replace(/\*/g, '\\*')}[^/?#@]*@`, 'i').test(value.trim())
  )
    return null
  const label = field === 'source' ? 'sd-scripts source' : LABELS[field]
  return `The ${label} address was changed, so its stored password no longer applies. Type the password again in place of ${MASK}.`
}
