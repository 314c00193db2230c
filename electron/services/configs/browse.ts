import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import { IMAGE_EXTENSIONS } from './dataset'

/**
 * A server-side file browser for the model and folder pickers: works the same in the desktop app and
 * in headless mode (where the browser cannot see the machine's files). Lists one folder at a time.
 */

export interface BrowseEntry {
  name: string
  path: string
  kind: 'dir' | 'file'
  size: number | null
}

export interface BrowseResult {
  path: string
  parent: string | null
  entries: BrowseEntry[]
  /** Folder entries only count images, for a quick look at a dataset folder. */
  images: number
  roots: string[]
}

async function roots(): Promise<string[]> {
  if (process.platform !== 'win32') return ['/', os.homedir()]
  const found: string[] = []
  for (const letter of 'CDEFGHIJKLMNOPQRSTUVWXYZ') {
    const root = `${letter}:\\`
    if (
      await fs.stat(root).then(
        () => true,
        () => false,
      )
    )
      found.push(root)
  }
  return [...found, os.homedir()]
}

export async function browse(dir: string | undefined, mode: 'folders' | 'models'): Promise<BrowseResult> {
  const at = path.resolve(dir && dir.trim() ? dir : os.homedir())
  let entries
  try {
    entries = await fs.readdir(at, { withFileTypes: true })
  } catch {
    throw new ApiError('not_found', `Folder not found or not readable: ${at}. Choose another folder.`, {
      kind: 'browse_not_found',
      path: at,
    })
  }
  const out: BrowseEntry[] = []
  let images = 0
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    const full = path.join(at, e.name)
    let isDir = e.isDirectory()
    if (e.isSymbolicLink())
      isDir = await fs.stat(full).then(
        (s) => s.isDirectory(),
        () => false,
      )
    if (isDir) out.push({ name: e.name, path: full, kind: 'dir', size: null })
    else if (IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) images++
    else if (mode === 'models' && /\.(safetensors|ckpt)$/i.test(e.name)) {
      const size = await fs.stat(full).then(
        (s) => s.size,
        () => null,
      )
      out.push({ name: e.name, path: full, kind: 'file', size })
    }
  }
  out.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1))
  const parent = path.dirname(at)
  return {
    path: at,
    parent: parent === at ? null : parent,
    entries: out.slice(0, 2000),
    images,
    roots: await roots(),
  }
}
