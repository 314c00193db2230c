// Pieces of the GPU-harness bundle builder that need no network: which sd-scripts files travel,
// how the size is counted, how the measurement plan becomes job folders.
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'

export const MIB = 1024 * 1024
/** What can travel to the GPU machine in one call: the working tree plus carried paths. */
export const DEVICE_LIMIT_BYTES = 64 * MIB

/** Top-level sd-scripts entries the SDXL scripts need; everything else stays behind. */
const SD_SCRIPTS_DIRS = ['library', 'networks']
const SD_SCRIPTS_ROOT_FILES =
  /^(sdxl_train\.py|sdxl_train_network\.py|train_network\.py|setup\.py|requirements\.txt|LICENSE\.md)$/
const SKIP_NAMES = /^(__pycache__|\.git|\.github)$|\.pyc$/

export interface FileEntry {
  /** path relative to the source root, with forward slashes */
  rel: string
  bytes: number
}

function walk(root: string, rel: string, out: FileEntry[]): void {
  const dir = path.join(root, rel)
  for (const name of readdirSync(dir).sort()) {
    if (SKIP_NAMES.test(name)) continue
    const relPath = rel ? `${rel}/${name}` : name
    const st = statSync(path.join(root, relPath))
    if (st.isDirectory()) walk(root, relPath, out)
    else if (st.isFile()) out.push({ rel: relPath, bytes: st.size })
  }
}

/** The sd-scripts files the bundle carries, or an error naming what is missing. */
export function selectSdScriptsFiles(root: string): FileEntry[] {
  for (const needed of [
    'sdxl_train_network.py',
    'sdxl_train.py',
    'train_network.py',
    'library/train_util.py',
  ]) {
    try {
      statSync(path.join(root, needed))
    } catch {
      throw new Error(
        `${root} does not look like an sd-scripts checkout: ${needed} is missing. ` +
          'Give the folder of kohya-ss/sd-scripts v0.10.1 with --sd-scripts.',
      )
    }
  }
  const files: FileEntry[] = []
  for (const name of readdirSync(root).sort()) {
    const st = statSync(path.join(root, name))
    if (st.isFile() && SD_SCRIPTS_ROOT_FILES.test(name)) files.push({ rel: name, bytes: st.size })
  }
  for (const dir of SD_SCRIPTS_DIRS) {
    try {
      if (statSync(path.join(root, dir)).isDirectory()) walk(root, dir, files)
    } catch {
      // networks/ is optional for the dry run; a missing library/ was caught above.
    }
  }
  return files
}

/** Copy entries from root to dest; returns a fingerprint of their contents. */
export function copyEntries(root: string, entries: FileEntry[], dest: string): string {
  const hash = createHash('sha256')
  for (const e of entries) {
    const src = path.join(root, e.rel)
    const dst = path.join(dest, e.rel)
    mkdirSync(path.dirname(dst), { recursive: true })
    copyFileSync(src, dst)
    hash.update(e.rel).update('\0').update(readFileSync(src))
  }
  return hash.digest('hex')
}

/** Every file under dir with its size (for the size table). */
export function listFiles(dir: string): FileEntry[] {
  const out: FileEntry[] = []
  walk(dir, '', out)
  return out
}

export interface SizeRow {
  part: string
  files: number
  bytes: number
}

export function sizeRows(root: string, parts: string[]): SizeRow[] {
  return parts.map((part) => {
    let files: FileEntry[] = []
    try {
      files = listFiles(path.join(root, part))
    } catch {
      files = []
    }
    return { part, files: files.length, bytes: files.reduce((s, f) => s + f.bytes, 0) }
  })
}

export function formatSizeTable(
  rows: SizeRow[],
  extra: SizeRow[],
  limit: number,
): { text: string; total: number; fits: boolean } {
  const all = [...rows, ...extra]
  const total = all.reduce((s, r) => s + r.bytes, 0)
  const lines = all.map(
    (r) =>
      `${r.part.padEnd(28)} ${String(r.files).padStart(6)} files ${(r.bytes / MIB).toFixed(2).padStart(8)} MiB`,
  )
  lines.push(
    `${'total'.padEnd(28)} ${''.padStart(12)} ${(total / MIB).toFixed(2).padStart(8)} MiB of ${(limit / MIB).toFixed(0)} MiB`,
  )
  return { text: lines.join('\n'), total, fits: total <= limit }
}

// --- the measurement plan --------------------------------------------------------------------

const TomlValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))])

export const PlanJob = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/),
  base: z.string().min(1),
  question: z.string().default(''),
  config: z.record(z.string(), TomlValue).default({}),
  dataset: z.record(z.string(), TomlValue).default({}),
  drop: z.array(z.string()).default([]),
  steps: z.number().int().positive().optional(),
})
export type PlanJob = z.infer<typeof PlanJob>

export const Plan = z.object({
  version: z.literal(1),
  comment: z.string().optional(),
  jobs: z.array(PlanJob).min(1),
})
export type Plan = z.infer<typeof Plan>

export function readPlan(file: string): Plan {
  return Plan.parse(JSON.parse(readFileSync(file, 'utf8')))
}

/** One exported preset, as the configs CLI writes it. */
export interface ExportedPreset {
  id: string
  dir: string
  hash: string
}

export interface JobMeta {
  id: string
  base: string
  preset_id: string | null
  preset_hash: string | null
  question: string
  config: Record<string, unknown>
  dataset: Record<string, unknown>
  drop: string[]
  steps?: number
  prediction: unknown
}

/** Presets named like an 8 GB / 12 GB target go first (issue 7's priorities), then the rest. */
export function orderPresets(presets: ExportedPreset[]): ExportedPreset[] {
  const rank = (id: string): number => (/(^|[^0-9])8\s*gb/i.test(id) ? 0 : /12\s*gb/i.test(id) ? 1 : 2)
  return [...presets].sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id))
}

/** `*` for all, or comma-separated ids with `*` wildcards (`*-8gb,*-12gb`). */
export function presetMatcher(pattern: string): (id: string) => boolean {
  const res = pattern
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map(
      (p) =>
        new RegExp(
          '^' +
            p
              .split('*')
              .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
              .join('.*') +
            '$',
        ),
    )
  return (id) => res.some((re) => re.test(id))
}

/**
 * Write one folder per job (config.toml, dataset.toml, optional command.txt, job.json) and
 * order.txt, in plan order. `preset:<pattern>` expands to the exported presets it matches
 * (see presetMatcher), 8 GB and 12 GB ones first.
 * Returns the job ids written and notes about what was skipped.
 */
export function materializeJobs(
  plan: Plan,
  configsDir: string,
  presets: ExportedPreset[] | null,
  predictions: Record<string, unknown>,
  outDir: string,
): { ids: string[]; notes: string[] } {
  mkdirSync(outDir, { recursive: true })
  const ids: string[] = []
  const notes: string[] = []
  const write = (id: string, srcDir: string, meta: JobMeta): void => {
    if (ids.includes(id)) throw new Error(`Two jobs are named ${id}; job ids must be unique.`)
    const dir = path.join(outDir, id)
    mkdirSync(dir, { recursive: true })
    for (const f of ['config.toml', 'dataset.toml']) {
      const src = path.join(srcDir, f)
      try {
        copyFileSync(src, path.join(dir, f))
      } catch {
        throw new Error(`${src} is missing: job ${id} needs config.toml and dataset.toml in ${srcDir}.`)
      }
    }
    try {
      copyFileSync(path.join(srcDir, 'command.txt'), path.join(dir, 'command.txt'))
    } catch {
      // command.txt is optional: the runner picks the script from network_module.
    }
    writeFileSync(path.join(dir, 'job.json'), JSON.stringify(meta, null, 2) + '\n')
    ids.push(id)
  }
  for (const job of plan.jobs) {
    const common = {
      question: job.question,
      config: job.config,
      dataset: job.dataset,
      drop: job.drop,
      steps: job.steps,
    }
    if (job.base.startsWith('preset:')) {
      if (presets === null) {
        notes.push(`${job.id}: presets are not available (no configs CLI); ${job.base} skipped`)
        continue
      }
      const matches = presetMatcher(job.base.slice('preset:'.length))
      // A preset already written by an earlier, narrower entry is not measured twice.
      const chosen = orderPresets(presets).filter((p) => matches(p.id) && !ids.includes(`preset-${p.id}`))
      if (chosen.length === 0)
        notes.push(`${job.id}: no exported preset (not yet in the plan) matches ${job.base}`)
      for (const p of chosen) {
        const id = `preset-${p.id}`
        write(id, p.dir, {
          id,
          base: job.base,
          preset_id: p.id,
          preset_hash: p.hash,
          ...common,
          prediction: predictions[id] ?? null,
        })
      }
      continue
    }
    write(job.id, path.join(configsDir, job.base), {
      id: job.id,
      base: job.base,
      preset_id: null,
      preset_hash: null,
      ...common,
      prediction: predictions[job.id] ?? null,
    })
  }
  writeFileSync(path.join(outDir, 'order.txt'), ids.join('\n') + '\n')
  return { ids, notes }
}

/**
 * sha256 over an exported preset's two TOML files, as its version reference in the results.
 * command.txt is left out: it names the folder the export was written to.
 */
export function hashExport(dir: string): string {
  const hash = createHash('sha256')
  for (const f of ['config.toml', 'dataset.toml']) {
    try {
      hash
        .update(f)
        .update('\0')
        .update(readFileSync(path.join(dir, f)))
    } catch {
      // a missing optional file simply does not contribute
    }
  }
  return hash.digest('hex').slice(0, 16)
}
