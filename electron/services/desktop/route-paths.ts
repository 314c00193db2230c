import { promises as fs } from 'node:fs'
import path from 'node:path'
import {
  MAX_CONFIG_BYTES,
  planDrop,
  wantsContent,
  type DropPlan,
  type DroppedItem,
} from '../../../core/desktop/drop-policy'

/**
 * Reads a small text file for an import, refusing anything that is not a regular file (a FIFO named
 * config.json must not block the app) or is bigger than a config can be. A UTF-8 BOM (Windows editors
 * write one) is dropped.
 */
export async function readConfigText(file: string, max = MAX_CONFIG_BYTES): Promise<string> {
  const handle = await fs.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0))
  try {
    const st = await handle.stat()
    if (!st.isFile()) throw new Error('not a regular file')
    if (st.size > max) throw new Error(`${st.size} bytes, more than a config can be (${max})`)
    const text = await handle.readFile({ encoding: 'utf8' })
    return text.startsWith('\uFEFF') ? text.slice(1) : text
  } finally {
    await handle.close()
  }
}

/** What one path is on disk, with a config file's text read (the pure policy then decides where it goes). */
export async function describePath(given: string): Promise<DroppedItem> {
  const p = path.resolve(given)
  const name = path.basename(p) || p
  let st
  try {
    st = await fs.stat(p)
  } catch {
    return { name, path: p, kind: 'missing' }
  }
  if (st.isDirectory()) return { name, path: p, kind: 'folder' }
  const item: DroppedItem = { name, path: p, kind: 'file', size: st.size }
  if (wantsContent(item)) {
    try {
      item.text = await readConfigText(p)
    } catch (error) {
      item.text = null
      item.readError = (error as Error).message
    }
  }
  return item
}

/** Routes paths (a desktop drop, a second launch's arguments, a recent entry) into intents and problems. */
export async function routePaths(
  paths: readonly string[],
): Promise<{ plan: DropPlan; items: DroppedItem[] }> {
  const items: DroppedItem[] = []
  for (const p of paths.slice(0, 60)) items.push(await describePath(p))
  // planDrop reports the ones beyond its limit; pass the count on without reading them.
  const rest = paths.slice(60).map((p): DroppedItem => ({ name: path.basename(p), path: p, kind: 'missing' }))
  return { plan: planDrop([...items, ...rest]), items }
}
