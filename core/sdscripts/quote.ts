/** Quoting for a command line shown to the user (and pasted into a shell by hand). */

export type ShellFlavor = 'windows' | 'posix'

const POSIX_SAFE = /^[A-Za-z0-9_\-+=.,/:@%]+$/
const WINDOWS_SAFE = /^[A-Za-z0-9_\-+=.,\\/:@]+$/

/** POSIX sh: single quotes, with embedded single quotes written as '\''. */
export function quotePosix(arg: string): string {
  if (arg !== '' && POSIX_SAFE.test(arg)) return arg
  return `'${arg.replace(/'/g, `'\\''`)}'`
}

/**
 * Windows: double quotes as CommandLineToArgvW (and Python's argv parser) read them: backslashes
 * before a quote are doubled and the quote escaped; trailing backslashes are doubled before the closing quote.
 */
export function quoteWindows(arg: string): string {
  if (arg !== '' && WINDOWS_SAFE.test(arg)) return arg
  const body = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')
  return `"${body}"`
}

export function displayCommand(argv: string[], flavor: ShellFlavor): string {
  const q = flavor === 'windows' ? quoteWindows : quotePosix
  return argv.map(q).join(' ')
}

/** Joins path parts with the separator of the platform the command will run on (core has no node:path). */
export function joinPath(flavor: ShellFlavor, ...parts: string[]): string {
  const sep = flavor === 'windows' ? '\\' : '/'
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') || p : p.replace(/^[\\/]+|[\\/]+$/g, '')))
    .join(sep)
}
