import { z } from 'zod'
import { baseName } from './messages'

/**
 * Where a file or folder given to the app goes: dropped on the window or the headless page, named on
 * the command line of a second launch, or picked from the recent list. One decision for all of them:
 *
 * - a folder → the Train page's dataset (an image folder);
 * - a .safetensors/.ckpt file → the Train page's base model;
 * - a kohya_ss GUI .json → the kohya_ss import;
 * - an sd-scripts config.toml (with its dataset.toml and prompts .txt when dropped together) → the TOML import.
 *
 * A browser gives a page no file-system paths: there, config files still work (their content is read in
 * the page), but a folder or a model needs its path on the machine running SDXL Studio, which the user
 * types or browses to; the problem list says so.
 */

/** Configs are small; anything bigger is not one (and must not be read into memory whole). */
export const MAX_CONFIG_BYTES = 2_000_000
/** What one drop or launch may carry; more is a mistake (a whole folder's files selected). */
export const MAX_DROPPED_ITEMS = 50

export const DropIntent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('set-model-path'), path: z.string().min(1) }),
  z.object({ type: z.literal('add-image-folder'), path: z.string().min(1) }),
  z.object({
    type: z.literal('import-kohya-json'),
    name: z.string(),
    path: z.string().nullable(),
    text: z.string().max(MAX_CONFIG_BYTES),
  }),
  z.object({
    type: z.literal('import-toml'),
    name: z.string(),
    path: z.string().nullable(),
    /** config.toml (--config_file) text. */
    config: z.string().max(MAX_CONFIG_BYTES),
    /** dataset.toml (--dataset_config) text, when dropped with it. */
    dataset: z.string().max(MAX_CONFIG_BYTES).optional(),
    /** The sample prompts file, when dropped with it. */
    prompts: z.string().max(MAX_CONFIG_BYTES).optional(),
  }),
])
export type DropIntent = z.infer<typeof DropIntent>

export const DROP_PROBLEM_CODES = [
  'path_missing',
  'folder_needs_server_path',
  'model_needs_server_path',
  'images_not_folder',
  'unsupported_file',
  'config_too_big',
  'config_unreadable',
  'config_not_json',
  'dataset_toml_alone',
  'prompts_alone',
  'several_models',
  'several_configs',
  'too_many_items',
] as const

export const DropProblem = z.object({
  code: z.enum(DROP_PROBLEM_CODES),
  /** name: the file or folder; detail: a parse error or a count. */
  params: z.object({ name: z.string(), detail: z.string().optional() }),
})
export type DropProblem = z.infer<typeof DropProblem>

export const DropPlan = z.object({ intents: z.array(DropIntent), problems: z.array(DropProblem) })
export type DropPlan = z.infer<typeof DropPlan>

export interface DroppedItem {
  name: string
  /** null in a browser (no file-system paths there). */
  path: string | null
  kind: 'folder' | 'file' | 'missing'
  size?: number | null
  /** The content of a config file (role json, toml or text), read by the caller; null when unreadable. */
  text?: string | null
  /** Why it could not be read, when text is null. */
  readError?: string
}

export type FileRole = 'model' | 'json' | 'toml' | 'text' | 'image' | 'other'

export function fileRole(name: string): FileRole {
  const ext = /\.([^./\\]+)$/.exec(name.toLowerCase())?.[1] ?? ''
  if (ext === 'safetensors' || ext === 'ckpt') return 'model'
  if (ext === 'json') return 'json'
  if (ext === 'toml') return 'toml'
  if (ext === 'txt') return 'text'
  if (['png', 'jpg', 'jpeg', 'webp', 'bmp', 'avif', 'jxl'].includes(ext)) return 'image'
  return 'other'
}

/** Whether the caller must read the item's content before planning (and may: it is small enough). */
export function wantsContent(item: Pick<DroppedItem, 'name' | 'kind' | 'size'>): boolean {
  if (item.kind !== 'file') return false
  const role = fileRole(item.name)
  if (role !== 'json' && role !== 'toml' && role !== 'text') return false
  return item.size === undefined || item.size === null || item.size <= MAX_CONFIG_BYTES
}

/** sd-scripts' dataset config has [[datasets]] tables; its training config never does. */
export function isDatasetToml(text: string): boolean {
  return /^\s*\[\[\s*datasets\s*\]\]/m.test(text)
}

function displayName(item: DroppedItem): string {
  return item.path ?? item.name
}

export function planDrop(items: readonly DroppedItem[]): DropPlan {
  const intents: DropIntent[] = []
  const problems: DropProblem[] = []
  const list = items.slice(0, MAX_DROPPED_ITEMS)
  if (items.length > MAX_DROPPED_ITEMS)
    problems.push({
      code: 'too_many_items',
      params: {
        name: baseName(items[MAX_DROPPED_ITEMS]?.name ?? ''),
        detail: String(items.length - MAX_DROPPED_ITEMS),
      },
    })
  const tomls: Array<{ item: DroppedItem; text: string; dataset: boolean }> = []
  const texts: Array<{ item: DroppedItem; text: string }> = []
  let model = false
  let config = false
  const readable = (item: DroppedItem): string | null => {
    if (item.size !== undefined && item.size !== null && item.size > MAX_CONFIG_BYTES) {
      problems.push({
        code: 'config_too_big',
        params: { name: displayName(item), detail: String(item.size) },
      })
      return null
    }
    if (typeof item.text !== 'string') {
      problems.push({
        code: 'config_unreadable',
        params: { name: displayName(item), detail: item.readError ?? '' },
      })
      return null
    }
    if (item.text.length > MAX_CONFIG_BYTES) {
      problems.push({
        code: 'config_too_big',
        params: { name: displayName(item), detail: String(item.text.length) },
      })
      return null
    }
    return item.text
  }

  for (const item of list) {
    const name = displayName(item)
    if (item.kind === 'missing') {
      problems.push({ code: 'path_missing', params: { name } })
      continue
    }
    if (item.kind === 'folder') {
      if (item.path) intents.push({ type: 'add-image-folder', path: item.path })
      else problems.push({ code: 'folder_needs_server_path', params: { name } })
      continue
    }
    switch (fileRole(item.name)) {
      case 'model':
        if (!item.path) problems.push({ code: 'model_needs_server_path', params: { name } })
        else if (model) problems.push({ code: 'several_models', params: { name } })
        else {
          model = true
          intents.push({ type: 'set-model-path', path: item.path })
        }
        break
      case 'json': {
        const text = readable(item)
        if (text === null) break
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch (error) {
          problems.push({ code: 'config_not_json', params: { name, detail: (error as Error).message } })
          break
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          problems.push({ code: 'config_not_json', params: { name, detail: 'not an object' } })
          break
        }
        if (config) problems.push({ code: 'several_configs', params: { name } })
        else {
          config = true
          intents.push({ type: 'import-kohya-json', name: item.name, path: item.path, text })
        }
        break
      }
      case 'toml': {
        const text = readable(item)
        if (text !== null) tomls.push({ item, text, dataset: isDatasetToml(text) })
        break
      }
      case 'text': {
        const text = readable(item)
        if (text !== null) texts.push({ item, text })
        break
      }
      case 'image':
        problems.push({ code: 'images_not_folder', params: { name } })
        break
      default:
        problems.push({ code: 'unsupported_file', params: { name } })
    }
  }

  // config.toml, with the dataset.toml and prompts file dropped together with it.
  const configs = tomls.filter((t) => !t.dataset)
  const datasets = tomls.filter((t) => t.dataset)
  const first = configs[0]
  if (first && !config) {
    config = true
    const dataset = datasets[0]
    const prompts = texts[0]
    intents.push({
      type: 'import-toml',
      name: first.item.name,
      path: first.item.path,
      config: first.text,
      ...(dataset ? { dataset: dataset.text } : {}),
      ...(prompts ? { prompts: prompts.text } : {}),
    })
    for (const extra of [...configs.slice(1), ...datasets.slice(1)])
      problems.push({ code: 'several_configs', params: { name: displayName(extra.item) } })
    for (const extra of texts.slice(1))
      problems.push({ code: 'several_configs', params: { name: displayName(extra.item) } })
  } else {
    for (const c of configs) problems.push({ code: 'several_configs', params: { name: displayName(c.item) } })
    for (const d of datasets)
      problems.push({ code: 'dataset_toml_alone', params: { name: displayName(d.item) } })
    for (const p of texts) problems.push({ code: 'prompts_alone', params: { name: displayName(p.item) } })
  }
  return { intents, problems }
}
