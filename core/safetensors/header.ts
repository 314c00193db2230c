/**
 * safetensors files start with an 8-byte little-endian header length, then that many bytes of JSON:
 * { "<tensor name>": { dtype, shape, data_offsets: [begin, end] }, "__metadata__": {...} }.
 * The tensor data follows; offsets are relative to the end of the header.
 * We read only the header, so checking a 7 GB checkpoint costs a few kilobytes of I/O.
 */

export interface TensorInfo {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

export interface SafetensorsHeader {
  headerLength: number
  tensors: Record<string, TensorInfo>
  metadata: Record<string, string>
  /** Bytes the file must have: 8 + header + the end of the last tensor. */
  expectedSize: number
}

/** Why a header cannot be read: English text, and a code (model_header_* in core/sdscripts/messages.ts). */
export interface HeaderProblem {
  ok: false
  problem: string
  code: HeaderProblemCode
  params: Record<string, string | number>
}
export type HeaderProblemCode =
  | 'model_header_too_short'
  | 'model_header_bad_length'
  | 'model_header_truncated_in_header'
  | 'model_header_not_json'
  | 'model_header_not_object'
  | 'model_header_bad_tensor'
  | 'model_header_truncated'

export type HeaderResult = { ok: true; header: SafetensorsHeader } | HeaderProblem

function bad(
  code: HeaderProblemCode,
  problem: string,
  params: Record<string, string | number> = {},
): HeaderProblem {
  return { ok: false, problem, code, params }
}

/** Headers above this are not real checkpoints (SDXL's is about 200 KB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024

/** The declared header length from the first 8 bytes, or null if unusable. */
export function readHeaderLength(first8: Uint8Array): number | null {
  if (first8.length < 8) return null
  const view = new DataView(first8.buffer, first8.byteOffset, 8)
  const n = view.getBigUint64(0, true)
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) return null
  return Number(n)
}

/**
 * Parses the header. `bytes` starts at the beginning of the file and holds at least 8 + header length
 * bytes; `fileSize` is the whole file's size, to detect truncation.
 */
export function parseHeader(bytes: Uint8Array, fileSize: number): HeaderResult {
  if (fileSize < 8 || bytes.length < 8)
    return bad('model_header_too_short', 'The file is too short to be a safetensors file.')
  const len = readHeaderLength(bytes.subarray(0, 8))
  if (len === null)
    return bad('model_header_bad_length', 'The file does not start with a valid safetensors header length.')
  if (8 + len > fileSize || bytes.length < 8 + len)
    return bad(
      'model_header_truncated_in_header',
      'The file is truncated: it ends inside its header. Download it again.',
    )
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + len)))
  } catch {
    return bad(
      'model_header_not_json',
      'The safetensors header is not valid JSON; the file is damaged or not safetensors.',
    )
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return bad('model_header_not_object', 'The safetensors header is not a JSON object.')
  const tensors: Record<string, TensorInfo> = {}
  let metadata: Record<string, string> = {}
  let end = 0
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw === 'object' && raw !== null)
        metadata = Object.fromEntries(
          Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'),
        )
      continue
    }
    const t = raw as Partial<TensorInfo> | null
    if (
      !t ||
      typeof t.dtype !== 'string' ||
      !Array.isArray(t.shape) ||
      !t.shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(t.data_offsets) ||
      t.data_offsets.length !== 2 ||
      !t.data_offsets.every((d) => Number.isInteger(d) && d >= 0) ||
      t.data_offsets[0] > t.data_offsets[1]
    )
      return bad('model_header_bad_tensor', `Tensor "${name}" has a malformed entry in the header.`, { name })
    tensors[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [t.data_offsets[0], t.data_offsets[1]] }
    end = Math.max(end, t.data_offsets[1])
  }
  const expectedSize = 8 + len + end
  if (fileSize < expectedSize)
    return bad(
      'model_header_truncated',
      `The file is truncated: its header describes ${expectedSize} bytes but it has ${fileSize}. Download it again.`,
      { expected: expectedSize, actual: fileSize },
    )
  return { ok: true, header: { headerLength: len, tensors, metadata, expectedSize } }
}

export type ModelKind =
  'sdxl_base' | 'sdxl_refiner' | 'sd1' | 'sd2' | 'lora' | 'lycoris' | 'vae' | 'unet_only' | 'unknown'

export interface ModelClass {
  kind: ModelKind
  /** One sentence for the user. */
  description: string
  tensorCount: number
}

const DESCRIPTIONS: Record<ModelKind, string> = {
  sdxl_base: 'An SDXL base checkpoint (U-Net, two text encoders, VAE).',
  sdxl_refiner: 'An SDXL refiner checkpoint; train on the SDXL base model instead.',
  sd1: 'A Stable Diffusion 1.x checkpoint, not SDXL.',
  sd2: 'A Stable Diffusion 2.x checkpoint, not SDXL.',
  lora: 'A LoRA network file, not a base model.',
  lycoris: 'A LyCORIS network file (LoHa/LoKr/LoCon), not a base model.',
  vae: 'A VAE only, not a full model.',
  unet_only: 'A U-Net only (no text encoders or VAE); sd-scripts needs a full SDXL checkpoint.',
  unknown: 'A safetensors file that is not a recognised Stable Diffusion checkpoint.',
}

/**
 * Tells model families apart by their key names, and by shapes where the key names are shared:
 * SDXL base has `conditioner.embedders.0` (CLIP-L) and `.1` (OpenCLIP bigG) and an SDXL U-Net
 * (`model.diffusion_model.label_emb`); the refiner has only embedder 0 as bigG; SD1 keeps CLIP-L under
 * `cond_stage_model.transformer`, SD2 keeps OpenCLIP under `cond_stage_model.model`.
 */
export function classifyModel(header: SafetensorsHeader): ModelClass {
  const keys = Object.keys(header.tensors)
  const has = (prefix: string) => keys.some((k) => k.startsWith(prefix))
  const kind = ((): ModelKind => {
    if (keys.some((k) => /^lora_(unet|te\d?)_/.test(k))) {
      return keys.some((k) => /\.(hada_w1_a|lokr_w1|lokr_w1_a)$/.test(k)) ? 'lycoris' : 'lora'
    }
    const unet = has('model.diffusion_model.')
    if (unet && has('conditioner.embedders.1.model.')) return 'sdxl_base'
    if (unet && has('conditioner.embedders.0.model.') && !has('conditioner.embedders.1.'))
      return 'sdxl_refiner'
    if (unet && has('cond_stage_model.transformer.')) return 'sd1'
    if (unet && has('cond_stage_model.model.')) return 'sd2'
    if (unet && has('model.diffusion_model.label_emb.')) return 'unet_only'
    if (
      !unet &&
      (has('encoder.down') || has('first_stage_model.encoder.')) &&
      (has('decoder.') || has('first_stage_model.decoder.'))
    )
      return 'vae'
    if (has('down_blocks.') && has('up_blocks.') && has('mid_block.'))
      return has('add_embedding.') ? 'unet_only' : 'unknown'
    return 'unknown'
  })()
  return { kind, description: DESCRIPTIONS[kind], tensorCount: keys.length }
}
