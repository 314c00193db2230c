import { promises as fs } from 'node:fs'
import path from 'node:path'
import { ScanConfig, type DatasetScan } from '../../../core/api/domains/dataset'
import { describeZodError } from '../../../core/api/errors'
import { parseRepeatsFolder } from '../../../core/config/steps'
import type { TrainingConfig } from '../../../core/config/schema'
import { listRepeatFolders, inspectImageFolder } from '../../services/configs/dataset'
import { CliUsageError, command, jsonOption, printJson } from '../command'

const scanOptions = {
  config: { type: 'string' },
  resolution: { type: 'string' },
  'min-bucket': { type: 'string' },
  'max-bucket': { type: 'string' },
  'bucket-steps': { type: 'string' },
  'no-upscale': { type: 'boolean', default: false },
  'no-bucket': { type: 'boolean', default: false },
  batch: { type: 'string' },
  repeats: { type: 'string' },
  reg: { type: 'string', multiple: true },
  epochs: { type: 'string' },
  full: { type: 'boolean', default: false },
  ...jsonOption,
} as const

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>

function wholeNumber(values: Values, name: string, min = 1): number | undefined {
  const raw = values[name]
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < min)
    throw new CliUsageError(`--${name} must be a whole number of at least ${min} (got "${String(raw)}").`)
  return n
}

function resolution(values: Values): { width: number; height: number } | undefined {
  const raw = values.resolution
  if (raw === undefined) return undefined
  const m = typeof raw === 'string' ? /^\s*(\d+)\s*(?:[,x×]\s*(\d+))?\s*$/.exec(raw) : null
  if (!m) throw new CliUsageError(`--resolution must be a size like 1024 or 1024,768 (got "${String(raw)}").`)
  const width = Number(m[1])
  return { width, height: m[2] ? Number(m[2]) : width }
}

/** Subsets for a folder: itself when it holds images, else its <repeats>_<name> sub-folders. */
async function folderSubsets(dir: string, is_reg: boolean, repeats: number | undefined) {
  const inspected = await inspectImageFolder(dir)
  if (!inspected.exists) throw new Error(`Dataset folder not found: ${dir}. Choose an existing folder.`)
  if (inspected.images === 0) {
    const children = await listRepeatFolders(dir)
    if (children.length)
      return children.map((c) => ({
        image_dir: c.dir,
        num_repeats: repeats ?? c.num_repeats,
        class_tokens: c.class_tokens || undefined,
        is_reg,
      }))
  }
  const fromName = parseRepeatsFolder(path.basename(dir))
  return [
    {
      image_dir: dir,
      num_repeats: repeats ?? fromName?.num_repeats ?? 1,
      class_tokens: fromName?.class_tokens || undefined,
      is_reg,
    },
  ]
}

async function configFor(values: Values, positionals: string[]): Promise<TrainingConfig> {
  const overrides = {
    resolution: resolution(values),
    min_bucket_reso: wholeNumber(values, 'min-bucket'),
    max_bucket_reso: wholeNumber(values, 'max-bucket'),
    bucket_reso_steps: wholeNumber(values, 'bucket-steps'),
    batch: wholeNumber(values, 'batch'),
    repeats: wholeNumber(values, 'repeats'),
    epochs: wholeNumber(values, 'epochs'),
  }
  let raw: Record<string, unknown>
  if (typeof values.config === 'string') {
    if (positionals.length) throw new CliUsageError('Give either a folder or --config <file>, not both.')
    let text: string
    try {
      text = await fs.readFile(values.config, 'utf8')
    } catch {
      throw new Error(`Config file not found: ${values.config}`)
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>
    } catch (error) {
      throw new Error(`Config file is not valid JSON: ${values.config} (${(error as Error).message})`)
    }
  } else {
    const folder = positionals[0]
    if (!folder)
      throw new CliUsageError('Name the image folder (dataset scan <folder>) or a config (--config <file>).')
    const regs = ((values.reg as string[] | undefined) ?? []).map((r) => path.resolve(r))
    const subsets = [
      ...(await folderSubsets(path.resolve(folder), false, overrides.repeats)),
      ...(await Promise.all(regs.map((r) => folderSubsets(r, true, undefined)))).flat(),
    ]
    // sd-scripts' own defaults for a folder scan (the config's defaults are the app's SDXL presets).
    raw = {
      dataset: {
        subsets,
        min_bucket_reso: 256,
        max_bucket_reso: 2048,
        bucket_reso_steps: 64,
        bucket_no_upscale: false,
        enable_bucket: true,
      },
      training: { max_train_epochs: 1 },
    }
  }
  const dataset = (raw.dataset ?? {}) as Record<string, unknown>
  const training = (raw.training ?? {}) as Record<string, unknown>
  const merged = {
    ...raw,
    dataset: {
      ...dataset,
      ...(overrides.resolution ? { resolution: overrides.resolution } : {}),
      ...(overrides.min_bucket_reso !== undefined ? { min_bucket_reso: overrides.min_bucket_reso } : {}),
      ...(overrides.max_bucket_reso !== undefined ? { max_bucket_reso: overrides.max_bucket_reso } : {}),
      ...(overrides.bucket_reso_steps !== undefined
        ? { bucket_reso_steps: overrides.bucket_reso_steps }
        : {}),
      ...(values['no-upscale'] ? { bucket_no_upscale: true } : {}),
      ...(values['no-bucket'] ? { enable_bucket: false } : {}),
    },
    training: {
      ...training,
      ...(overrides.batch !== undefined ? { batch_size: overrides.batch } : {}),
      ...(overrides.epochs !== undefined ? { max_train_epochs: overrides.epochs } : {}),
    },
  }
  const parsed = ScanConfig.safeParse(merged)
  if (!parsed.success) throw new Error(`These settings are not valid: ${describeZodError(parsed.error)}`)
  return parsed.data
}

/** The document `dataset scan --json` prints (stable: scripts read it). */
export function scanJson(scan: DatasetScan) {
  return {
    images: scan.images,
    captioned: scan.captioned,
    buckets: scan.buckets.map((b) => ({ width: b.width, height: b.height, count: b.count })),
    batches_per_epoch: scan.batches_per_epoch,
    problems: scan.problems.map((p) => ({ kind: p.kind, file: p.file })),
  }
}

function formatScan(scan: DatasetScan): string {
  const lines: string[] = []
  for (const s of scan.subsets) {
    lines.push(
      `${s.is_reg ? 'reg ' : ''}${s.image_dir}: ${s.images} images, ${s.captioned} captioned, ${s.num_repeats} repeats${s.ignored ? ` (ignored: ${s.ignored})` : ''}`,
    )
  }
  lines.push('', 'Buckets (width x height: images with repeats, batches):')
  for (const b of scan.buckets)
    lines.push(
      `  ${b.width}x${b.height}: ${b.count}, ${b.batches}${b.under_batch ? '  (fewer than the batch size)' : ''}`,
    )
  lines.push(
    '',
    `${scan.batches_per_epoch} batches per epoch, ${scan.steps_per_epoch} steps per epoch, ${scan.total_steps} steps in ${scan.epochs} epochs`,
  )
  if (scan.largest_bucket) lines.push(`Largest bucket: ${scan.largest_bucket[0]}x${scan.largest_bucket[1]}`)
  const counts = new Map<string, number>()
  for (const p of scan.problems)
    counts.set(`${p.severity} ${p.kind}`, (counts.get(`${p.severity} ${p.kind}`) ?? 0) + 1)
  if (counts.size) {
    lines.push('', 'Problems:')
    for (const [k, n] of [...counts].sort()) lines.push(`  ${k}: ${n}`)
  } else lines.push('', 'No problems found.')
  if (scan.tokenizer === 'estimate')
    lines.push('(Caption token counts are estimates: no CLIP tokenizer files found.)')
  return `${lines.join('\n')}\n`
}

export const datasetCommands = [
  command({
    path: ['dataset', 'scan'],
    summary:
      'Scan an image folder (or every folder of --config) as sd-scripts will see it: images, captions, problems, buckets, steps; exit 1 when a problem stops training',
    args: '<folder> | --config <file> [--resolution 1024] [--min-bucket 256] [--max-bucket 2048] [--bucket-steps 64] [--no-upscale] [--no-bucket] [--batch 1] [--repeats N] [--reg <folder>] [--epochs N] [--json [--full]]',
    options: scanOptions,
    async run({ values, positionals }, ctx) {
      const config = await configFor(values, positionals)
      const scan = await ctx.call('dataset.scan', { config })
      if (values.json) printJson(ctx.io, values.full ? scan : scanJson(scan))
      else ctx.io.stdout(formatScan(scan))
      return scan.problems.some((p) => p.severity === 'error') ? 1 : 0
    },
  }),
]
