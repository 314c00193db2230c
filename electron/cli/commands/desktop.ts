import path from 'node:path'
import type { RecentLists } from '../../../core/api/domains/desktop'
import type { DropIntent, DropProblem } from '../../../core/desktop/drop-policy'
import { CliUsageError, command, jsonOption, printJson, type CliCommand } from '../command'

/** One line per intent: what the app would do with the file (the same routing as a drop on the window). */
function describeIntent(i: DropIntent): string {
  switch (i.type) {
    case 'set-model-path':
      return `model           ${i.path}`
    case 'add-image-folder':
      return `image folder    ${i.path}`
    case 'import-kohya-json':
      return `kohya_ss config ${i.path ?? i.name}`
    case 'import-toml':
      return `sd-scripts TOML ${i.path ?? i.name}${i.dataset ? ' (+ dataset config)' : ''}${i.prompts ? ' (+ prompts)' : ''}`
  }
}

/** English text for a problem code (the app shows them translated). */
const PROBLEM_TEXT: Record<DropProblem['code'], string> = {
  path_missing: 'does not exist',
  folder_needs_server_path: 'is a folder, but no path was given',
  model_needs_server_path: 'is a model, but no path was given',
  images_not_folder: 'is an image: give the folder that holds the images',
  unsupported_file:
    'is not an image folder, a .safetensors/.ckpt model, a kohya_ss .json or an sd-scripts .toml',
  config_too_big: 'is too big to be a config',
  config_unreadable: 'could not be read',
  config_not_json: 'is not a JSON config',
  dataset_toml_alone: 'is a dataset config: give it together with its config.toml',
  prompts_alone: 'is a prompts file: give it together with its config.toml',
  several_models: 'was not used: one base model at a time',
  several_configs: 'was not used: one config at a time',
  too_many_items: 'and more were not opened: at most 50 items at a time',
}

function formatRecent(lists: RecentLists): string {
  const section = (title: string, entries: RecentLists['configs']) =>
    [`${title}:`, ...(entries.length ? entries.map((e) => `  ${e.path}`) : ['  (none)'])].join('\n')
  return `${section('Recent configs', lists.configs)}\n${section('Recent image folders', lists.folders)}\n`
}

function recentKind(value: unknown): 'config' | 'folder' {
  if (value === 'config' || value === 'folder') return value
  throw new CliUsageError(`--kind is config or folder (got "${String(value)}").`)
}

export const desktopCommands: CliCommand[] = [
  command({
    path: ['files', 'open'],
    args: '<path…>',
    summary:
      'Where files go when opened or dropped on the app: image folder, model, kohya_ss JSON or sd-scripts TOML (adds them to the recent lists)',
    options: { ...jsonOption },
    async run({ values, positionals }, ctx) {
      if (positionals.length === 0)
        throw new CliUsageError('Give one or more files or folders: files open <path…> [--json]')
      // Relative to where the command runs, as a shell user expects.
      const plan = await ctx.call('files.open', { paths: positionals.map((p) => path.resolve(p)) })
      if (values.json) {
        // The config texts are long; the routing is what a script wants.
        printJson(ctx.io, {
          intents: plan.intents.map((i) =>
            i.type === 'import-kohya-json' || i.type === 'import-toml'
              ? { type: i.type, name: i.name, path: i.path }
              : i,
          ),
          problems: plan.problems,
        })
      } else {
        const lines = plan.intents.map(describeIntent)
        for (const p of plan.problems)
          lines.push(
            `not opened:     ${p.params.name} ${PROBLEM_TEXT[p.code]}${p.params.detail ? ` (${p.params.detail})` : ''}`,
          )
        ctx.io.stdout(`${lines.join('\n')}\n`)
      }
      return plan.problems.length && plan.intents.length === 0 ? 1 : 0
    },
  }),
  command({
    path: ['recent', 'list'],
    summary: 'Recently opened configs and image folders (the File menu of the desktop app)',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const lists = await ctx.call('recent.list', {})
      if (values.json) printJson(ctx.io, lists)
      else ctx.io.stdout(formatRecent(lists))
      return 0
    },
  }),
  command({
    path: ['recent', 'add'],
    args: '<path>',
    summary: 'Put a config (--kind config) or an image folder (--kind folder) first in its recent list',
    options: { ...jsonOption, kind: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const p = positionals[0]
      if (!p) throw new CliUsageError('Give the path: recent add <path> --kind config|folder')
      const lists = await ctx.call('recent.add', { kind: recentKind(values.kind), path: path.resolve(p) })
      if (values.json) printJson(ctx.io, lists)
      else ctx.io.stdout(formatRecent(lists))
      return 0
    },
  }),
  command({
    path: ['recent', 'clear'],
    summary: 'Empty the recent lists (--kind config or folder: only that one)',
    options: { ...jsonOption, kind: { type: 'string' } },
    async run({ values }, ctx) {
      const lists = await ctx.call(
        'recent.clear',
        values.kind === undefined ? {} : { kind: recentKind(values.kind) },
      )
      if (values.json) printJson(ctx.io, lists)
      else ctx.io.stdout(formatRecent(lists))
      return 0
    },
  }),
]
