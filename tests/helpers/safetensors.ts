import { writeFileSync } from 'node:fs'

/** Writes a real safetensors file: tiny fp16 tensors with the given names and shapes (data is zeros). */
export function safetensorsBytes(
  tensors: Record<string, number[]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {}
  let offset = 0
  for (const [name, shape] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] }
    offset += bytes
  }
  if (metadata) header.__metadata__ = metadata
  let json = JSON.stringify(header)
  while ((8 + json.length) % 8) json += ' ' // the format pads the header with spaces
  const out = new Uint8Array(8 + json.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(new TextEncoder().encode(json), 8)
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
