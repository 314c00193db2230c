/**
 * Decodes a byte stream that may split a multibyte UTF-8 character across chunks (a pty read can end
 * in the middle of "学"). TextDecoder in stream mode keeps the incomplete tail for the next call;
 * invalid bytes become U+FFFD instead of throwing, because a trainer's output is never worth a crash.
 */
export class Utf8StreamDecoder {
  private decoder = new TextDecoder('utf-8', { fatal: false })

  /** Strings pass through untouched (node-pty may already have decoded them). */
  write(chunk: Uint8Array | string): string {
    if (typeof chunk === 'string') return chunk
    return this.decoder.decode(chunk, { stream: true })
  }

  /** End of stream: an incomplete trailing sequence becomes U+FFFD. */
  end(): string {
    const rest = this.decoder.decode()
    this.decoder = new TextDecoder('utf-8', { fatal: false })
    return rest
  }
}
