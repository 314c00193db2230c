import { maskedCrc32c } from './crc32c'

/**
 * TFRecord framing, as TensorBoard event files use it. Each record is
 *   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data
 * A writer appends records while the trainer runs, so the end of a file may hold a record that is
 * still being written: that is not an error, the reader stops before it and resumes there later.
 */

/** Records above this are not TensorBoard scalars (a whole graph is a few MB); larger means damage. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024

export type RecordProblem =
  | { kind: 'bad_length_crc'; offset: number }
  | { kind: 'bad_data_crc'; offset: number }
  | { kind: 'too_large'; offset: number; length: number }

export interface RecordsRead {
  records: Uint8Array[]
  /** Where the next read starts: after the last whole record (an incomplete one is read again later). */
  next: number
  /** The file is damaged at `offset`; nothing after it is read. */
  problem: RecordProblem | null
}

const HEADER = 12
const FOOTER = 4

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true)
}

/**
 * Reads the whole records in `bytes`, which starts at file offset `base` (so offsets in problems are
 * file offsets). Stops at an incomplete record at the end, or at the first damaged one.
 */
export function readRecords(bytes: Uint8Array, base = 0): RecordsRead {
  const records: Uint8Array[] = []
  let at = 0
  while (bytes.length - at >= HEADER) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 8)
    const length = view.getBigUint64(0, true)
    if (maskedCrc32c(bytes, at, at + 8) !== u32(bytes, at + 8))
      return { records, next: base + at, problem: { kind: 'bad_length_crc', offset: base + at } }
    if (length > BigInt(MAX_RECORD_BYTES))
      return {
        records,
        next: base + at,
        problem: { kind: 'too_large', offset: base + at, length: Number(length) },
      }
    const n = Number(length)
    if (bytes.length - at < HEADER + n + FOOTER) break
    const start = at + HEADER
    if (maskedCrc32c(bytes, start, start + n) !== u32(bytes, start + n))
      return { records, next: base + at, problem: { kind: 'bad_data_crc', offset: base + at } }
    records.push(bytes.subarray(start, start + n))
    at = start + n + FOOTER
  }
  return { records, next: base + at, problem: null }
}

/** One record framed as a writer frames it (for tests and tools that write event files). */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + data.length + FOOTER)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(data.length), true)
  view.setUint32(8, maskedCrc32c(out, 0, 8), true)
  out.set(data, HEADER)
  view.setUint32(HEADER + data.length, maskedCrc32c(data), true)
  return out
}
