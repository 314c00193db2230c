import { readFileSync } from 'node:fs'
import path from 'node:path'
import { currentLayout } from './app-files'

/** Set by the bundlers (vite.cli.config.ts) from package.json; absent when running from source (tsx, vitest). */
declare const __SDXL_STUDIO_VERSION__: string | undefined

/**
 * The app's version from package.json. Bundles carry it as a constant, because an installed CLI runs
 * from app.asar.unpacked where no package.json sits above it; source runs read the checkout's file.
 */
export function appVersion(): string {
  if (typeof __SDXL_STUDIO_VERSION__ === 'string') return __SDXL_STUDIO_VERSION__
  const layout = currentLayout()
  if (layout.kind !== 'checkout') return '0.0.0'
  try {
    const pkg = JSON.parse(readFileSync(path.join(layout.repoRoot, 'package.json'), 'utf8')) as {
      version?: unknown
    }
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}
