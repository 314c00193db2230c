import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { writeJsonAtomic } from '../store/atomic'

/**
 * What a scan learned about each file of a folder, kept by file size and modification time so an
 * unchanged file is never opened again: <dataDir>/cache/dataset/<hash of the folder path>.json.
 * A damaged or foreign cache file is ignored (the folder is simply scanned again).
 */

const Header = z.object({
  format: z.enum(['png', 'jpeg', 'webp', 'bmp']).nullable(),
  width: z.number(),
  height: z.number(),
  realWidth: z.number(),
  realHeight: z.number(),
  orientation: z.number().nullable(),
  damage: z.enum(['unreadable', 'truncated', 'maybe_truncated']).nullable(),
})

const ImageEntry = z.object({
  size: z.number(),
  mtime: z.number(),
  header: Header,
  hash: z.string().nullable(),
})
const CaptionEntry = z.object({
  size: z.number(),
  mtime: z.number(),
  status: z.enum(['ok', 'empty_file', 'not_utf8']),
  caption: z.string(),
  multiline: z.boolean(),
  bom: z.boolean(),
  tokens: z.number(),
  tokenizer: z.enum(['clip', 'estimate']),
})

const CacheFile = z.object({
  version: z.literal(1),
  dir: z.string(),
  images: z.record(z.string(), ImageEntry),
  captions: z.record(z.string(), CaptionEntry),
})
export type ImageEntry = z.infer<typeof ImageEntry>
export type CaptionEntry = z.infer<typeof CaptionEntry>
export type FolderCache = z.infer<typeof CacheFile>

export class ScanCache {
  private readonly memory = new Map<string, FolderCache>()
  private readonly dirty = new Set<string>()

  constructor(private readonly root: string) {}

  private file(dir: string): string {
    return path.join(this.root, `${createHash('sha1').update(dir).digest('hex')}.json`)
  }

  async folder(dir: string): Promise<FolderCache> {
    const hit = this.memory.get(dir)
    if (hit) return hit
    let loaded: FolderCache = { version: 1, dir, images: {}, captions: {} }
    try {
      const parsed = CacheFile.safeParse(JSON.parse(await fs.readFile(this.file(dir), 'utf8')))
      if (parsed.success && parsed.data.dir === dir) loaded = parsed.data
    } catch {
      // no cache yet, or unreadable: scan from scratch
    }
    // A few folders in memory are plenty (the pages scan one config at a time).
    if (this.memory.size >= 16) this.memory.delete(this.memory.keys().next().value as string)
    this.memory.set(dir, loaded)
    return loaded
  }

  markDirty(dir: string): void {
    this.dirty.add(dir)
  }

  /** Writes the folders changed since the last save (atomically); a failure only costs speed next time. */
  async save(): Promise<void> {
    const dirs = [...this.dirty]
    this.dirty.clear()
    for (const dir of dirs) {
      const c = this.memory.get(dir)
      if (c) await writeJsonAtomic(this.file(dir), c).catch(() => undefined)
    }
  }
}
