import { promises as fs } from 'node:fs'
import { ApiError } from '../../../core/api/errors'
import { alphaTensors, inspectLora, scalarValue, type LoraInfo } from '../../../core/lora/inspect'
import type { FileFacts } from '../../../core/lora/tools'
import { classifyModel, parseHeader, type SafetensorsHeader } from '../../../core/safetensors/header'
import { readHeaderBytes } from '../configs/model'

/** More `.alpha` scalars than any real network has (SDXL LoRA with both text encoders: ~800). */
const MAX_ALPHAS = 20_000

async function header(
  file: string,
  size: number,
): Promise<{ header: SafetensorsHeader } | { problem: string }> {
  const bytes = await readHeaderBytes(file, size)
  const r = parseHeader(bytes, size)
  return r.ok ? { header: r.header } : { problem: r.problem }
}

/** The values of the `.alpha` tensors: a few bytes each, read one by one from the data section. */
async function readAlphas(file: string, h: SafetensorsHeader): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  const list = Object.entries(alphaTensors(h))
  if (list.length === 0 || list.length > MAX_ALPHAS) return out
  const handle = await fs.open(file, 'r')
  try {
    const dataStart = 8 + h.headerLength
    for (const [name, t] of list) {
      const n = t.data_offsets[1] - t.data_offsets[0]
      if (n <= 0 || n > 8) continue
      const buf = new Uint8Array(n)
      await handle.read(buf, 0, n, dataStart + t.data_offsets[0])
      const v = scalarValue(t.dtype, buf)
      if (v !== null) out[name] = v
    }
  } finally {
    await handle.close()
  }
  return out
}

/** Inspects a LoRA file; ApiError with a fix when it cannot be read as safetensors. */
export async function readLora(file: string): Promise<{ info: LoraInfo; size: number }> {
  let stat
  try {
    stat = await fs.stat(file)
  } catch {
    throw new ApiError('not_found', `File not found: ${file}. Check the path.`)
  }
  if (!stat.isFile()) throw new ApiError('bad_request', `${file} is a folder, not a LoRA file.`)
  const h = await header(file, stat.size)
  if ('problem' in h)
    throw new ApiError('domain', `${file} is not a usable .safetensors file: ${h.problem}`, {
      kind: 'not_safetensors',
    })
  return { info: inspectLora(h.header, await readAlphas(file, h.header)), size: stat.size }
}

/** What checkTool needs to know about one input file. */
export async function fileFacts(file: string): Promise<FileFacts> {
  const none = { headerProblem: null, lora: null, model: null }
  let stat
  try {
    stat = await fs.stat(file)
  } catch {
    return { exists: false, isFile: false, ...none }
  }
  if (!stat.isFile()) return { exists: true, isFile: false, ...none }
  try {
    const h = await header(file, stat.size)
    if ('problem' in h) return { exists: true, isFile: true, ...none, headerProblem: h.problem }
    const model = classifyModel(h.header)
    const lora =
      model.kind === 'lora' || model.kind === 'lycoris'
        ? inspectLora(h.header, await readAlphas(file, h.header))
        : null
    return { exists: true, isFile: true, headerProblem: null, lora, model }
  } catch (error) {
    return { exists: true, isFile: true, ...none, headerProblem: (error as Error).message }
  }
}
