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

// No comma: PowerShell reads a,b as an array (two arguments).
const POWERSHELL_SAFE = /^[A-Za-z0-9_\-+=.\\/:]+$/

/**
 * PowerShell: single quotes, where nothing expands ($var, $(…), backticks); a single quote inside is
 * doubled. PowerShell also reads the typographic quotes ‘ ’ ‚ ‛ as single quotes, so they are doubled too.
 */
export function quotePowerShell(arg: string): string {
  if (arg !== '' && POWERSHELL_SAFE.test(arg)) return arg
  return `'${arg.replace(/['\u2018\u2019\u201a\u201b]/g, '$&$&')}'`
}

/**
 * cmd.exe, as a line of a .cmd file: quoted for the program's own argument parser (quoteWindows), then
 * every character cmd treats specially escaped with ^ (quotes included, so cmd never switches into its
 * quoted mode and all carets are read as escapes), and % doubled (a batch file expands %VAR% before
 * anything else). Delayed expansion (!VAR!) must be off, as train.cmd sets it. A line break cannot be
 * written on a cmd line at all.
 */
export function quoteCmd(arg: string): string {
  if (/[\r\n]/.test(arg)) throw new Error('A cmd.exe command line cannot hold a line break.')
  return quoteWindows(arg)
    .replace(/[()!^"<>&|]/g, '^$&')
    .replace(/%/g, '%%')
}

export type Shell = 'posix' | 'powershell' | 'cmd'

/** One command line for a shell: argv quoted so the program receives exactly these arguments. */
export function commandLine(argv: readonly string[], shell: Shell): string {
  if (shell === 'posix') return argv.map(quotePosix).join(' ')
  if (shell === 'cmd') return argv.map(quoteCmd).join(' ')
  // A quoted program name needs the call operator, or PowerShell reads it as a string.
  return `& ${argv.map(quotePowerShell).join(' ')}`
}

/**
 * The command to show or paste: POSIX sh (bash, zsh) on Linux and macOS, PowerShell on Windows (its
 * default shell; cmd users get train.cmd from `config export`).
 */
export function displayCommand(argv: string[], flavor: ShellFlavor): string {
  return commandLine(argv, flavor === 'windows' ? 'powershell' : 'posix')
}

/** Joins path parts with the separator of the platform the command will run on (core has no node:path). */
export function joinPath(flavor: ShellFlavor, ...parts: string[]): string {
  const sep = flavor === 'windows' ? '\\' : '/'
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') || p : p.replace(/^[\\/]+|[\\/]+$/g, '')))
    .join(sep)
}
