import type { GpuComputeCapability, GpuInfo, GpuProcess } from './types'

/**
 * Pure parsers for nvidia-smi output. The command lines they belong to are run by
 * electron/services/gpu/nvidia-smi.ts. Every parser returns a result instead of throwing, and a
 * line it cannot read fails the whole output: a half-read list would show GPUs that do not exist.
 */

/** The fields of `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` that the app reads. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'temperature.gpu',
  'driver_version',
] as const

/** `--query-compute-apps`: one row per process holding GPU memory. */
export const COMPUTE_APPS_FIELDS = ['pid', 'used_memory', 'gpu_uuid'] as const

/** `compute_cap` exists since driver ~510; older drivers refuse the whole query. */
export const COMPUTE_CAP_FIELDS = ['index', 'name', 'compute_cap'] as const

export const CSV_FORMAT = '--format=csv,noheader,nounits'

export interface NvidiaSmiParseError {
  kind: 'unparseable'
  message: string
  /** 1-based line of the output that could not be read; null when the output as a whole is wrong. */
  line: number | null
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: NvidiaSmiParseError }

export interface ParsedGpuQuery {
  gpus: GpuInfo[]
  driverVersion: string | null
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value })

function fail(message: string, line: number | null = null): { ok: false; error: NvidiaSmiParseError } {
  return { ok: false, error: { kind: 'unparseable', message, line } }
}

function quote(text: string): string {
  const t = text.trim()
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t)
}

const RUN_IT_YOURSELF = 'Run "nvidia-smi" in a terminal to see what the driver reports.'

/**
 * nvidia-smi writes "not available" as [N/A], [Not Supported], [Unknown Error], [Insufficient
 * Permissions], [GPU is lost]...; some older drivers print a bare N/A. All of these mean null.
 */
function isUnavailable(cell: string): boolean {
  return /^\[[^\]]*\]$/.test(cell) || /^n\/a$/i.test(cell) || cell === 'ERR!'
}

/** Lines nvidia-smi may print around its CSV that are not rows (kept out of the row count). */
function isNoticeLine(line: string): boolean {
  return /^(WARNING|Warning):/.test(line)
}

/** "No devices were found": a driver without a GPU; nvidia-smi exits with code 6 after it. */
export function isNoDevicesMessage(text: string): boolean {
  return /^\s*No devices were found\s*$/im.test(text)
}

/** `Field "compute_cap" is not a valid field to query.`: the driver is older than the field. */
export function invalidQueryField(text: string): string | null {
  const m = /Field "([^"]+)" is not a valid field to query/.exec(text)
  return m?.[1] ?? null
}

/** Query field names that nvidia-smi accepts under two spellings. */
const FIELD_ALIASES: Record<string, string> = {
  gpu_name: 'name',
  gpu_uuid: 'uuid',
  used_gpu_memory: 'used_memory',
}

function canonical(field: string): string {
  const f = field.trim().toLowerCase()
  return FIELD_ALIASES[f] ?? f
}

/** Fields whose values are free text and may contain commas (nvidia-smi does not quote them). */
const FREE_TEXT_FIELDS = new Set(['name', 'process_name'])

type Row = { line: number; cells: Map<string, string | null> }

/**
 * Splits CSV rows into cells named by `fields`. Only one free-text field (the GPU name) may hold
 * commas: the extra pieces are glued back into it, so "NVIDIA RTX A6000, Rev 2" stays whole.
 */
function parseCsvRows(text: string, fields: readonly string[]): ParseResult<Row[]> {
  const names = fields.map(canonical)
  const freeIndex = names.findIndex((n) => FREE_TEXT_FIELDS.has(n))
  const rows: Row[] = []
  const lines = text.split(/\r\n|\r|\n/)
  let seenRow = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || isNoticeLine(line)) continue
    const raw = line.split(',')
    let parts = raw.map((p) => p.trim())
    // A header line (someone passed --format=csv without noheader): "index, uuid, memory.total [MiB]".
    if (!seenRow && canonical(parts[0]!.replace(/\s*\[[^\]]*\]$/, '')) === names[0]) {
      seenRow = true
      continue
    }
    seenRow = true
    if (parts.length > names.length && freeIndex >= 0) {
      const extra = parts.length - names.length
      const glued = raw
        .slice(freeIndex, freeIndex + extra + 1)
        .join(',')
        .trim()
      parts = [...parts.slice(0, freeIndex), glued, ...parts.slice(freeIndex + extra + 1)]
    }
    if (parts.length !== names.length) {
      return fail(
        `nvidia-smi printed a line we cannot read (line ${i + 1}: ${quote(line)}; expected ${names.length} comma-separated values, found ${parts.length}). ${RUN_IT_YOURSELF}`,
        i + 1,
      )
    }
    const cells = new Map<string, string | null>()
    names.forEach((name, k) => {
      let cell = parts[k]!
      if (cell.length >= 2 && cell.startsWith('"') && cell.endsWith('"')) cell = cell.slice(1, -1).trim()
      cells.set(name, cell === '' || isUnavailable(cell) ? null : cell)
    })
    rows.push({ line: i + 1, cells })
  }
  return ok(rows)
}

/** "24564", "24564 MiB" (without nounits), "3 %", "41" -> number; anything else -> undefined. */
function toNumber(cell: string): number | undefined {
  const m = /^(-?\d+(?:\.\d+)?)\s*(?:MiB|%|W|MHz|C)?$/.exec(cell)
  return m ? Number(m[1]) : undefined
}

type Cell = string | null

/** Reads a numeric cell; a value that is present but not a number makes the row unreadable. */
function numberCell(row: Row, field: string, label: string): ParseResult<number | null> {
  const cell: Cell | undefined = row.cells.get(field)
  if (cell === undefined || cell === null) return ok(null)
  const n = toNumber(cell)
  if (n === undefined) {
    return fail(
      `nvidia-smi printed ${quote(cell)} where the ${label} should be (line ${row.line}). ${RUN_IT_YOURSELF}`,
      row.line,
    )
  }
  return ok(n)
}

function indexCell(row: Row, position: number): ParseResult<number> {
  if (!row.cells.has('index')) return ok(position)
  const cell = row.cells.get('index') ?? null
  const n = cell === null ? undefined : toNumber(cell)
  if (n === undefined || !Number.isInteger(n) || n < 0) {
    return fail(
      `nvidia-smi printed ${quote(cell ?? '')} where a GPU number should be (line ${row.line}). ${RUN_IT_YOURSELF}`,
      row.line,
    )
  }
  return ok(n)
}

/**
 * Parses `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits`. `fields` is the list
 * that was queried (in order); fields the app does not know are skipped, missing ones are null,
 * and without `index` the GPUs are numbered in the order printed.
 */
export function parseGpuQuery(
  text: string,
  fields: readonly string[] = GPU_QUERY_FIELDS,
): ParseResult<ParsedGpuQuery> {
  if (isNoDevicesMessage(text)) return ok({ gpus: [], driverVersion: null })
  const parsed = parseCsvRows(text, fields)
  if (!parsed.ok) return parsed
  const gpus: GpuInfo[] = []
  let driverVersion: string | null = null
  for (const [position, row] of parsed.value.entries()) {
    const index = indexCell(row, position)
    if (!index.ok) return index
    const numbers = {
      memory_total_mib: numberCell(row, 'memory.total', 'total memory'),
      memory_used_mib: numberCell(row, 'memory.used', 'used memory'),
      memory_free_mib: numberCell(row, 'memory.free', 'free memory'),
      utilization_percent: numberCell(row, 'utilization.gpu', 'GPU use'),
      temperature_c: numberCell(row, 'temperature.gpu', 'temperature'),
    }
    for (const r of Object.values(numbers)) if (!r.ok) return r
    const value = (r: ParseResult<number | null>) => (r.ok ? r.value : null)
    gpus.push({
      index: index.value,
      uuid: row.cells.get('uuid') ?? null,
      name: row.cells.get('name') ?? null,
      memory_total_mib: value(numbers.memory_total_mib),
      memory_used_mib: value(numbers.memory_used_mib),
      memory_free_mib: value(numbers.memory_free_mib),
      utilization_percent: value(numbers.utilization_percent),
      temperature_c: value(numbers.temperature_c),
    })
    driverVersion ??= row.cells.get('driver_version') ?? null
  }
  return ok({ gpus, driverVersion })
}

/**
 * Parses `--query-compute-apps=pid,used_memory,gpu_uuid`. Under Windows' WDDM the memory is
 * [N/A] (null). Old drivers print "No running processes found" instead of nothing.
 */
export function parseComputeApps(
  text: string,
  fields: readonly string[] = COMPUTE_APPS_FIELDS,
): ParseResult<GpuProcess[]> {
  if (/^\s*No running (compute )?processes found\s*$/im.test(text)) return ok([])
  const parsed = parseCsvRows(text, fields)
  if (!parsed.ok) return parsed
  const processes: GpuProcess[] = []
  for (const row of parsed.value) {
    const pidCell = row.cells.get('pid') ?? null
    const pid = pidCell === null ? undefined : toNumber(pidCell)
    if (pid === undefined || !Number.isInteger(pid) || pid < 0) {
      return fail(
        `nvidia-smi printed ${quote(pidCell ?? '')} where a process id should be (line ${row.line}). ${RUN_IT_YOURSELF}`,
        row.line,
      )
    }
    const used = numberCell(row, 'used_memory', 'process memory')
    if (!used.ok) return used
    processes.push({ pid, used_memory_mib: used.value, gpu_uuid: row.cells.get('uuid') ?? null })
  }
  return ok(processes)
}

/** Parses `--query-gpu=index,name,compute_cap`; "[N/A]" or a missing column gives null. */
export function parseComputeCapabilities(
  text: string,
  fields: readonly string[] = COMPUTE_CAP_FIELDS,
): ParseResult<GpuComputeCapability[]> {
  if (isNoDevicesMessage(text)) return ok([])
  const parsed = parseCsvRows(text, fields)
  if (!parsed.ok) return parsed
  const caps: GpuComputeCapability[] = []
  for (const [position, row] of parsed.value.entries()) {
    const index = indexCell(row, position)
    if (!index.ok) return index
    const cap = row.cells.get('compute_cap') ?? null
    if (cap !== null && !/^\d+\.\d+$/.test(cap)) {
      return fail(
        `nvidia-smi printed ${quote(cap)} where a compute capability like "8.9" should be (line ${row.line}). ${RUN_IT_YOURSELF}`,
        row.line,
      )
    }
    caps.push({ index: index.value, name: row.cells.get('name') ?? null, compute_cap: cap })
  }
  return ok(caps)
}

/* ------------------------------------------------------------------------------------------ */
/* The plain `nvidia-smi` table                                                                 */
/* ------------------------------------------------------------------------------------------ */

/** A GPU as the table shows it. The table truncates long names ("NVIDIA GeForce RTX 3060 ..."). */
export interface TableGpu {
  index: number
  name: string
  memory_used_mib: number | null
  memory_total_mib: number | null
  utilization_percent: number | null
  temperature_c: number | null
}

/** A row of the table's process list. Memory is null under Windows' WDDM ("N/A"). */
export interface TableProcess {
  gpu_index: number
  pid: number
  type: string
  process_name: string
  used_memory_mib: number | null
}

export interface NvidiaSmiTable {
  nvidia_smi_version: string | null
  driver_version: string | null
  /** The highest CUDA version the driver supports; null where the driver does not print it. */
  cuda_version: string | null
  gpus: TableGpu[]
  processes: TableProcess[]
}

/** "CUDA Version: 12.4" -> "12.4"; "CUDA Version: N/A", "ERR!" or no such field -> null. */
export function parseCudaVersion(header: string): string | null {
  const m = /CUDA Version:\s*(\d+(?:\.\d+)+)\b/.exec(header)
  return m?.[1] ?? null
}

export function parseDriverVersionFromTable(header: string): string | null {
  const m = /Driver Version:\s*(\d+(?:\.\d+)+)\b/.exec(header)
  return m?.[1] ?? null
}

function cellsOf(line: string): string[] {
  // "| a | b | c |" -> ["a", "b", "c"]
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '')
  return inner.split('|').map((c) => c.trim())
}

/** First line of a GPU block: "|   0  NVIDIA GeForce RTX 4090      On  |   00000000:01:00.0 Off |   Off |" */
const GPU_FIRST_CELL = /^(\d+)\s+(.+?)\s+(On|Off|WDDM|TCC|MCDM|N\/A)$/
const PROCESS_ROW =
  /^\|\s*(\d+)\s+(?:(?:\S+)\s+(?:\S+)\s+)?(\d+)\s+(C\+G|C|G|M|M\+C)\s+(.*?)\s+(\d+\s*MiB|N\/A)\s*\|$/

/**
 * Parses the plain `nvidia-smi` output: the header (driver, CUDA version), the GPU blocks and
 * the process list, in the old 79-column and the newer 89-column layouts.
 */
export function parseNvidiaSmiTable(text: string): ParseResult<NvidiaSmiTable> {
  const lines = text.split(/\r\n|\r|\n/)
  const headerLine = lines.find((l) => /NVIDIA-SMI\s+\d/.test(l) || /Driver Version:\s*\d/.test(l))
  if (headerLine === undefined) {
    const first = lines.find((l) => l.trim() !== '') ?? ''
    return fail(
      first === ''
        ? `nvidia-smi printed nothing. ${RUN_IT_YOURSELF}`
        : `nvidia-smi did not print its usual table (first line: ${quote(first)}). ${RUN_IT_YOURSELF}`,
    )
  }
  const smiVersion = /NVIDIA-SMI\s+(\d+(?:\.\d+)+)/.exec(headerLine)?.[1] ?? null
  const gpus: TableGpu[] = []
  const processes: TableProcess[] = []
  let inProcesses = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd()
    if (/^\|\s*Processes:/.test(line)) {
      inProcesses = true
      continue
    }
    if (!line.startsWith('|')) continue
    if (inProcesses) {
      const m = PROCESS_ROW.exec(line)
      if (m) {
        const mem = /(\d+)/.exec(m[5]!)
        processes.push({
          gpu_index: Number(m[1]),
          pid: Number(m[2]),
          type: m[3]!,
          process_name: m[4]!,
          used_memory_mib: mem ? Number(mem[1]) : null,
        })
      }
      continue
    }
    const cells = cellsOf(line)
    if (cells.length < 3) continue
    const first = GPU_FIRST_CELL.exec(cells[0]!)
    if (!first) continue
    // The second line of the block holds fan/temp/power, memory, and utilization.
    const next = lines[i + 1] ? cellsOf(lines[i + 1]!) : []
    const temp = /(?:^|\s)(\d+)C(?:\s|$)/.exec(next[0] ?? '')
    const mem = /(\d+)MiB\s*\/\s*(\d+)MiB/.exec(next[1] ?? '')
    const util = /^(\d+)%/.exec(next[2] ?? '')
    gpus.push({
      index: Number(first[1]),
      name: first[2]!,
      memory_used_mib: mem ? Number(mem[1]) : null,
      memory_total_mib: mem ? Number(mem[2]) : null,
      utilization_percent: util ? Number(util[1]) : null,
      temperature_c: temp ? Number(temp[1]) : null,
    })
  }
  return ok({
    nvidia_smi_version: smiVersion,
    driver_version: parseDriverVersionFromTable(headerLine),
    cuda_version: parseCudaVersion(headerLine),
    gpus,
    processes,
  })
}
