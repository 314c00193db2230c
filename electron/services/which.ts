import { accessSync, constants, statSync } from 'node:fs'
import { pathCandidates, type LookupPlatform } from '../../core/platform/path-lookup'

/**
 * Finds a program on PATH, the one way the whole app does it (installs, runs, nvidia-smi): Path or
 * PATH, PATHEXT on Windows, a regular file that is executable on Linux. The current folder is never
 * searched (cmd.exe would; a program planted in a dataset folder must not win). Null when absent.
 */
export function findExecutable(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: LookupPlatform | NodeJS.Platform = process.platform,
): string | null {
  for (const candidate of pathCandidates(name, env, platform)) {
    if (isExecutableFile(candidate, platform)) return candidate
  }
  return null
}

/** A regular file (not a folder, not a FIFO) that this user may run; on Windows existing is enough. */
export function isExecutableFile(file: string, platform: string = process.platform): boolean {
  try {
    if (!statSync(file).isFile()) return false
    if (platform !== 'win32') accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
