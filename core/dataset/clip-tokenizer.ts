/**
 * CLIP's byte-level BPE tokenizer (the one both SDXL text encoders use; transformers' CLIPTokenizer),
 * to count a caption's tokens the way sd-scripts sees them. It needs CLIP's merges list (merges.txt of
 * the tokenizer folders in the environment's tokenizer cache); without it, `estimateTokens` gives an
 * honest estimate that the UI labels as such.
 *
 * Text clean-up follows CLIPTokenizer with ftfy (which sd-scripts installs): ftfy's fixes that matter
 * for captions (NFC, curly quotes, full-width forms, ligatures, HTML entities), whitespace collapsed,
 * lower case.
 */

const PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu

/** GPT-2's reversible byte → printable character table. */
function byteEncoder(): string[] {
  const bs: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b)
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b)
  for (let b = 0xae; b <= 0xff; b++) bs.push(b)
  const table: string[] = new Array<string>(256)
  for (const b of bs) table[b] = String.fromCodePoint(b)
  let n = 0
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCodePoint(256 + n++)
  return table
}
const BYTES = byteEncoder()

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }
const LIGATURES: Record<string, string> = { ﬀ: 'ff', ﬁ: 'fi', ﬂ: 'fl', ﬃ: 'ffi', ﬄ: 'ffl', ﬅ: 'st', ﬆ: 'st' }

/** The parts of ftfy.fix_text that change ordinary captions. */
export function fixText(text: string): string {
  let t = text
  // ftfy unescapes HTML only in text that is not HTML itself.
  if (!t.includes('<'))
    t = t.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m
      }
      return ENTITIES[e.toLowerCase()] ?? m
    })
  t = t.replace(/[‘’‚‛]/g, "'").replace(/[“”„‟]/g, '"')
  t = t
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
  t = t.replace(/[ﬀ-ﬆ]/g, (c) => LIGATURES[c] ?? c)
  return t.normalize('NFC')
}

export function cleanText(text: string): string {
  return fixText(text).replace(/\s+/g, ' ').trim().toLowerCase()
}

export interface ClipTokenizer {
  /** BPE tokens of a text, without the start and end tokens. */
  tokenize(text: string): string[]
  /** Token ids (vocab.json) with start and end, when the vocabulary was given. */
  encode(text: string): number[] | null
  count(text: string): number
}

/**
 * Builds the tokenizer from merges.txt (and optionally vocab.json for ids). Throws when the merges
 * list is not CLIP's (too short), so a wrong file is not used silently.
 */
export function createClipTokenizer(mergesText: string, vocab?: Record<string, number>): ClipTokenizer {
  const lines = mergesText.split('\n')
  const ranks = new Map<string, number>()
  let rank = 0
  for (const line of lines) {
    if (line.startsWith('#version') || line.trim() === '') continue
    ranks.set(line.replace(/\r$/, ''), rank++)
  }
  if (rank < 40_000) throw new Error(`Not CLIP's merges list (${rank} merges; CLIP has 48894).`)
  const cache = new Map<string, string[]>()

  const bpe = (token: string): string[] => {
    const hit = cache.get(token)
    if (hit) return hit
    const chars = Array.from(token)
    let word = chars.map((c, i) => (i === chars.length - 1 ? `${c}</w>` : c))
    while (word.length > 1) {
      let best = -1
      let bestRank = Infinity
      for (let i = 0; i < word.length - 1; i++) {
        const r = ranks.get(`${word[i]} ${word[i + 1]}`)
        if (r !== undefined && r < bestRank) {
          bestRank = r
          best = i
        }
      }
      if (best < 0) break
      const first = word[best]!
      const second = word[best + 1]!
      // Merge every occurrence of the pair, left to right, as the reference implementation does.
      const next: string[] = []
      for (let i = 0; i < word.length;) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second)
          i += 2
        } else next.push(word[i++]!)
      }
      word = next
    }
    if (cache.size < 50_000) cache.set(token, word)
    return word
  }

  const encoder = new TextEncoder()
  const tokenize = (text: string): string[] => {
    const out: string[] = []
    for (const m of cleanText(text).matchAll(PATTERN)) {
      const mapped = Array.from(encoder.encode(m[0]), (b) => BYTES[b]!).join('')
      out.push(...bpe(mapped))
    }
    return out
  }
  return {
    tokenize,
    count: (text) => tokenize(text).length,
    encode: (text) => {
      if (!vocab) return null
      const start = vocab['<|startoftext|>']
      const end = vocab['<|endoftext|>']
      if (start === undefined || end === undefined) return null
      return [start, ...tokenize(text).map((t) => vocab[t] ?? vocab['<|endoftext|>'] ?? end), end]
    },
  }
}

/**
 * Token count without CLIP's vocabulary: an ASCII word is one token, plus one per 7 letters beyond the
 * first (rare words split into pieces); a number digit is one; punctuation one per two characters;
 * non-ASCII text (Cyrillic, CJK, emoji) about one per two UTF-8 bytes, as byte-level BPE splits it.
 * Usually within a third of the real count; shown as an estimate.
 */
export function estimateTokens(text: string): number {
  const bytes = new TextEncoder()
  let n = 0
  for (const m of cleanText(text).matchAll(PATTERN)) {
    const piece = m[0]
    // eslint-disable-next-line no-control-regex -- ASCII range check
    if (/[^\x00-\x7f]/.test(piece)) n += Math.ceil(bytes.encode(piece).length / 2)
    else if (/\p{L}/u.test(piece)) n += 1 + Math.floor((piece.length - 1) / 7)
    else if (/\p{N}/u.test(piece)) n += 1
    else n += Math.ceil(piece.length / 2)
  }
  return n
}
