import { promises as fs } from 'node:fs'
import path from 'node:path'
import {
  classifyModel,
  MAX_HEADER_BYTES,
  parseHeader,
  readHeaderLength,
  type ModelKind,
} from '../../../core/safetensors/header'
import { msg, note, type MessageCode, type Params } from '../../../core/sdscripts/messages'

export interface ModelInspection {
  path: string
  exists: boolean
  /** 'file' (single checkpoint), 'diffusers' (a folder with model_index.json), 'hub' (a repo id), or 'missing'. */
  format: 'file' | 'diffusers' | 'hub' | 'missing' | 'other'
  kind: ModelKind | null
  sizeBytes: number | null
  /** Empty when the model is usable as an SDXL base. */
  problem: string | null
  /** The problem's code and parameters (issues.* in train.json). */
  problem_code?: string | null
  problem_params?: Params | null
  description: string
  /** The description's code and parameters (notes.* in train.json), when it has one. */
  description_code?: string | null
  description_params?: Params | null
}

/** The problem fields of an inspection, in English and as a code. */
function problemOf(code: MessageCode, params: Params) {
  const m = msg(code, params)
  return { problem: m.message, problem_code: m.code, problem_params: m.params }
}

/** The description fields, in English and as a code. */
function describedAs(code: Parameters<typeof note>[0], params: Params = {}) {
  const m = note(code, params)
  return { description: m.message, description_code: m.code, description_params: m.params }
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
        ...describedAs('model_desc_hub', { path: modelPath }),
      }
    return {
      ...base,
      exists: false,
      format: 'missing',
      ...problemOf('model_not_found', { path: modelPath }),
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
          ...describedAs('model_desc_diffusers'),
        }
      : {
          ...base,
          exists: true,
          format: 'other',
          ...problemOf('model_folder_not_diffusers', { path: modelPath }),
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
      ...describedAs('model_desc_not_safetensors'),
    }
  const bytes = await readHeaderBytes(modelPath, stat.size)
  const parsed = parseHeader(bytes, stat.size)
  if (!parsed.ok)
    return {
      ...base,
      exists: true,
      format: 'file',
      sizeBytes: stat.size,
      ...problemOf(parsed.code, { ...parsed.params, path: modelPath }),
      description: 'A damaged safetensors file.',
    }
  const cls = classifyModel(parsed.header)
  return {
    path: modelPath,
    exists: true,
    format: 'file',
    kind: cls.kind,
    sizeBytes: stat.size,
    ...(cls.kind === 'sdxl_base'
      ? { problem: null }
      : problemOf(`model_kind_${cls.kind}`, { path: modelPath })),
    ...(cls.kind === 'sdxl_base' ? describedAs('model_desc_sdxl_base') : { description: cls.description }),
  }
}
