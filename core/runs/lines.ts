/**
 * Turns a character stream into what a terminal would show line by line. A line ends at `\n`
 * (`\r\n` from a pty counts as one end). A lone `\r` starts a redraw of the same line, as tqdm does
 * with `'\r' + bar`: the text before it was one complete frame, so it is reported with `redraw: true`.
 *
 * A `\r` at the very end of a chunk cannot be classified yet (the `\n` may come in the next chunk), so
 * it is held back. The unfinished last frame is available through `partial` so a live UI can show a
 * bar without waiting for the next redraw.
 */
export interface Segment {
  text: string
  /** true: the line was overwritten by `\r` (a progress frame); false: it ended with a newline. */
  redraw: boolean
}

export class LineSplitter {
  private current = ''
  private pendingCr = false

  constructor(private readonly maxLine = 64 * 1024) {}

  write(chunk: string, out: Segment[] = []): Segment[] {
    let i = 0
    if (this.pendingCr && chunk.length > 0) {
      this.pendingCr = false
      if (chunk[0] === '\n') {
        this.emit(out, false)
        i = 1
      } else {
        this.emit(out, true)
      }
    }
    const n = chunk.length
    // Next positions of each line end, found once and reused: rescanning from every line start for a
    // `\r` that is far away (or absent) would make a chunk of many short lines quadratic.
    let nl = chunk.indexOf('\n', i)
    let cr = chunk.indexOf('\r', i)
    while (i < n) {
      if (nl !== -1 && nl < i) nl = chunk.indexOf('\n', i)
      if (cr !== -1 && cr < i) cr = chunk.indexOf('\r', i)
      let stop = nl === -1 ? cr : cr === -1 ? nl : Math.min(nl, cr)
      if (stop === -1) {
        this.append(chunk.slice(i), out)
        break
      }
      this.append(chunk.slice(i, stop), out)
      if (chunk[stop] === '\n') {
        this.emit(out, false)
        i = stop + 1
        continue
      }
      // A carriage return: CRLF is a newline, CR + anything else is a redraw.
      if (stop + 1 >= n) {
        this.pendingCr = true
        break
      }
      if (chunk[stop + 1] === '\n') {
        this.emit(out, false)
        stop += 1
      } else {
        this.emit(out, true)
      }
      i = stop + 1
    }
    return out
  }

  /** The unfinished frame: text after the last line end or redraw. */
  get partial(): string {
    return this.current
  }

  end(out: Segment[] = []): Segment[] {
    this.pendingCr = false
    if (this.current.length > 0) this.emit(out, false)
    return out
  }

  private append(text: string, out: Segment[]): void {
    this.current += text
    // A line without end (binary junk, a runaway bar) must not grow without bound.
    if (this.current.length > this.maxLine) {
      out.push({ text: this.current.slice(0, this.maxLine), redraw: false })
      this.current = this.current.slice(this.maxLine)
    }
  }

  private emit(out: Segment[], redraw: boolean): void {
    const text = this.current
    this.current = ''
    // Empty frames (`\r\r\r` storms, `\r` before the first bar) carry nothing.
    if (redraw && text.length === 0) return
    out.push({ text, redraw })
  }
}
