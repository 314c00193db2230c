/**
 * Just enough of the protobuf wire format to read TensorBoard events: a message is a list of
 * (field number, wire type, value); unknown fields are skipped by their wire type, so newer writers
 * that add fields still read. Throws ProtobufError on malformed input (the caller drops the record).
 */

export class ProtobufError extends Error {}

export type WireField =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 1; bytes: Uint8Array }
  | { field: number; wire: 2; bytes: Uint8Array }
  | { field: number; wire: 5; bytes: Uint8Array }

function varint(bytes: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n
  let shift = 0n
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const b = bytes[i] as number
    value |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return { value: BigInt.asUintN(64, value), next: i + 1 }
    shift += 7n
  }
  throw new ProtobufError('varint runs past the end of the message')
}

export function* fields(bytes: Uint8Array): Generator<WireField> {
  let at = 0
  while (at < bytes.length) {
    const key = varint(bytes, at)
    at = key.next
    const field = Number(key.value >> 3n)
    const wire = Number(key.value & 7n)
    if (field === 0) throw new ProtobufError('field number 0')
    if (wire === 0) {
      const v = varint(bytes, at)
      at = v.next
      yield { field, wire, value: v.value }
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4
      if (at + n > bytes.length) throw new ProtobufError('fixed-width field runs past the end')
      yield { field, wire, bytes: bytes.subarray(at, at + n) }
      at += n
    } else if (wire === 2) {
      const len = varint(bytes, at)
      at = len.next
      if (len.value > BigInt(bytes.length - at)) throw new ProtobufError('length runs past the end')
      const n = Number(len.value)
      yield { field, wire, bytes: bytes.subarray(at, at + n) }
      at += n
    } else {
      throw new ProtobufError(`unsupported wire type ${wire}`)
    }
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)

export const float32 = (b: Uint8Array): number => view(b).getFloat32(0, true)
export const float64 = (b: Uint8Array): number => view(b).getFloat64(0, true)
export const text = (b: Uint8Array): string => new TextDecoder('utf-8').decode(b)
/** int64 as a JS number (steps fit: they are far below 2^53). */
export const int64 = (v: bigint): number => Number(BigInt.asIntN(64, v))

/** A packed repeated field of varints. */
export function packedVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = []
  let at = 0
  while (at < bytes.length) {
    const v = varint(bytes, at)
    out.push(v.value)
    at = v.next
  }
  return out
}

/** IEEE half (binary16) bits to a number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exp = (bits >> 10) & 0x1f
  const frac = bits & 0x3ff
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024)
  if (exp === 31) return frac ? NaN : sign * Infinity
  return sign * 2 ** (exp - 15) * (1 + frac / 1024)
}

/** bfloat16 bits (the top half of a float32) to a number. */
export function bfloat16ToNumber(bits: number): number {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, (bits & 0xffff) << 16, true)
  return float32(b)
}
