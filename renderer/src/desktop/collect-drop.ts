import { MAX_CONFIG_BYTES, wantsContent, type DroppedItem } from '../../../core/desktop/drop-policy'

export interface CollectedFile {
  file: File
  isDirectory: boolean
  /** The file's path on disk (desktop app); '' in a browser. */
  path: string
}

/**
 * What a drop carried, read synchronously inside the drop event (the browser empties the DataTransfer
 * afterwards). Folders are told apart through the entry API; the desktop app adds each file's path.
 */
export function collectDropped(dt: DataTransfer, pathForFile?: (file: File) => string): CollectedFile[] {
  const out: CollectedFile[] = []
  const items = [...dt.items].filter((i) => i.kind === 'file')
  if (items.length > 0) {
    for (const item of items) {
      const file = item.getAsFile()
      if (!file) continue
      const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null
      out.push({ file, isDirectory: entry?.isDirectory ?? false, path: pathForFile?.(file) ?? '' })
    }
    return out
  }
  // Some browsers list files only here.
  for (const file of [...dt.files]) out.push({ file, isDirectory: false, path: pathForFile?.(file) ?? '' })
  return out
}

/** Files picked with a file input (the headless "Open config…"): plain files, never folders. */
export function collectPicked(files: FileList | readonly File[]): CollectedFile[] {
  return [...files].map((file) => ({ file, isDirectory: false, path: '' }))
}

/** Path-less items as the drop policy sees them; config files are read here, in the page. */
export async function readDropped(collected: readonly CollectedFile[]): Promise<DroppedItem[]> {
  const items: DroppedItem[] = []
  for (const c of collected) {
    if (c.isDirectory) {
      items.push({ name: c.file.name, path: null, kind: 'folder' })
      continue
    }
    const item: DroppedItem = { name: c.file.name, path: null, kind: 'file', size: c.file.size }
    if (wantsContent(item) && c.file.size <= MAX_CONFIG_BYTES) {
      try {
        const text = await c.file.text()
        item.text = text.startsWith('\uFEFF') ? text.slice(1) : text
      } catch (error) {
        item.text = null
        item.readError = error instanceof Error ? error.message : String(error)
      }
    }
    items.push(item)
  }
  return items
}
