import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { ApiError } from '../../../core/api/errors'
import { applyCaptionOp, type CaptionOp } from '../../../core/dataset/caption-ops'
import { editorText, fileContent, listFolder, stemOf } from '../../../core/dataset/folder'
import { writeFileAtomic, writeJsonAtomic } from '../store/atomic'
import { caseInsensitiveFs } from './scanner'

/**
 * Caption writes that never lose a caption: each change is first recorded (the previous and the new
 * content of every file) in <dataDir>/caption-history/<folder hash>/<id>.json, then each caption is
 * written atomically. Undo puts the previous content back, but only where the file still holds what
 * the change wrote; a file edited since (by hand, another tool) is left alone and reported.
 */

const Change = z.object({
  image: z.string(),
  caption_file: z.string(),
  /** Whole file content before (null: no file) and after (null: file removed). */
  before: z.string().nullable(),
  after: z.string().nullable(),
})
type Change = z.infer<typeof Change>

const Entry = z.object({
  id: z.string(),
  at: z.number(),
  label: z.string(),
  dir: z.string(),
  changes: z.array(Change),
  undone: z.boolean(),
})
type Entry = z.infer<typeof Entry>

/** Changes kept per folder; older ones are deleted. */
const KEEP = 100

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

export interface WriteRequest {
  image: string
  expected: string | null
  text: string
}

export class CaptionStore {
  constructor(private readonly root: string) {}

  private folderDir(dir: string): string {
    return path.join(this.root, createHash('sha1').update(path.resolve(dir)).digest('hex'))
  }

  /** The caption file of an image: the existing one sd-scripts would read, else <stem><extension>. */
  async captionFiles(
    dir: string,
    captionExtension: string,
  ): Promise<{ images: string[]; captionOf: (image: string) => string }> {
    let names: string[]
    try {
      names = await fs.readdir(dir)
    } catch {
      throw new ApiError('domain', `Dataset folder not found: ${dir}. Choose an existing folder.`, {
        kind: 'folder_missing',
      })
    }
    const listing = listFolder(dir, names, captionExtension, caseInsensitiveFs)
    return {
      images: listing.images,
      captionOf: (image) => path.join(dir, listing.captionOf.get(image) ?? stemOf(image) + captionExtension),
    }
  }

  private checkImage(images: string[], image: string, dir: string): void {
    if (!images.includes(image))
      throw new ApiError('bad_request', `Not an image of ${dir}: ${image}. Reload the folder.`, {
        kind: 'unknown_image',
      })
  }

  /** Records the change, then writes each file atomically. Returns the history id. */
  private async commit(dir: string, label: string, changes: Change[]): Promise<string | null> {
    if (!changes.length) return null
    const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
    const entry: Entry = { id, at: Date.now(), label, dir: path.resolve(dir), changes, undone: false }
    const folder = this.folderDir(dir)
    await writeJsonAtomic(path.join(folder, `${id}.json`), entry)
    for (const c of changes) {
      if (c.after === null) await fs.rm(c.caption_file, { force: true })
      else await writeFileAtomic(c.caption_file, c.after)
    }
    await this.prune(folder)
    return id
  }

  private async prune(folder: string): Promise<void> {
    const files = (await fs.readdir(folder).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.json'))
      .sort()
    for (const f of files.slice(0, Math.max(0, files.length - KEEP)))
      await fs.rm(path.join(folder, f), { force: true })
  }

  async write(dir: string, captionExtension: string, writes: WriteRequest[], label: string) {
    const { images, captionOf } = await this.captionFiles(dir, captionExtension)
    const changes: Change[] = []
    const conflicts: Array<{ image: string; current: string | null }> = []
    for (const w of writes) {
      this.checkImage(images, w.image, dir)
      const file = captionOf(w.image)
      const before = await readOrNull(file)
      const current = before === null ? null : editorText(before)
      if (current !== w.expected) {
        conflicts.push({ image: w.image, current })
        continue
      }
      const after = fileContent(w.text)
      if (after !== before) changes.push({ image: w.image, caption_file: file, before, after })
    }
    const id = await this.commit(dir, label, changes)
    return { history_id: id, written: changes.length, conflicts }
  }

  async apply(dir: string, captionExtension: string, op: CaptionOp, preview: boolean) {
    const { images, captionOf } = await this.captionFiles(dir, captionExtension)
    const changes: Change[] = []
    for (const image of images) {
      const file = captionOf(image)
      const before = await readOrNull(file)
      const old = before === null ? null : editorText(before)
      const next = applyCaptionOp(old, op)
      if (next === old || next === null) continue
      const after = fileContent(next)
      if (after !== before) changes.push({ image, caption_file: file, before, after })
    }
    const examples = changes.slice(0, 5).map((c) => ({
      ...c,
      before: c.before === null ? null : editorText(c.before),
      after: c.after === null ? null : editorText(c.after),
    }))
    if (preview) return { history_id: null, changed: changes.length, examples }
    const label = op.kind === 'set' ? 'Edit' : op.kind
    return { history_id: await this.commit(dir, label, changes), changed: changes.length, examples }
  }

  private async entries(dir: string): Promise<Entry[]> {
    const folder = this.folderDir(dir)
    const files = (await fs.readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith('.json'))
    const out: Entry[] = []
    for (const f of files) {
      try {
        const parsed = Entry.safeParse(JSON.parse(await fs.readFile(path.join(folder, f), 'utf8')))
        if (parsed.success) out.push(parsed.data)
      } catch {
        // a damaged record is skipped, not fatal
      }
    }
    return out.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
  }

  async history(dir: string) {
    return (await this.entries(dir)).map((e) => ({
      id: e.id,
      at: e.at,
      label: e.label,
      files: e.changes.length,
      undone: e.undone,
    }))
  }

  async undo(dir: string, id: string) {
    const entry = (await this.entries(dir)).find((e) => e.id === id)
    if (!entry) throw new ApiError('not_found', `No caption change ${id} for ${dir}.`, { kind: 'no_history' })
    if (entry.undone)
      throw new ApiError('conflict', 'This change was already undone.', { kind: 'already_undone' })
    let restored = 0
    const skipped: Array<{ caption_file: string; reason: 'changed_since' | 'unreadable' }> = []
    for (const c of entry.changes) {
      let current: string | null
      try {
        current = await readOrNull(c.caption_file)
      } catch {
        skipped.push({ caption_file: c.caption_file, reason: 'unreadable' })
        continue
      }
      if (current !== c.after) {
        skipped.push({ caption_file: c.caption_file, reason: 'changed_since' })
        continue
      }
      if (c.before === null) await fs.rm(c.caption_file, { force: true })
      else await writeFileAtomic(c.caption_file, c.before)
      restored++
    }
    await writeJsonAtomic(path.join(this.folderDir(dir), `${entry.id}.json`), { ...entry, undone: true })
    return { restored, skipped }
  }
}
