import { createHash } from 'node:crypto'
import { createReadStream, promises as fs } from 'node:fs'
import path from 'node:path'
import type { DatasetScan } from '../../../core/api/domains/dataset'
import type { TrainingConfig } from '../../../core/config/schema'
import { listFolder, readCaptionBytes, type FolderListing } from '../../../core/dataset/folder'
import { buildScan, type CaptionFacts, type FolderFacts, type ImageFacts } from '../../../core/dataset/scan'
import { readImageHeader } from './image-header'
import type { ScanCache } from './scan-cache'
import type { TokenCounter } from './tokenizer'

/** Files opened at once: enough to hide disk latency, few enough for Windows' handle limits. */
const CONCURRENCY = 24

export const caseInsensitiveFs = process.platform === 'win32'

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

async function sha256(file: string): Promise<string | null> {
  return new Promise((resolve) => {
    const h = createHash('sha256')
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', () => resolve(null))
  })
}

export interface FolderRead {
  facts: FolderFacts
  listing: FolderListing | null
  cached: number
}

export class DatasetScanner {
  constructor(
    private readonly cache: ScanCache,
    private readonly tokens: TokenCounter,
  ) {}

  /** One folder's images and captions, from the cache where size and modification time match. */
  async readFolder(dir: string, captionExtension: string): Promise<FolderRead> {
    const empty = (state: FolderFacts['state']): FolderRead => ({
      facts: { dir, state, images: [], captions: new Map(), orphanCaptions: [], notRead: [] },
      listing: null,
      cached: 0,
    })
    let names: string[]
    try {
      const st = await fs.stat(dir)
      if (!st.isDirectory()) return empty('not_a_folder')
      names = await fs.readdir(dir)
    } catch {
      return empty('missing')
    }
    const listing = listFolder(dir, names, captionExtension, caseInsensitiveFs)
    const cache = await this.cache.folder(dir)
    const counter = await this.tokens.get()
    let cached = 0
    let changed = false

    const images = await mapLimit(listing.images, CONCURRENCY, async (name): Promise<ImageFacts> => {
      const file = path.join(dir, name)
      let size = 0
      let mtime = 0
      try {
        const st = await fs.stat(file)
        size = st.size
        mtime = st.mtimeMs
      } catch {
        // vanished between readdir and stat: unreadable below
      }
      const hit = cache.images[name]
      let entry = hit && hit.size === size && hit.mtime === mtime ? hit : null
      if (entry) cached++
      else {
        let header
        try {
          const handle = await fs.open(file, 'r')
          try {
            header = await readImageHeader(handle, size)
          } finally {
            await handle.close()
          }
        } catch {
          header = {
            format: null,
            width: 0,
            height: 0,
            realWidth: 0,
            realHeight: 0,
            orientation: null,
            damage: 'unreadable' as const,
          }
        }
        entry = { size, mtime, header, hash: null }
        cache.images[name] = entry
        changed = true
      }
      return { name, path: file, bytes: size, ...entry.header, hash: entry.hash }
    })

    const captions = new Map<string, CaptionFacts | null>()
    await mapLimit(listing.images, CONCURRENCY, async (img) => {
      const capName = listing.captionOf.get(img) ?? null
      if (!capName) {
        captions.set(img, null)
        return
      }
      const file = path.join(dir, capName)
      try {
        const st = await fs.stat(file)
        const hit = cache.captions[capName]
        let entry =
          hit && hit.size === st.size && hit.mtime === st.mtimeMs && hit.tokenizer === counter.kind
            ? hit
            : null
        if (entry) cached++
        else {
          const text = readCaptionBytes(await fs.readFile(file))
          entry = {
            size: st.size,
            mtime: st.mtimeMs,
            ...text,
            tokens: counter.count(text.caption),
            tokenizer: counter.kind,
          }
          cache.captions[capName] = entry
          changed = true
        }
        captions.set(img, {
          name: capName,
          path: file,
          status: entry.status,
          caption: entry.caption,
          multiline: entry.multiline,
          bom: entry.bom,
          tokens: entry.tokens,
        })
      } catch {
        captions.set(img, null)
      }
    })

    // Forget files that are gone, so the cache does not grow without end.
    const present = new Set(names)
    for (const table of [cache.images, cache.captions])
      for (const n of Object.keys(table))
        if (!present.has(n)) {
          delete table[n]
          changed = true
        }
    if (changed) this.cache.markDirty(dir)

    return {
      facts: {
        dir,
        state: 'ok',
        images,
        captions,
        orphanCaptions: listing.orphanCaptions.map((n) => path.join(dir, n)),
        notRead: listing.notRead.map((n) => path.join(dir, n)),
      },
      listing,
      cached,
    }
  }

  /** Hashes files that share their byte size with another (only those can be duplicates). */
  private async hashCandidates(folders: FolderFacts[]): Promise<void> {
    const bySize = new Map<number, ImageFacts[]>()
    for (const f of folders)
      for (const img of f.images)
        if (img.bytes > 0) bySize.set(img.bytes, [...(bySize.get(img.bytes) ?? []), img])
    const candidates = [...bySize.values()].filter((g) => g.length > 1).flat()
    await mapLimit(candidates, 8, async (img) => {
      if (!img.hash) img.hash = await sha256(img.path)
      const dir = path.dirname(img.path)
      const c = await this.cache.folder(dir)
      const entry = c.images[img.name]
      if (entry && entry.hash !== img.hash) {
        entry.hash = img.hash
        this.cache.markDirty(dir)
      }
    })
  }

  async scan(config: TrainingConfig): Promise<DatasetScan> {
    const started = performance.now()
    const reads: FolderRead[] = []
    for (const s of config.dataset.subsets)
      reads.push(await this.readFolder(s.image_dir, s.caption_extension))
    const folders = reads.map((r) => r.facts)
    await this.hashCandidates(folders)
    await this.cache.save()
    const counter = await this.tokens.get()
    return buildScan(config, folders, {
      tokenizer: counter.kind,
      scannedMs: Math.round(performance.now() - started),
      cachedFiles: reads.reduce((n, r) => n + r.cached, 0),
    })
  }
}
