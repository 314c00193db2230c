import type { OpenDialogOptions } from 'electron'
import type { ParsedInput } from '../../core/api/contract'

export type PickInput = ParsedInput<'paths.pick'>

/**
 * The native open dialog's options for a 'paths.pick' request. Pure, so it is tested without
 * Electron; index.ts only shows the dialog. File mode always offers "All files" after the given
 * filters, so a model with an unusual extension can still be chosen.
 */
export function openDialogOptions(input: PickInput): OpenDialogOptions {
  const options: OpenDialogOptions = {
    properties: input.kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile'],
  }
  if (input.title) options.title = input.title
  const defaultPath = input.defaultPath?.trim()
  if (defaultPath) options.defaultPath = defaultPath
  if (input.kind === 'file' && input.filters?.length) {
    options.filters = [
      ...input.filters.map((f) => ({ name: f.name, extensions: [...f.extensions] })),
      { name: 'All files', extensions: ['*'] },
    ]
  }
  return options
}

/** The dialog's answer as the request's output: the one chosen path, or null when cancelled. */
export function pickResult(answer: { canceled: boolean; filePaths: string[] }): { path: string | null } {
  return { path: answer.canceled ? null : (answer.filePaths[0] ?? null) }
}
