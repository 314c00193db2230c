import path from 'node:path'
import { userArgs } from './launch'

/**
 * A file:// URL as a path of the given platform (Node's own fileURLToPath follows the host platform):
 * file:///C:/x%20y is C:\x y on Windows, file://server/share is \\server\share, file:///home/a is /home/a.
 */
export function fileUrlToPath(url: string, platform: string): string | null {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return null
  }
  if (u.protocol !== 'file:') return null
  let pathname: string
  try {
    pathname = decodeURIComponent(u.pathname)
  } catch {
    return null
  }
  if (platform !== 'win32') return u.host && u.host !== 'localhost' ? null : pathname
  if (u.host && u.host !== 'localhost') return `\\\\${u.host}${pathname.replace(/\//g, '\\')}`
  return pathname.replace(/^\/(?=[A-Za-z]:)/, '').replace(/\//g, '\\')
}

/** Files one launch may hand over; more is a shell glob gone wrong. */
export const MAX_LAUNCH_FILES = 50

/**
 * The files and folders named on a launch's command line (the first launch's, or a second launch's that
 * the single-instance lock hands to the running app): `sdxl-studio config.toml ~/data/10_cat`, "Open with"
 * on Windows, a Linux launcher's %U (file:// URLs). Switches (Chromium's, Electron's, ours) are skipped,
 * relative paths are resolved against the folder the launch ran in, duplicates dropped.
 */
export function filesFromArgv(
  argv: readonly string[],
  cwd: string,
  opts: { defaultApp: boolean; platform?: string },
): string[] {
  const p = (opts.platform ?? process.platform) === 'win32' ? path.win32 : path.posix
  const out: string[] = []
  for (const arg of userArgs(argv, opts.defaultApp)) {
    if (arg === '' || arg.startsWith('-')) continue
    let file = arg
    if (/^file:\/\//i.test(arg)) {
      const converted = fileUrlToPath(arg, opts.platform ?? process.platform)
      if (converted === null) continue
      file = converted
    } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(arg)) continue // another URL scheme: not a file
    const resolved = p.resolve(cwd, file)
    if (!out.includes(resolved)) out.push(resolved)
    if (out.length >= MAX_LAUNCH_FILES) break
  }
  return out
}
