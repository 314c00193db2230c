import { promises as fs } from 'node:fs'
import path from 'node:path'
import {
  classifyModel,
  MAX_HEADER_BYTES,
  parseHeader,
  readHeaderLength,
  type ModelKind,
} from '../../../core/safetensors/header'

export interface ModelInspection {
  path: string
  exists: boolean
  /** 'file' (single checkpoint), 'diffusers' (a folder with model_index.json), 'hub' (a repo id), or 'missing'. */
  format: 'file' | 'diffusers' | 'hub' | 'missing' | 'other'
  kind: ModelKind | null
  sizeBytes: number | null
  /** Empty when the model is usable as an SDXL base. */
  problem: string | null
  description: string
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/

/** Reads only the safetensors header (8 bytes + the JSON), never the tensors. */
export async function readHeaderBytes(file: string, size: number): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r')
  try {
    const first = new Uint8Array(8)
    const { bytesRead } = await handle.read(first, 0, 8, 0)
    const len = bytesRead === 8 ? readHeaderLength(first) : null
    if (len === null) return first.subarray(0, bytesRead)
    const want = Math.min(8 + len, size, 8 + MAX_HEADER_BYTES)
    const buf = new Uint8Array(want)
    const r = await handle.read(buf, 0, want, 0)
    return buf.subarray(0, r.bytesRead)
  } finally {
    await handle.close()
  }
}

export async function inspectModel(modelPath: string): Promise<ModelInspection> {
  const base = { path: modelPath, kind: null, sizeBytes: null }
  let stat
  try {
    stat = await fs.stat(modelPath)
  } catch {
    if (HUB_ID.test(modelPath) && !modelPath.includes('\\') && !path.isAbsolute(modelPath))
      return {
        ...base,
        exists: false,
        format: 'hub',
        problem: null,
        description: `"${modelPath}" looks like a Hugging Face model id; sd-scripts downloads it at start (needs network access).`,
      }
    return {
      ...base,
      exists: false,
      format: 'missing',
      problem: `Model file not found: ${modelPath}. Choose the SDXL base .safetensors file.`,
      description: 'Not found.',
    }
  }
  if (stat.isDirectory()) {
    const hasIndex = await fs
      .access(path.join(modelPath, 'model_index.json'))
      .then(() => true)
      .catch(() => false)
    return hasIndex
      ? {
          ...base,
          exists: true,
          format: 'diffusers',
          problem: null,
          description: 'A Diffusers model folder.',
        }
      : {
          ...base,
          exists: true,
          format: 'other',
          problem: `${modelPath} is a folder without model_index.json. Choose an SDXL .safetensors file or a Diffusers folder.`,
          description: 'A folder that is not a Diffusers model.',
        }
  }
  if (!/\.safetensors$/i.test(modelPath))
    return {
      ...base,
      exists: true,
      format: 'other',
      sizeBytes: stat.size,
      problem: null,
      description:
        'Not a .safetensors file; its contents cannot be checked before training (a .ckpt file can run code when loaded).',
    }
  const bytes = await readHeaderBytes(modelPath, stat.size)
  const parsed = parseHeader(bytes, stat.size)
  if (!parsed.ok)
    return {
      ...base,
      exists: true,
      format: 'file',
      sizeBytes: stat.size,
      problem: `${parsed.problem} (${modelPath})`,
      description: 'A damaged safetensors file.',
    }
  const cls = classifyModel(parsed.header)
  return {
    path: modelPath,
    exists: true,
    format: 'file',
    kind: cls.kind,
    sizeBytes: stat.size,
    problem:
      cls.kind === 'sdxl_base'
        ? null
        : `${cls.description} Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.`,
    description: cls.description,
  }
}
