import {
  bfloat16ToNumber,
  fields,
  float32,
  float64,
  halfToNumber,
  int64,
  packedVarints,
  ProtobufError,
  text,
} from './protobuf'

/*
 * TensorBoard's Event and Summary messages, read for their scalars only (tensorboard/compat/proto:
 * event.proto, summary.proto, tensor.proto). Two ways a scalar is written:
 * - old style (torch.utils.tensorboard, tensorboardX, accelerate's tracker, so sd-scripts):
 *   Summary.Value { tag = 1, simple_value = 2 }
 * - new style (TensorFlow 2, tensorboard.summary): Summary.Value { tag = 1, metadata = 9 (plugin
 *   "scalars"), tensor = 8 } with a rank-0 float/double/int tensor.
 * Images, histograms, text and graphs are skipped.
 */

export interface ScalarPoint {
  tag: string
  step: number
  value: number
  wall_time: number
}

// Field numbers.
const EVENT = { wall_time: 1, step: 2, file_version: 3, summary: 5 } as const
const VALUE = { tag: 1, simple_value: 2, tensor: 8, metadata: 9 } as const
const METADATA = { plugin_data: 1, data_class: 4 } as const
const TENSOR = {
  dtype: 1,
  shape: 2,
  content: 4,
  float_val: 5,
  double_val: 6,
  int_val: 7,
  int64_val: 10,
  half_val: 13,
} as const
// DataType enum values (types.proto).
const DT = { float: 1, double: 2, int32: 3, int64: 9, bfloat16: 14, half: 19 } as const
const DATA_CLASS_SCALAR = 1

/** The first element of a TensorProto when it is a number, else null. */
function tensorScalar(bytes: Uint8Array): number | null {
  let dtype = 0
  let content: Uint8Array | null = null
  const vals: Partial<Record<number, Uint8Array[] | bigint[]>> = {}
  for (const f of fields(bytes)) {
    if (f.field === TENSOR.dtype && f.wire === 0) dtype = Number(f.value)
    else if (f.field === TENSOR.content && f.wire === 2) content = f.bytes
    else if (f.wire === 2 && (f.field === TENSOR.float_val || f.field === TENSOR.double_val))
      vals[f.field] = [f.bytes]
    else if (f.wire === 5 && f.field === TENSOR.float_val) vals[f.field] = [f.bytes]
    else if (f.wire === 1 && f.field === TENSOR.double_val) vals[f.field] = [f.bytes]
    else if (f.field === TENSOR.int_val || f.field === TENSOR.int64_val || f.field === TENSOR.half_val) {
      if (f.wire === 2) vals[f.field] = packedVarints(f.bytes)
      else if (f.wire === 0) vals[f.field] = [f.value]
    }
  }
  const first = <T>(list: T[] | undefined): T | undefined => list?.[0]
  if (content && content.length > 0) {
    if (dtype === DT.float && content.length >= 4) return float32(content)
    if (dtype === DT.double && content.length >= 8) return float64(content)
    if (dtype === DT.int32 && content.length >= 4)
      return new DataView(content.buffer, content.byteOffset, 4).getInt32(0, true)
    if (dtype === DT.int64 && content.length >= 8)
      return Number(new DataView(content.buffer, content.byteOffset, 8).getBigInt64(0, true))
    if (dtype === DT.half && content.length >= 2)
      return halfToNumber(new DataView(content.buffer, content.byteOffset, 2).getUint16(0, true))
    if (dtype === DT.bfloat16 && content.length >= 2)
      return bfloat16ToNumber(new DataView(content.buffer, content.byteOffset, 2).getUint16(0, true))
    return null
  }
  const floats = first(vals[TENSOR.float_val] as Uint8Array[] | undefined)
  if (dtype === DT.float && floats && floats.length >= 4) return float32(floats)
  const doubles = first(vals[TENSOR.double_val] as Uint8Array[] | undefined)
  if (dtype === DT.double && doubles && doubles.length >= 8) return float64(doubles)
  const ints = first(vals[TENSOR.int_val] as bigint[] | undefined)
  if (dtype === DT.int32 && ints !== undefined) return Number(BigInt.asIntN(32, ints))
  const longs = first(vals[TENSOR.int64_val] as bigint[] | undefined)
  if (dtype === DT.int64 && longs !== undefined) return int64(longs)
  const halves = first(vals[TENSOR.half_val] as bigint[] | undefined)
  if (dtype === DT.half && halves !== undefined) return halfToNumber(Number(halves))
  if (dtype === DT.bfloat16 && halves !== undefined) return bfloat16ToNumber(Number(halves))
  return null
}

/** Whether SummaryMetadata marks the value as a scalar (plugin "scalars" or data class SCALAR). */
function metadataSaysScalar(bytes: Uint8Array): boolean {
  for (const f of fields(bytes)) {
    if (f.field === METADATA.data_class && f.wire === 0 && Number(f.value) === DATA_CLASS_SCALAR) return true
    if (f.field === METADATA.plugin_data && f.wire === 2)
      for (const p of fields(f.bytes))
        if (p.field === 1 && p.wire === 2 && text(p.bytes) === 'scalars') return true
  }
  return false
}

function summaryScalars(bytes: Uint8Array, step: number, wallTime: number, out: ScalarPoint[]): void {
  for (const v of fields(bytes)) {
    if (v.field !== 1 || v.wire !== 2) continue
    let tag: string | null = null
    let simple: number | null = null
    let tensor: Uint8Array | null = null
    let scalarPlugin = false
    for (const f of fields(v.bytes)) {
      if (f.field === VALUE.tag && f.wire === 2) tag = text(f.bytes)
      else if (f.field === VALUE.simple_value && f.wire === 5) simple = float32(f.bytes)
      else if (f.field === VALUE.tensor && f.wire === 2) tensor = f.bytes
      else if (f.field === VALUE.metadata && f.wire === 2) scalarPlugin = metadataSaysScalar(f.bytes)
    }
    if (tag === null) continue
    const value = simple ?? (tensor && scalarPlugin ? tensorScalar(tensor) : null)
    if (value !== null) out.push({ tag, step, value, wall_time: wallTime })
  }
}

export interface DecodedEvent {
  wall_time: number
  step: number
  /** Set on the first event of a file ("brain.Event:2"). */
  file_version: string | null
  scalars: ScalarPoint[]
}

/** Decodes one Event record; throws ProtobufError when it is not a well-formed message. */
export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  let wallTime = 0
  let step = 0
  let fileVersion: string | null = null
  const summaries: Uint8Array[] = []
  for (const f of fields(bytes)) {
    if (f.field === EVENT.wall_time && f.wire === 1) wallTime = float64(f.bytes)
    else if (f.field === EVENT.step && f.wire === 0) step = int64(f.value)
    else if (f.field === EVENT.file_version && f.wire === 2) fileVersion = text(f.bytes)
    else if (f.field === EVENT.summary && f.wire === 2) summaries.push(f.bytes)
  }
  const scalars: ScalarPoint[] = []
  for (const s of summaries) summaryScalars(s, step, wallTime, scalars)
  return { wall_time: wallTime, step, file_version: fileVersion, scalars }
}

/** Every scalar in a list of records; records that do not decode are counted, not fatal. */
export function scalarsFromRecords(records: Uint8Array[]): { points: ScalarPoint[]; undecodable: number } {
  const points: ScalarPoint[] = []
  let undecodable = 0
  for (const r of records) {
    try {
      points.push(...decodeEvent(r).scalars)
    } catch (error) {
      if (!(error instanceof ProtobufError)) throw error
      undecodable++
    }
  }
  return { points, undecodable }
}
