const ESC = '\x1b'
/** Longest incomplete escape carried to the next chunk; beyond this it is garbage, not a sequence. */
const MAX_PENDING = 4096
// C0 controls other than \t \n \r and ESC, plus DEL: meaningless in a log once escapes are gone.
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g

/**
 * Removes ANSI escape sequences (colours, cursor moves, OSC titles, charset switches) from a stream
 * whose chunks may cut a sequence in two: the incomplete tail is kept and completed by the next chunk.
 * `\r` and `\n` are kept: line handling is lines.ts's job.
 */
export class AnsiStripper {
  private pending = ''

  write(chunk: string): string {
    let s = this.pending + chunk
    this.pending = ''
    if (s.indexOf(ESC) === -1 && s.indexOf('\x9b') === -1) return s.replace(CONTROL, '')
    s = s.replace(/\x9b/g, `${ESC}[`)
    let out = ''
    let i = 0
    while (i < s.length) {
      const at = s.indexOf(ESC, i)
      if (at === -1) {
        out += s.slice(i)
        break
      }
      out += s.slice(i, at)
      const end = sequenceEnd(s, at)
      if (end === -1) {
        const tail = s.slice(at)
        // An endless "sequence" is not one: drop it rather than buffer forever.
        if (tail.length <= MAX_PENDING) this.pending = tail
        break
      }
      i = end
    }
    return out.replace(CONTROL, '')
  }

  /** End of stream: an unfinished sequence is dropped. */
  end(): string {
    this.pending = ''
    return ''
  }
}

/** Index just past the escape sequence starting at `start`, or -1 when the string ends inside it. */
function sequenceEnd(s: string, start: number): number {
  const kind = s[start + 1]
  if (kind === undefined) return -1
  if (kind === '[') {
    for (let j = start + 2; j < s.length; j++) {
      const c = s.charCodeAt(j)
      if (c >= 0x40 && c <= 0x7e) return j + 1
      // Anything outside parameter/intermediate bytes ends a malformed sequence here.
      if (c < 0x20 || c > 0x3f) return j
    }
    return -1
  }
  if (kind === ']' || kind === 'P' || kind === 'X' || kind === '^' || kind === '_') {
    for (let j = start + 2; j < s.length; j++) {
      const c = s[j]
      if (c === '\x07' && kind === ']') return j + 1
      if (c === ESC) {
        if (j + 1 >= s.length) return -1
        return s[j + 1] === '\\' ? j + 2 : j
      }
    }
    return -1
  }
  if ('()*+#%-./'.includes(kind)) return start + 2 < s.length ? start + 3 : -1
  return start + 2
}

/** Strips a complete string in one go. */
export function stripAnsi(text: string): string {
  return new AnsiStripper().write(text)
}
