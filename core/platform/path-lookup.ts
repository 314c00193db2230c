/**
 * The one description of how a program name is looked up on PATH, for Linux and Windows alike.
 * Pure (no file system): it lists the candidate files in the order the OS would try them; the caller
 * (electron/services/which.ts) takes the first that exists and is executable. Written as pure
 * functions so Windows rules (Path vs PATH, PATHEXT, quoted entries) are tested on any machine.
 */

export type LookupPlatform = 'win32' | 'linux' | 'darwin'

/** What Windows uses when PATHEXT is unset (cmd.exe's default list, in its order). */
export const DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD'

const isWindows = (platform: string) => platform === 'win32'

/**
 * A variable by name. Windows variable names are case-insensitive (the process environment says
 * "Path"), but a copied env object is a plain one: look the name up ignoring case there. On Linux
 * names are case-sensitive, so "Path" is not PATH.
 */
export function envValue(
  env: Record<string, string | undefined>,
  name: string,
  platform: string,
): string | undefined {
  if (!isWindows(platform)) return env[name]
  if (env[name] !== undefined) return env[name]
  const upper = name.toUpperCase()
  const key = Object.keys(env).find((k) => k.toUpperCase() === upper && env[k] !== undefined)
  return key === undefined ? undefined : env[key]
}

/** The folders PATH lists, in order: ';' on Windows (entries may be quoted), ':' elsewhere; empty ones dropped. */
export function pathDirs(env: Record<string, string | undefined>, platform: string): string[] {
  const raw = envValue(env, 'PATH', platform) ?? ''
  const parts = raw.split(isWindows(platform) ? ';' : ':')
  return parts
    .map((p) => (isWindows(platform) ? p.trim().replace(/^"(.*)"$/, '$1') : p))
    .filter((p) => p !== '')
}

/** PATHEXT as a list of lower-case extensions with their dot (Windows only; [''] elsewhere). */
export function pathExts(env: Record<string, string | undefined>, platform: string): string[] {
  if (!isWindows(platform)) return ['']
  const raw = envValue(env, 'PATHEXT', platform) ?? DEFAULT_PATHEXT
  const exts = raw
    .split(';')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => /^\.[a-z0-9_]+$/.test(e))
  return exts.length ? exts : DEFAULT_PATHEXT.toLowerCase().split(';')
}

/**
 * Joins a folder and a name (this module must not import node:path). On Windows a folder written
 * with forward slashes only ("C:/tools") keeps them: Windows accepts both, and mixing looks broken.
 */
export function joinFor(platform: string, dir: string, ...names: string[]): string {
  const sep = isWindows(platform) && (dir.includes('\\') || !dir.includes('/')) ? '\\' : '/'
  const trimmed = isWindows(platform) ? dir.replace(/[\\/]+$/, '') : dir.replace(/\/+$/, '')
  return [trimmed, ...names].join(sep)
}

/** True when the name is a path (has a separator), which is never looked up on PATH. */
export function hasDirectory(name: string, platform: string): boolean {
  return isWindows(platform) ? /[\\/]/.test(name) : name.includes('/')
}

/**
 * The file names a program name stands for: on Windows "git" is git.COM, git.EXE, … (PATHEXT order),
 * and a name that already ends in one of those extensions ("nvidia-smi.exe") is tried as it is first.
 */
export function executableNames(
  name: string,
  env: Record<string, string | undefined>,
  platform: string,
): string[] {
  if (!isWindows(platform)) return [name]
  const exts = pathExts(env, platform)
  const lower = name.toLowerCase()
  const hasExt = exts.some((e) => lower.endsWith(e))
  return hasExt ? [name, ...exts.map((e) => name + e)] : exts.map((e) => name + e)
}

/** Every file to try, in order, for a program name looked up on PATH. A name with a folder in it is not looked up. */
export function pathCandidates(
  name: string,
  env: Record<string, string | undefined>,
  platform: string,
): string[] {
  if (name === '' || hasDirectory(name, platform)) return []
  const names = executableNames(name, env, platform)
  const out: string[] = []
  for (const dir of pathDirs(env, platform)) for (const n of names) out.push(joinFor(platform, dir, n))
  return out
}
