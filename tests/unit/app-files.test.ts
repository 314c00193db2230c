import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  cliBundle,
  detectLayout,
  rendererDir,
  resourceFile,
  resourcesDir,
  type AppLayout,
} from '../../electron/services/app-files'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe.skipIf(process.platform === 'win32')('where the app finds its own files', () => {
  it('an installed app: the folder that holds app.asar, from the main bundle or the unpacked CLI', () => {
    const res = '/opt/SDXL Studio/resources'
    for (const code of [`${res}/app.asar/out/main/index.cjs`, `${res}/app.asar.unpacked/out/cli/index.js`]) {
      expect(detectLayout(code)).toEqual({ kind: 'installed', resourcesPath: res })
      // Electron's process.resourcesPath agrees: used as is.
      expect(detectLayout(code, `${res}/`)).toEqual({ kind: 'installed', resourcesPath: res })
    }
    // A resourcesPath that disagrees with where the code is (another Electron's) is not trusted.
    expect(detectLayout(`${res}/app.asar/out/main/index.cjs`, '/usr/lib/electron/resources')).toEqual({
      kind: 'installed',
      resourcesPath: res,
    })
    // Cyrillic and spaces in the install path (an AppImage mounted under a Russian home folder).
    const ru = '/home/Иван/Приложения/SDXL Studio/resources'
    expect(detectLayout(`${ru}/app.asar/out/main/index.cjs`)).toEqual({
      kind: 'installed',
      resourcesPath: ru,
    })
  })

  it('a source checkout: the repository, from the sources or a bundle in out/', () => {
    for (const code of ['electron/services/app-files.ts', 'out/main/index.cjs', 'out/cli/index.js']) {
      expect(detectLayout(path.join(repoRoot, code)), code).toEqual({ kind: 'checkout', repoRoot })
    }
    // A folder merely named like the archive is not an installed app.
    expect(detectLayout('/srv/app.asar.backup/x/index.js').kind).toBe('unknown')
    expect(detectLayout('/nonexistent/somewhere/index.js')).toEqual({
      kind: 'unknown',
      from: '/nonexistent/somewhere/index.js',
    })
  })

  it('resources, the renderer and the CLI bundle for each layout; SDXL_STUDIO_RESOURCES overrides', () => {
    const installed: AppLayout = { kind: 'installed', resourcesPath: '/opt/SDXL Studio/resources' }
    const checkout: AppLayout = { kind: 'checkout', repoRoot: '/src/sdxl-studio' }
    expect(resourcesDir({}, installed)).toBe('/opt/SDXL Studio/resources')
    expect(resourcesDir({}, checkout)).toBe('/src/sdxl-studio/resources')
    expect(resourcesDir({ SDXL_STUDIO_RESOURCES: '/elsewhere/res' }, installed)).toBe('/elsewhere/res')
    expect(resourcesDir({ SDXL_STUDIO_RESOURCES: '' }, installed)).toBe('/opt/SDXL Studio/resources')
    expect(rendererDir(installed)).toBe('/opt/SDXL Studio/resources/app.asar.unpacked/out/renderer')
    expect(rendererDir(checkout)).toBe('/src/sdxl-studio/out/renderer')
    expect(cliBundle(installed)).toBe('/opt/SDXL Studio/resources/app.asar.unpacked/out/cli/index.js')
    expect(cliBundle(checkout)).toBe('/src/sdxl-studio/out/cli/index.js')
  })

  it('this checkout: probe.py is found where the tests and the services look', () => {
    expect(resourceFile({}, 'env', 'probe.py')).toBe(path.join(repoRoot, 'resources', 'env', 'probe.py'))
  })
})
