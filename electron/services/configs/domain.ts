import { ApiError } from '../../../core/api/errors'
import type { Preset } from '../../../core/config/presets'
import { exportKohya, withFolderSubsets } from '../../../core/kohya/export'
import { importKohya, type ImportNote } from '../../../core/kohya/import'
import { importSdScriptsToml } from '../../../core/sdscripts/import-toml'
import { note, NoteError } from '../../../core/sdscripts/messages'
import { render } from '../../../core/sdscripts/render'
import { applyFix } from '../../../core/sdscripts/validate'
import type { ServiceOptions } from '../context'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { browse } from './browse'
import { inspectDataset, validateWithFiles } from './checks'
import { listRepeatFolders } from './dataset'
import { inspectModel } from './model'
import { DraftStore } from './draft-store'
import { PresetStore } from './presets-store'

function summary(p: Preset) {
  return {
    id: p.id,
    name: p.name,
    type: p.type,
    vram_tier_gb: p.vram_tier_gb,
    rationale: p.rationale,
    builtin: p.builtin,
  }
}

/** Imports a kohya_ss config and turns its parent folders into dataset subsets where they exist. */
export async function importKohyaWithFolders(json: unknown) {
  let imported
  try {
    imported = importKohya(json)
  } catch (error) {
    throw asApiError(error, 'kohya_import')
  }
  const warnings: ImportNote[] = [...imported.warnings]
  const folders: Array<{ dir: string; num_repeats: number; class_tokens: string; is_reg: boolean }> = []
  for (const [dir, is_reg] of [
    [imported.folders.train_data_dir, false],
    [imported.folders.reg_data_dir, true],
  ] as const) {
    if (!dir) continue
    try {
      const found = await listRepeatFolders(dir)
      if (!found.length) warnings.push(note('kohya_folder_no_subfolders', { dir }))
      folders.push(...found.map((f) => ({ ...f, is_reg })))
    } catch {
      warnings.push(note('kohya_folder_missing', { dir }))
    }
  }
  const config = withFolderSubsets(imported, folders)
  return { config, keys: imported.keys, unmapped: imported.unmapped, warnings, extras: imported.extras }
}

/** Opens sd-scripts' config.toml (+ dataset.toml, prompts file); errors carry their note code. */
export function importToml(files: { config: string; dataset?: string; prompts?: string }) {
  try {
    return importSdScriptsToml(files)
  } catch (error) {
    throw asApiError(error, 'toml_import')
  }
}

/** An import's refusal as an API error that keeps its code and parameters (the UI translates them). */
function asApiError(error: unknown, kind: string): unknown {
  return error instanceof NoteError
    ? new ApiError('domain', error.message, { kind, code: error.code, params: error.params })
    : error
}

export function createConfigsDomain(options: ServiceOptions) {
  const store = new PresetStore(options.dataDir)
  const drafts = new DraftStore(options.dataDir)
  const requests = {
    'presets.list': async () => (await store.list()).map(summary),
    'presets.get': async ({ id }) => {
      const p = await store.get(id)
      return { ...summary(p), config: p.config }
    },
    'presets.save': async (input) => summary(await store.save(input)),
    'presets.rename': async ({ id, name }) => summary(await store.rename(id, name)),
    'presets.delete': async ({ id }) => {
      await store.remove(id)
      return { deleted: id }
    },
    'presets.duplicate': async ({ id, name }) => summary(await store.duplicate(id, name)),
    'config.validate': async ({ config, checkFiles, packages }) =>
      validateWithFiles(config, { checkFiles, packages }),
    'config.applyFix': ({ config, fix }) => applyFix(config, fix),
    'config.render': ({ config, filesDir, sdScriptsDir, flavor, accelerate }) => {
      const r = render(config, {
        filesDir,
        sdScriptsDir,
        flavor: flavor ?? (process.platform === 'win32' ? 'windows' : 'posix'),
        accelerate,
      })
      return { script: r.script, files: { ...r.files }, argv: r.argv, display: r.display }
    },
    'config.importKohya': ({ json }) => importKohyaWithFolders(json),
    'config.exportKohya': ({ config }) => exportKohya(config),
    'config.importToml': (files) => importToml(files),
    'dataset.inspect': ({ config }) => inspectDataset(config),
    'model.inspect': ({ path }) => inspectModel(path),
    'draft.get': () => drafts.get(),
    'draft.save': ({ draft }) => drafts.save(draft),
    'draft.clear': () => drafts.clear(),
    'paths.browse': ({ path, mode }) => browse(path, mode),
    // The desktop app replaces this with a native dialog (electron/main passes an override to
    // createServices); headless mode and the CLI have no window to show one in.
    'paths.pick': () => {
      throw new ApiError(
        'unavailable',
        'Native dialogs exist only in the desktop app. Type the path, or use the folder browser (paths.browse).',
        { kind: 'no_native_dialogs' },
      )
    },
  } satisfies Partial<RequestHandlers>
  const subscriptions = {} satisfies Partial<SubscriptionHandlers>
  return { requests, subscriptions, store, drafts, dispose: () => undefined }
}
