import os from 'node:os'
import path from 'node:path'

/**
 * Where the app keeps environments, presets, runs and settings. The same folder for the desktop app,
 * headless mode and the CLI, so all three see the same state. SDXL_STUDIO_DATA_DIR overrides it.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SDXL_STUDIO_DATA_DIR) return path.resolve(env.SDXL_STUDIO_DATA_DIR)
  if (platform === 'win32') {
    const base = env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local')
    return path.join(base, 'SDXL Studio')
  }
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'SDXL Studio')
  const base = env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share')
  return path.join(base, 'sdxl-studio')
}
