import { promises as fs } from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import { MAX_DRAFT_BYTES, TrainDraft } from '../../../core/config/draft'
import { writeFileAtomic } from '../store/atomic'

/**
 * The Train page's draft: <data dir>/drafts/train.json, replaced atomically on every save, so a crash
 * mid-write leaves the previous draft. A damaged file is set aside (train.json.damaged) and reads as
 * "no draft" rather than an error the page cannot get past.
 */
export class DraftStore {
  readonly file: string
  private queue: Promise<unknown> = Promise.resolve()

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'drafts', 'train.json')
  }

  async get(): Promise<{ draft: TrainDraft | null; saved_at: string | null }> {
    let text: string
    let mtime: Date
    try {
      ;[text, mtime] = await Promise.all([
        fs.readFile(this.file, 'utf8'),
        fs.stat(this.file).then((s) => s.mtime),
      ])
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { draft: null, saved_at: null }
      throw error
    }
    let parsed: ReturnType<typeof TrainDraft.safeParse> | null = null
    try {
      parsed = TrainDraft.safeParse(JSON.parse(text))
    } catch {
      parsed = null
    }
    if (!parsed?.success) {
      await fs.rename(this.file, `${this.file}.damaged`).catch(() => undefined)
      return { draft: null, saved_at: null }
    }
    return { draft: parsed.data, saved_at: mtime.toISOString() }
  }

  /** Saves are queued, so an older save can never land after a newer one. */
  save(draft: TrainDraft): Promise<{ saved_at: string }> {
    const text = `${JSON.stringify(draft)}\n`
    if (Buffer.byteLength(text) > MAX_DRAFT_BYTES)
      return Promise.reject(
        new ApiError(
          'bad_request',
          `The draft is ${Buffer.byteLength(text)} bytes; drafts are limited to ${MAX_DRAFT_BYTES} bytes.`,
          { kind: 'draft_too_large' },
        ),
      )
    const next = this.queue.then(async () => {
      await writeFileAtomic(this.file, text)
      return { saved_at: new Date().toISOString() }
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  async clear(): Promise<{ cleared: boolean }> {
    await this.queue
    try {
      await fs.rm(this.file)
      return { cleared: true }
    } catch {
      return { cleared: false }
    }
  }
}
