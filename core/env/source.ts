/**
 * What an sd-scripts source may be. It reaches `git clone` as an argument, so anything git could
 * read as an option (a leading "-") or as a transport that runs commands (`ext::`) is refused here,
 * before any plan is made, and the clone puts `--` before it as well.
 */

import { envText, type EnvCode, type EnvParams } from './messages'

/** Transports git may use for a source; `ext::`, `fd::` and helpers like `foo::` are not among them. */
export const ALLOWED_SCHEMES = ['https', 'http', 'ssh', 'git', 'file'] as const

export type SourceProblem =
  'empty' | 'control_chars' | 'leading_dash' | 'surrounding_space' | 'scheme' | 'bad_url' | 'url_space'

export type ParsedSource =
  | { kind: 'url'; url: string }
  | { kind: 'folder'; path: string }
  | { kind: 'invalid'; problem: SourceProblem; message: string; code: EnvCode; params: EnvParams }

/** user@host:path, git's scp-like form: plain user and host names, a path of URL-safe characters not starting with "-" or "//". */
const SCP_LIKE =
  /^[A-Za-z0-9_][A-Za-z0-9._~+-]*@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:(?!-)(?!\/\/)[A-Za-z0-9._~/%+@-]+$/

/** Something that looks like a scheme ("ext::", "https:", "fd::"), as git reads it before "://" or "::". */
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*)(?:::|:\/\/)/

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** A refused source: the English text with its code and parameters (core/env/messages.ts). */
const invalid = (problem: SourceProblem, code: EnvCode, params: EnvParams = {}): ParsedSource => ({
  kind: 'invalid',
  problem,
  ...envText(code, params),
})

/**
 * Classifies a source as a git URL (of an allowed scheme, or scp-like user@host:path) or a folder.
 * A folder still has to exist; the service checks that. Never throws.
 */
export function parseSource(raw: string): ParsedSource {
  const shown = JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw)
  if (raw.trim() === '') {
    return invalid('empty', 'source_empty')
  }
  if (CONTROL.test(raw)) {
    return invalid('control_chars', 'source_control_chars', { source: shown })
  }
  if (raw !== raw.trim()) {
    return invalid('surrounding_space', 'source_surrounding_space', { source: shown })
  }
  if (raw.startsWith('-')) {
    return invalid('leading_dash', 'source_leading_dash', { source: shown, folder: raw.slice(0, 40) })
  }
  const scheme = SCHEME_PREFIX.exec(raw)
  if (scheme) {
    const name = scheme[1]!.toLowerCase()
    if (
      !(ALLOWED_SCHEMES as readonly string[]).includes(name) ||
      raw.slice(scheme[1]!.length).startsWith('::')
    ) {
      return invalid('scheme', 'source_scheme', { source: shown, scheme: scheme[1]! })
    }
    if (/\s/.test(raw)) {
      return invalid('url_space', 'source_url_space', { source: shown })
    }
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return invalid('bad_url', 'source_bad_url', { source: shown })
    }
    if (name !== 'file' && url.hostname === '') {
      return invalid('bad_url', 'source_no_host', { source: shown })
    }
    // ssh://-oProxyCommand=… : a host or user that ssh would read as an option.
    if (url.hostname.startsWith('-') || decodeURIComponent(url.username).startsWith('-')) {
      return invalid('leading_dash', 'source_ssh_dash', { source: shown })
    }
    return { kind: 'url', url: raw }
  }
  if (SCP_LIKE.test(raw)) return { kind: 'url', url: raw }
  return { kind: 'folder', path: raw }
}

/** A git URL (an allowed scheme, or scp-like user@host:path) rather than a local folder or something refused. */
export function isGitUrl(source: string): boolean {
  return parseSource(source).kind === 'url'
}
