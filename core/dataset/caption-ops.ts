import { z } from 'zod'

/**
 * Caption edits the caption editor applies to one caption or to every caption of a folder. Captions
 * are comma-separated tags (sd-scripts' caption_separator ","); sentence captions are one tag.
 * Every operation is a pure function of the old text, so a preview and the real write agree.
 */

const tag = z.string().trim().min(1, 'Type a tag').max(500)

export const CaptionOp = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('set'), text: z.string().max(20_000) }),
  z.object({
    kind: z.literal('replace'),
    find: z.string().min(1, 'Type the text to find').max(2000),
    replace: z.string().max(2000),
    /** Only whole tags equal to `find` are replaced (else any occurrence inside the text). */
    wholeTag: z.boolean().default(false),
    caseSensitive: z.boolean().default(true),
  }),
  z.object({ kind: z.literal('addTag'), tag, position: z.enum(['start', 'end']).default('end') }),
  z.object({ kind: z.literal('removeTag'), tag }),
  /** The trigger word as the first tag (moved there, or added), for keep_tokens = 1. */
  z.object({ kind: z.literal('triggerFirst'), tag }),
])
export type CaptionOp = z.infer<typeof CaptionOp>
export type CaptionOpInput = z.input<typeof CaptionOp>

export function splitTags(caption: string): string[] {
  return caption
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
}

export function joinTags(tags: string[]): string {
  return tags.join(', ')
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The new caption for `old` (null: the image has no caption file). Returns `old` unchanged when the
 * operation does not apply, so callers can count real changes by comparing.
 */
export function applyCaptionOp(old: string | null, op: CaptionOp): string | null {
  const text = old ?? ''
  switch (op.kind) {
    case 'set':
      return op.text
    case 'replace': {
      if (old === null) return old
      if (op.wholeTag) {
        const same = (t: string) =>
          op.caseSensitive ? t === op.find.trim() : t.toLowerCase() === op.find.trim().toLowerCase()
        const tags = splitTags(text)
        if (!tags.some(same)) return old
        return joinTags(tags.map((t) => (same(t) ? op.replace.trim() : t)).filter((t) => t !== ''))
      }
      const re = new RegExp(escapeRegExp(op.find), op.caseSensitive ? 'g' : 'gi')
      return re.test(text) ? text.replace(re, () => op.replace) : old
    }
    case 'addTag': {
      const tags = splitTags(text)
      if (tags.includes(op.tag)) return old
      return joinTags(op.position === 'start' ? [op.tag, ...tags] : [...tags, op.tag])
    }
    case 'removeTag': {
      const tags = splitTags(text)
      if (!tags.includes(op.tag)) return old
      return joinTags(tags.filter((t) => t !== op.tag))
    }
    case 'triggerFirst': {
      const tags = splitTags(text)
      if (tags[0] === op.tag) return old
      return joinTags([op.tag, ...tags.filter((t) => t !== op.tag)])
    }
  }
}

/** Tags by how many captions hold them, most frequent first (ties by name). */
export function tagFrequency(captions: Iterable<string>): Array<{ tag: string; count: number }> {
  const counts = new Map<string, number>()
  for (const c of captions) for (const t of new Set(splitTags(c))) counts.set(t, (counts.get(t) ?? 0) + 1)
  return [...counts.entries()]
    .map(([tag, count]) => ({ tag, count }))
    .sort((a, b) => b.count - a.count || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))
}
