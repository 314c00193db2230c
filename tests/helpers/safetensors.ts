import { writeFileSync } from 'node:fs'

/** A tensor with its bytes (little-endian, as the format stores them). */
export interface TensorData {
  dtype: string
  shape: number[]
  data: Uint8Array
}

/**
 * Writes a real safetensors file. A tensor given as a shape is fp16 zeros; one given as TensorData
 * keeps its dtype and bytes.
 */
export function safetensorsBytes(
  tensors: Record<string, number[] | TensorData>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {}
  const chunks: Uint8Array[] = []
  let offset = 0
  for (const [name, t] of Object.entries(tensors)) {
    const data = Array.isArray(t) ? new Uint8Array(t.reduce((a, b) => a * b, 1) * 2) : t.data
    header[name] = {
      dtype: Array.isArray(t) ? 'F16' : t.dtype,
      shape: Array.isArray(t) ? t : t.shape,
      data_offsets: [offset, offset + data.length],
    }
    chunks.push(data)
    offset += data.length
  }
  if (metadata) header.__metadata__ = metadata
  let json = JSON.stringify(header)
  while ((8 + Buffer.byteLength(json)) % 8) json += ' ' // the format pads the header with spaces
  const text = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + text.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true)
  out.set(text, 8)
  let at = 8 + text.length
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

/** Tensor names (tiny shapes) that make a header an SDXL base checkpoint: UNet, both text encoders, VAE. */
export const SDXL_BASE_TENSORS: Record<string, number[]> = {
  'model.diffusion_model.input_blocks.0.0.weight': [4, 4, 3, 3],
  'model.diffusion_model.label_emb.0.0.weight': [4, 8],
  'conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight': [8, 4],
  'conditioner.embedders.1.model.token_embedding.weight': [8, 4],
  'first_stage_model.decoder.conv_in.weight': [4, 4, 3, 3],
}

/** A few-hundred-byte file the app reads as an SDXL base model. */
export function writeSdxlCheckpoint(file: string): void {
  writeFileSync(file, safetensorsBytes(SDXL_BASE_TENSORS))
}
