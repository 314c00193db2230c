/*
 * Which GPUs a run uses, as one list of nvidia-smi indexes. The same rules read the config's
 * `launch.gpu_ids` text, the CLI's `--gpus`, and what the Train page's GPU picker writes, so all
 * three accept and refuse the same things.
 */

/** Digits separated by single commas: "0", "0,1". */
export const GPU_IDS_PATTERN = /^\d+(,\d+)*$/

/** More than accelerate's process limit in the config schema is certainly a typo. */
export const MAX_GPUS = 64

export type GpuIdsProblem =
  /** Not digits and commas ("a", "-1", "0,1,", "0 1", Cyrillic). */
  | { code: 'gpu_ids_format'; params: { text: string } }
  /** The same GPU twice ("0,0"): one process per GPU. */
  | { code: 'gpu_ids_duplicate'; params: { index: number } }
  | { code: 'gpu_ids_too_many'; params: { count: number; max: number } }

export type ParsedGpuIds = { ok: true; ids: number[] } | { ok: false; problem: GpuIdsProblem }

/** Shortens what a user typed for a message (a pasted page must not become a page-long error). */
function shown(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

/**
 * Reads typed GPU ids. Spaces around commas are forgiven ("0, 1"); an empty text is no choice
 * (`ids: []`: the run uses what CUDA sees).
 */
export function parseGpuIds(text: string): ParsedGpuIds {
  const t = text.replace(/\s*,\s*/g, ',').trim()
  if (t === '') return { ok: true, ids: [] }
  if (!GPU_IDS_PATTERN.test(t))
    return { ok: false, problem: { code: 'gpu_ids_format', params: { text: shown(text) } } }
  const ids = t.split(',').map(Number)
  if (ids.length > MAX_GPUS)
    return { ok: false, problem: { code: 'gpu_ids_too_many', params: { count: ids.length, max: MAX_GPUS } } }
  const seen = new Set<number>()
  for (const id of ids) {
    if (!Number.isSafeInteger(id))
      return { ok: false, problem: { code: 'gpu_ids_format', params: { text: shown(text) } } }
    if (seen.has(id)) return { ok: false, problem: { code: 'gpu_ids_duplicate', params: { index: id } } }
    seen.add(id)
  }
  return { ok: true, ids }
}

/** The config text for a choice: "0,1"; undefined for no choice. Order is kept (it is CUDA's order). */
export function formatGpuIds(ids: readonly number[]): string | undefined {
  return ids.length > 0 ? ids.join(',') : undefined
}

/** The launch fields a GPU choice sets: one process per chosen GPU; no choice → one process, no ids. */
export function launchForGpus(ids: readonly number[]): {
  gpu_ids: string | undefined
  num_processes: number
} {
  return { gpu_ids: formatGpuIds(ids), num_processes: Math.max(1, ids.length) }
}

/** Indexes the choice names that the machine does not have (nvidia-smi's list). */
export function missingGpus(ids: readonly number[], present: readonly number[]): number[] {
  const have = new Set(present)
  return ids.filter((i) => !have.has(i))
}
