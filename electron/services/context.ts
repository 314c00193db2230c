import type { AppInfo } from '../../core/api/domains/app'

/** What every domain service is built from. Tests build one pointing at a temporary folder. */
export interface ServiceOptions {
  dataDir: string
  mode: AppInfo['mode']
  /** Environment for child processes (PATH decides which nvidia-smi, git, python are found). */
  env: NodeJS.ProcessEnv
  version: string
}
