import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Where the app's own files are, in every way it runs. The one place that builds such paths.
 *
 * - Installed (electron-builder): the code is inside `<resources>/app.asar` (the desktop app) or
 *   `<resources>/app.asar.unpacked` (the CLI and headless mode, run as Node by the same binary). Python
 *   scripts are copied next to them by `extraResources` (`<resources>/env/probe.py`), because Python
 *   cannot open a file inside an asar archive. The built renderer is unpacked
 *   (`<resources>/app.asar.unpacked/out/renderer`) so headless mode serves plain files.
 * - A source checkout (development, tests, `npm run serve`): the repository's `resources/` and `out/`,
 *   found by walking up from this file (source in electron/services, or a bundle in out/<name>/).
 *
 * SDXL_STUDIO_RESOURCES overrides the resources folder (a relocated install, or a test).
 */

/** How the code runs: decides where to look. */
export type AppLayout =
  | { kind: 'installed'; resourcesPath: string }
  | { kind: 'checkout'; repoRoot: string }
  | { kind: 'unknown'; from: string }

/** A marker the resources folder always has: the environment probe. */
const PROBE = ['env', 'probe.py'] as const

/**
 * The layout for code at `codeFile`. An `app.asar` (or `app.asar.unpacked`) folder in the path means an
 * installed app; its parent is Electron's resources folder. `electronResourcesPath` is
 * `process.resourcesPath` when Electron's main process provides it; it wins when it agrees with the path.
 */
export function detectLayout(codeFile: string, electronResourcesPath?: string | undefined): AppLayout {
  const parts = path.resolve(codeFile).split(path.sep)
  const asarAt = parts.findIndex((p) => p === 'app.asar' || p === 'app.asar.unpacked')
  if (asarAt > 0) {
    const fromPath = parts.slice(0, asarAt).join(path.sep) || path.sep
    const resourcesPath =
      electronResourcesPath && path.resolve(electronResourcesPath) === path.resolve(fromPath)
        ? path.resolve(electronResourcesPath)
        : fromPath
    return { kind: 'installed', resourcesPath }
  }
  let dir = path.dirname(path.resolve(codeFile))
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'resources', ...PROBE)) && existsSync(path.join(dir, 'package.json'))) {
      return { kind: 'checkout', repoRoot: dir }
    }
    const parent = path.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return { kind: 'unknown', from: codeFile }
}

function electronResourcesPath(): string | undefined {
  const p = (process as NodeJS.Process & { resourcesPath?: unknown }).resourcesPath
  return typeof p === 'string' && p !== '' ? p : undefined
}

/** The layout of the running code. */
export function currentLayout(): AppLayout {
  return detectLayout(fileURLToPath(import.meta.url), electronResourcesPath())
}

/**
 * The folder that holds `env/probe.py` and `env/prefill_tokenizers.py`: files that programs outside
 * the app (Python) open by path.
 */
export function resourcesDir(env: NodeJS.ProcessEnv = process.env, layout = currentLayout()): string {
  if (env.SDXL_STUDIO_RESOURCES) return path.resolve(env.SDXL_STUDIO_RESOURCES)
  switch (layout.kind) {
    case 'installed':
      return layout.resourcesPath
    case 'checkout':
      return path.join(layout.repoRoot, 'resources')
    case 'unknown':
      // Nothing found: name the folder the app would use, so the error that follows names it too.
      return path.resolve('resources')
  }
}

/** One of the files in resourcesDir(), e.g. resourceFile(env, 'env', 'probe.py'). */
export function resourceFile(env: NodeJS.ProcessEnv, ...segments: string[]): string {
  return path.join(resourcesDir(env), ...segments)
}

/** The built renderer (index.html and assets) that headless mode serves. */
export function rendererDir(layout = currentLayout()): string {
  switch (layout.kind) {
    case 'installed':
      return path.join(layout.resourcesPath, 'app.asar.unpacked', 'out', 'renderer')
    case 'checkout':
      return path.join(layout.repoRoot, 'out', 'renderer')
    case 'unknown':
      return path.resolve('out', 'renderer')
  }
}

/** The bundled CLI (out/cli/index.js), which the installed app runs as Node for `cli` and `--serve`. */
export function cliBundle(layout = currentLayout()): string {
  switch (layout.kind) {
    case 'installed':
      return path.join(layout.resourcesPath, 'app.asar.unpacked', 'out', 'cli', 'index.js')
    case 'checkout':
      return path.join(layout.repoRoot, 'out', 'cli', 'index.js')
    case 'unknown':
      return path.resolve('out', 'cli', 'index.js')
  }
}
