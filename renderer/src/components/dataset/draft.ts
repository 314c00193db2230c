import { useEffect, useState } from 'react'
import type { RequestInput } from '../../../../core/api/contract'
import type { TrainingConfig } from '../../../../core/config/schema'
import { parseRepeatsFolder } from '../../../../core/config/steps'

/**
 * What the Dataset page is set to: its image folders and the training settings that shape buckets and
 * steps. Kept in localStorage, so a reload or a crash of the page never loses it. Numbers are kept as
 * typed (a half-typed "1e" is a string) and checked when the scan config is built.
 */

export interface DraftFolder {
  image_dir: string
  num_repeats: number | string
  class_tokens: string
  caption_extension: string
  is_reg: boolean
}

export interface Draft {
  folders: DraftFolder[]
  resolution: number | string
  batch_size: number | string
  max_train_epochs: number | string
  gradient_accumulation_steps: number | string
  enable_bucket: boolean
  bucket_no_upscale: boolean
  min_bucket_reso: number | string
  max_bucket_reso: number | string
  bucket_reso_steps: number | string
  max_token_length: '75' | '150' | '225'
}

export type NumberField =
  | 'resolution'
  | 'batch_size'
  | 'max_train_epochs'
  | 'gradient_accumulation_steps'
  | 'min_bucket_reso'
  | 'max_bucket_reso'
  | 'bucket_reso_steps'

/** Ranges the config schema accepts (core/config/schema.ts); steps must also be a multiple of 32 for SDXL. */
export const RANGES: Record<NumberField, [number, number]> = {
  resolution: [256, 4096],
  batch_size: [1, 256],
  max_train_epochs: [1, 100_000],
  gradient_accumulation_steps: [1, 1024],
  min_bucket_reso: [64, 4096],
  max_bucket_reso: [64, 8192],
  bucket_reso_steps: [32, 1024],
}

export const defaultDraft: Draft = {
  folders: [],
  resolution: 1024,
  batch_size: 1,
  max_train_epochs: 10,
  gradient_accumulation_steps: 1,
  enable_bucket: true,
  bucket_no_upscale: true,
  min_bucket_reso: 512,
  max_bucket_reso: 2048,
  bucket_reso_steps: 64,
  max_token_length: '75',
}

export const newFolder = (is_reg: boolean): DraftFolder => ({
  image_dir: '',
  num_repeats: is_reg ? 1 : 10,
  class_tokens: '',
  caption_extension: '.txt',
  is_reg,
})

const KEY = 'sdxl-studio.dataset.draft'

function load(): Draft {
  try {
    const raw = localStorage.getItem(KEY)
    if (!raw) return defaultDraft
    const parsed = JSON.parse(raw) as Partial<Draft>
    return {
      ...defaultDraft,
      ...parsed,
      folders: Array.isArray(parsed.folders)
        ? parsed.folders.map((f) => ({ ...newFolder(false), ...f }))
        : [],
    }
  } catch {
    return defaultDraft
  }
}

export function useDraft(): [Draft, (update: (d: Draft) => Draft) => void] {
  const [draft, setDraft] = useState<Draft>(load)
  useEffect(() => {
    try {
      localStorage.setItem(KEY, JSON.stringify(draft))
    } catch {
      // storage full or disabled: the page still works, it just will not remember
    }
  }, [draft])
  return [draft, setDraft]
}

/** The field's problem, or null: 'range' (with its bounds) or 'multiple32'. */
export function fieldError(field: NumberField, value: number | string): 'range' | 'multiple32' | null {
  const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value)
  const [min, max] = RANGES[field]
  if (!Number.isInteger(n) || n < min || n > max) return 'range'
  if (field === 'bucket_reso_steps' && n % 32 !== 0) return 'multiple32'
  return null
}

type ScanConfigInput = RequestInput<'dataset.scan'>['config']

/** The scan config for a draft, or null while a number is not valid (the field shows why). */
export function toConfig(d: Draft): ScanConfigInput | null {
  const fields = Object.keys(RANGES) as NumberField[]
  if (fields.some((f) => fieldError(f, d[f]) !== null)) return null
  if (
    d.folders.some(
      (f) =>
        !Number.isInteger(Number(f.num_repeats)) ||
        Number(f.num_repeats) < 1 ||
        Number(f.num_repeats) > 10_000,
    )
  )
    return null
  const folders = d.folders.filter((f) => f.image_dir.trim() !== '')
  const n = (v: number | string) => Number(v)
  return {
    type: 'lora',
    dataset: {
      subsets: folders.map((f) => ({
        image_dir: f.image_dir.trim(),
        num_repeats: n(f.num_repeats),
        is_reg: f.is_reg,
        caption_extension: /^\.[\w.-]{1,20}$/.test(f.caption_extension) ? f.caption_extension : '.txt',
        ...(f.class_tokens.trim() ? { class_tokens: f.class_tokens.trim() } : {}),
      })),
      resolution: { width: n(d.resolution), height: n(d.resolution) },
      enable_bucket: d.enable_bucket,
      bucket_no_upscale: d.bucket_no_upscale,
      min_bucket_reso: n(d.min_bucket_reso),
      max_bucket_reso: n(d.max_bucket_reso),
      bucket_reso_steps: n(d.bucket_reso_steps),
    },
    training: {
      batch_size: n(d.batch_size),
      max_train_epochs: n(d.max_train_epochs),
      gradient_accumulation_steps: n(d.gradient_accumulation_steps),
      max_token_length: Number(d.max_token_length) as 75 | 150 | 225,
    },
  }
}

/** Repeats and class tokens from a `<repeats>_<name>` folder name, as sd-scripts reads them. */
export function repeatsFromName(dir: string): { num_repeats: number; class_tokens: string } | null {
  return parseRepeatsFolder(
    dir
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .at(-1) ?? '',
  )
}

/**
 * The Dataset page set to a training config's folders and bucket settings (the Train page's "Open in
 * the Dataset page"). Only what the page can show is taken; a size it cannot hold keeps its default.
 */
export function draftFromConfig(config: TrainingConfig): Draft {
  const d = config.dataset
  const inRange = (field: NumberField, v: number | undefined) =>
    v !== undefined && fieldError(field, v) === null ? v : defaultDraft[field]
  return {
    ...defaultDraft,
    folders: d.subsets
      .filter((s) => s.image_dir.trim() !== '')
      .map((s) => ({
        image_dir: s.image_dir,
        num_repeats: s.num_repeats,
        class_tokens: s.class_tokens ?? '',
        caption_extension: s.caption_extension,
        is_reg: s.is_reg,
      })),
    // The page has one side for a square resolution; a non-square one keeps its width.
    resolution: inRange('resolution', d.resolution.width),
    batch_size: inRange('batch_size', config.training.batch_size),
    max_train_epochs: inRange('max_train_epochs', config.training.max_train_epochs),
    gradient_accumulation_steps: inRange(
      'gradient_accumulation_steps',
      config.training.gradient_accumulation_steps,
    ),
    enable_bucket: d.enable_bucket,
    bucket_no_upscale: d.bucket_no_upscale,
    min_bucket_reso: inRange('min_bucket_reso', d.min_bucket_reso),
    max_bucket_reso: inRange('max_bucket_reso', d.max_bucket_reso),
    bucket_reso_steps: inRange('bucket_reso_steps', d.bucket_reso_steps),
    max_token_length: String(config.training.max_token_length) as Draft['max_token_length'],
  }
}

/** Stores a draft for the Dataset page to open with (it reads it when it mounts). */
export function storeDraft(d: Draft): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(d))
  } catch {
    // storage full or disabled: the Dataset page opens with what it had
  }
}
