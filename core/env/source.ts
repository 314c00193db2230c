/**
 * What an sd-scripts source may be. It reaches `git clone` as an argument, so anything git could
 * read as an option (a leading "-") or as a transport that runs commands (`ext::`) is refused here,
 * before any plan is made, and the clone puts `--` before it as well.
 */

/** Transports git may use for a source; `ext::`, `fd::` and helpers like `foo::` are not among them. */
export const ALLOWED_SCHEMES = ['https', 'http', 'ssh', 'git', 'file'] as const

export type SourceProblem =
  'empty' | 'control_chars' | 'leading_dash' | 'surrounding_space' | 'scheme' | 'bad_url' | 'url_space'

export type ParsedSource =
  | { kind: 'url'; url: string }
  | { kind: 'folder'; path: string }
  | { kind: 'invalid'; problem: SourceProblem; message: string }

/** user@host:path, git's scp-like form: plain user and host names, a path of URL-safe characters not starting with "-" or "//". */
const SCP_LIKE =
  /^[A-Za-z0-9_][A-Za-z0-9._~+-]*@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:(?!-)(?!\/\/)[A-Za-z0-9._~/%+@-]+$/

/** Something that looks like a scheme ("ext::", "https:", "fd::"), as git reads it before "://" or "::". */
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*)(?:::|:\/\/)/

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

const invalid = (problem: SourceProblem, message: string): ParsedSource => ({
  kind: 'invalid',
  problem,
  message,
})

/**
 * Classifies a source as a git URL (of an allowed scheme, or scp-like user@host:path) or a folder.
 * A folder still has to exist; the service checks that. Never throws.
 */
export function parseSource(raw: string): ParsedSource {
  const shown = JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw)
  if (raw.trim() === '') {
    return invalid(
      'empty',
      'The sd-scripts source is empty. Enter a git URL or the path of a local sd-scripts folder.',
    )
  }
  if (CONTROL.test(raw)) {
    return invalid(
      'control_chars',
      `The sd-scripts source ${shown} contains a line break or another control character. Enter it on one line.`,
    )
  }
  if (raw !== raw.trim()) {
    return invalid(
      'surrounding_space',
      `The sd-scripts source ${shown} starts or ends with a space. Remove the spaces around it.`,
    )
  }
  if (raw.startsWith('-')) {
    return invalid(
      'leading_dash',
      `The sd-scripts source ${shown} starts with "-", which git would read as an option. Enter a git URL ` +
        '(https://…/sd-scripts.git) or the full path of a folder (for a folder named like that, write ./' +
        `${raw.slice(0, 40)}).`,
    )
  }
  const scheme = SCHEME_PREFIX.exec(raw)
  if (scheme) {
    const name = scheme[1]!.toLowerCase()
    if (
      !(ALLOWED_SCHEMES as readonly string[]).includes(name) ||
      raw.slice(scheme[1]!.length).startsWith('::')
    ) {
      return invalid(
        'scheme',
        `The sd-scripts source ${shown} uses "${scheme[1]}", which is not allowed. Use an https, http, ssh, git ` +
          'or file URL, user@host:path, or a local folder.',
      )
    }
    if (/\s/.test(raw)) {
      return invalid(
        'url_space',
        `The sd-scripts URL ${shown} contains a space. Write it as %20, or check the URL.`,
      )
    }
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return invalid(
        'bad_url',
        `The sd-scripts URL ${shown} is not a valid address. Check it, or use a local folder.`,
      )
    }
    if (name !== 'file' && url.hostname === '') {
      return invalid(
        'bad_url',
        `The sd-scripts URL ${shown} has no host name. Check it, or use a local folder.`,
      )
    }
    // ssh://-oProxyCommand=… : a host or user that ssh would read as an option.
    if (url.hostname.startsWith('-') || decodeURIComponent(url.username).startsWith('-')) {
      return invalid(
        'leading_dash',
        `The sd-scripts URL ${shown} has a host or user name starting with "-", which ssh would read as an option. Check the URL.`,
      )
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
