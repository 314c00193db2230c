import type { DatasetProblem, DatasetScan, ProblemKind, SubsetScan } from '../api/domains/dataset'
import type { TrainingConfig } from '../config/schema'
import { tagFrequency } from './caption-ops'
import type { CaptionText } from './folder'
import { planDataset, type PlanSettings } from './plan'

/**
 * Turns the facts the file-system scan gathered (electron/services/dataset) into what the user sees:
 * per-folder summaries, the plan (buckets, steps), and every problem with its severity.
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'bmp'

export interface ImageFacts {
  name: string
  path: string
  bytes: number
  format: ImageFormat | null
  /** The size sd-scripts reads (imagesize, then PIL): stored size, no EXIF rotation; 0 when unreadable. */
  width: number
  height: number
  /** The real size when sd-scripts reads another (extended WebP: one pixel less each way). */
  realWidth: number
  realHeight: number
  /** EXIF orientation (JPEG), 1 = upright. */
  orientation: number | null
  damage: 'unreadable' | 'truncated' | 'maybe_truncated' | null
  /** Content hash, computed only for files that share their byte size with another. */
  hash: string | null
}

export interface CaptionFacts extends CaptionText {
  name: string
  path: string
  tokens: number
}

export interface FolderFacts {
  dir: string
  state: 'ok' | 'missing' | 'not_a_folder'
  images: ImageFacts[]
  /** Image name → caption (null: no caption file). */
  captions: Map<string, CaptionFacts | null>
  orphanCaptions: string[]
  notRead: string[]
}

/** PIL refuses images above this many pixels (DecompressionBombError). */
export const PIL_MAX_PIXELS = 2 * 89_478_485
/** Share of the image the crop may cut before we warn. */
export const HEAVY_CROP = 0.1
const MAX_PROBLEMS = 5000
const HISTOGRAM = [0, 512, 768, 1024, 1536, 2048]

const SEVERITY: Record<ProblemKind, DatasetProblem['severity']> = {
  folder_missing: 'error',
  not_a_folder: 'error',
  no_images: 'error',
  no_train_images: 'error',
  bucket_settings: 'error',
  image_unreadable: 'error',
  image_truncated: 'error',
  image_too_large: 'error',
  bucket_failure: 'error',
  caption_empty_file: 'error',
  caption_not_utf8: 'error',
  caption_missing: 'warning',
  caption_blank: 'warning',
  caption_multiline: 'warning',
  caption_bom: 'warning',
  caption_too_long: 'warning',
  image_maybe_truncated: 'warning',
  image_exif_rotated: 'warning',
  image_duplicate: 'warning',
  image_upscaled: 'warning',
  image_below_min_bucket: 'warning',
  image_heavy_crop: 'warning',
  bucket_smaller_than_batch: 'warning',
  subset_duplicate: 'warning',
  reg_excess: 'warning',
  reg_short: 'info',
  caption_orphan: 'info',
  file_not_read: 'info',
  webp_size_read_smaller: 'info',
  bucket_reso_adjusted: 'info',
}

export function problemSeverity(kind: ProblemKind): DatasetProblem['severity'] {
  return SEVERITY[kind]
}

export function planSettingsOf(config: TrainingConfig): PlanSettings {
  const d = config.dataset
  return {
    resolution: [d.resolution.width, d.resolution.height],
    enable_bucket: d.enable_bucket,
    min_bucket_reso: d.min_bucket_reso,
    max_bucket_reso: d.max_bucket_reso,
    bucket_reso_steps: d.bucket_reso_steps,
    bucket_no_upscale: d.bucket_no_upscale,
    batch_size: config.training.batch_size,
    gradient_accumulation_steps: config.training.gradient_accumulation_steps,
    num_processes: config.launch.num_processes,
    max_train_epochs: config.training.max_train_epochs,
    max_train_steps: config.training.max_train_steps,
  }
}

export function buildScan(
  config: TrainingConfig,
  folders: FolderFacts[],
  o: { tokenizer: 'clip' | 'estimate'; scannedMs: number; cachedFiles: number },
): DatasetScan {
  const settings = planSettingsOf(config)
  const maxTokens = config.training.max_token_length
  const problems: DatasetProblem[] = []
  let omitted = 0
  const add = (
    kind: ProblemKind,
    file: string | null,
    subset: number | null,
    params: DatasetProblem['params'] = {},
  ) => {
    if (problems.length >= MAX_PROBLEMS) omitted++
    else problems.push({ kind, severity: SEVERITY[kind], file, subset, params })
  }

  const plan = planDataset(
    config.dataset.subsets.map((s, i) => ({
      image_dir: s.image_dir,
      num_repeats: s.num_repeats,
      is_reg: s.is_reg,
      images: (folders[i]?.images ?? []).map((img) => ({
        key: img.path,
        width: img.width,
        height: img.height,
      })),
    })),
    settings,
  )
  if (plan.settingsError)
    add('bucket_settings', null, null, { reason: plan.settingsError.code, ...plan.settingsError.params })
  else if (plan.bucketResoAdjusted)
    add('bucket_reso_adjusted', null, null, { min: plan.min_bucket_reso, max: plan.max_bucket_reso })

  // Duplicates across all folders: the same bytes under two names train the same image twice.
  const byHash = new Map<string, string[]>()
  for (const f of folders)
    for (const img of f.images)
      if (img.hash) byHash.set(img.hash, [...(byHash.get(img.hash) ?? []), img.path])
  const duplicateOf = new Map<string, string>()
  for (const paths of byHash.values())
    if (paths.length > 1) for (const p of paths.slice(1)) duplicateOf.set(p, paths[0]!)

  const planned = new Map(plan.images.map((p) => [p.key, p]))
  const subsets: SubsetScan[] = config.dataset.subsets.map((s, index) => {
    const f = folders[index] ?? {
      dir: s.image_dir,
      state: 'missing' as const,
      images: [],
      captions: new Map(),
      orphanCaptions: [],
      notRead: [],
    }
    const ps = plan.subsets[index]
    if (f.state === 'missing') add('folder_missing', s.image_dir, index)
    else if (f.state === 'not_a_folder') add('not_a_folder', s.image_dir, index)
    else if (f.images.length === 0) add('no_images', s.image_dir, index, { reg: s.is_reg ? 1 : 0 })
    if (ps?.ignored === 'duplicate') add('subset_duplicate', s.image_dir, index)

    const formats: Record<string, number> = {}
    let captioned = 0
    let missing = 0
    let empty = 0
    let unreadable = 0
    let duplicates = 0
    let rotated = 0
    let below = 0
    let smallest: SubsetScan['smallest'] = null
    let largest: SubsetScan['largest'] = null
    const histogram = HISTOGRAM.map((from, i) => ({ from, to: HISTOGRAM[i + 1] ?? null, count: 0 }))
    const texts: string[] = []
    let tokenMax = 0
    let tokenSum = 0
    let overLimit = 0
    for (const img of f.images) {
      formats[img.format ?? 'unknown'] = (formats[img.format ?? 'unknown'] ?? 0) + 1
      if (img.damage === 'unreadable' || img.width <= 0 || img.height <= 0) {
        unreadable++
        add('image_unreadable', img.path, index)
      } else {
        if (img.damage === 'truncated') add('image_truncated', img.path, index)
        if (img.damage === 'maybe_truncated') add('image_maybe_truncated', img.path, index)
        if (img.width * img.height > PIL_MAX_PIXELS)
          add('image_too_large', img.path, index, { width: img.width, height: img.height })
        if (img.orientation !== null && img.orientation !== 1) {
          rotated++
          add('image_exif_rotated', img.path, index, { orientation: img.orientation })
        }
        if (img.realWidth !== img.width || img.realHeight !== img.height)
          add('webp_size_read_smaller', img.path, index, {
            width: img.width,
            height: img.height,
            real_width: img.realWidth,
            real_height: img.realHeight,
          })
        const area = img.width * img.height
        if (!smallest || area < smallest.width * smallest.height)
          smallest = { width: img.width, height: img.height, file: img.path }
        if (!largest || area > largest.width * largest.height)
          largest = { width: img.width, height: img.height, file: img.path }
        const short = Math.min(img.width, img.height)
        for (const h of histogram) if (short >= h.from && (h.to === null || short < h.to)) h.count++
      }
      const dup = duplicateOf.get(img.path)
      if (dup) {
        duplicates++
        add('image_duplicate', img.path, index, { same_as: dup })
      }
      const p = planned.get(img.path)
      if (p && p.subset === index) {
        if (p.failure) add('bucket_failure', img.path, index, { width: img.width, height: img.height })
        else if (p.bucket && p.resized) {
          if (p.resized[0] > img.width || p.resized[1] > img.height) {
            below++
            add('image_upscaled', img.path, index, {
              width: img.width,
              height: img.height,
              bucket_width: p.bucket[0],
              bucket_height: p.bucket[1],
              factor: Math.round((p.resized[0] / img.width) * 100) / 100,
            })
          } else if (
            settings.enable_bucket &&
            settings.bucket_no_upscale &&
            Math.min(...p.bucket) < plan.min_bucket_reso
          ) {
            below++
            add('image_below_min_bucket', img.path, index, {
              bucket_width: p.bucket[0],
              bucket_height: p.bucket[1],
              min: plan.min_bucket_reso,
            })
          }
          if (p.crop > HEAVY_CROP)
            add('image_heavy_crop', img.path, index, { percent: Math.round(p.crop * 100) })
        }
      }
      const cap = f.captions.get(img.name) ?? null
      if (!cap) {
        missing++
        // Class images without captions are the usual setup when the folder has class tokens.
        if (!(s.is_reg && s.class_tokens))
          add('caption_missing', img.path, index, { class_tokens: s.class_tokens ?? '' })
        continue
      }
      if (cap.status === 'empty_file') {
        empty++
        add('caption_empty_file', cap.path, index)
        continue
      }
      if (cap.status === 'not_utf8') {
        add('caption_not_utf8', cap.path, index)
        continue
      }
      captioned++
      if (cap.caption === '') {
        empty++
        add('caption_blank', cap.path, index)
      }
      if (cap.multiline) add('caption_multiline', cap.path, index)
      if (cap.bom) add('caption_bom', cap.path, index)
      if (cap.tokens > maxTokens) {
        overLimit++
        add('caption_too_long', cap.path, index, { tokens: cap.tokens, limit: maxTokens })
      }
      texts.push(cap.caption)
      tokenMax = Math.max(tokenMax, cap.tokens)
      tokenSum += cap.tokens
    }
    for (const c of f.orphanCaptions) add('caption_orphan', c, index)
    for (const n of f.notRead) add('file_not_read', n, index)
    const tags = tagFrequency(texts)
    const used = plan.images.filter((p) => p.subset === index).reduce((n, p) => n + p.repeats, 0)
    return {
      image_dir: s.image_dir,
      is_reg: s.is_reg,
      num_repeats: s.num_repeats,
      class_tokens: s.class_tokens ?? null,
      caption_extension: s.caption_extension,
      state: f.state,
      ignored: ps?.ignored ?? null,
      images: f.images.length,
      formats,
      captioned,
      missing_captions: missing,
      empty_captions: empty,
      orphan_captions: f.orphanCaptions.length,
      unreadable,
      duplicates,
      rotated,
      below_range: below,
      smallest,
      largest,
      size_histogram: histogram,
      tags: tags.slice(0, 60),
      distinct_tags: tags.length,
      tokens: {
        max: tokenMax,
        mean: texts.length ? Math.round((tokenSum / texts.length) * 10) / 10 : 0,
        over_limit: overLimit,
        limit: maxTokens,
      },
      images_with_repeats: ps?.images_with_repeats ?? 0,
      used_with_repeats: s.is_reg ? used : (ps?.images_with_repeats ?? 0),
    }
  })

  const batch = Math.max(1, Math.floor(settings.batch_size) || 1)
  const heavyByBucket = new Map<string, number>()
  for (const p of plan.images)
    if (p.bucket && p.crop > HEAVY_CROP)
      heavyByBucket.set(
        `${p.bucket[0]}x${p.bucket[1]}`,
        (heavyByBucket.get(`${p.bucket[0]}x${p.bucket[1]}`) ?? 0) + 1,
      )
  const buckets = plan.buckets.map((b) => ({
    ...b,
    under_batch: b.count < batch,
    heavy_crop: heavyByBucket.get(`${b.width}x${b.height}`) ?? 0,
  }))
  for (const b of buckets)
    if (b.under_batch)
      add('bucket_smaller_than_batch', null, null, {
        width: b.width,
        height: b.height,
        count: b.count,
        batch,
      })

  const hasTrain = plan.train_images_with_repeats > 0
  if (!hasTrain && config.dataset.subsets.length > 0) add('no_train_images', null, null)
  let balance: DatasetScan['balance'] = 'no_reg'
  if (plan.reg_images_with_repeats > 0) {
    if (plan.reg_images_with_repeats > plan.train_images_with_repeats) {
      balance = 'reg_excess'
      add('reg_excess', null, null, {
        reg: plan.reg_images_with_repeats,
        train: plan.train_images_with_repeats,
        unused: plan.images.filter((p) => p.repeats === 0).length,
      })
    } else if (plan.reg_images_with_repeats < plan.train_images_with_repeats) {
      balance = 'reg_short'
      add('reg_short', null, null, {
        reg: plan.reg_images_with_repeats,
        train: plan.train_images_with_repeats,
      })
    } else balance = 'balanced'
  }

  const allImages = folders.reduce((n, f) => n + f.images.length, 0)
  return {
    settings: {
      resolution: [settings.resolution[0], settings.resolution[1]],
      enable_bucket: settings.enable_bucket,
      min_bucket_reso: plan.min_bucket_reso,
      max_bucket_reso: plan.max_bucket_reso,
      bucket_reso_steps: settings.bucket_reso_steps,
      bucket_no_upscale: settings.bucket_no_upscale,
      batch_size: settings.batch_size,
      gradient_accumulation_steps: settings.gradient_accumulation_steps,
      num_processes: settings.num_processes,
      max_train_epochs: settings.max_train_epochs ?? null,
      max_train_steps: settings.max_train_steps ?? null,
      max_token_length: maxTokens,
    },
    subsets,
    images: allImages,
    captioned: subsets.reduce((n, s) => n + s.captioned, 0),
    buckets,
    train_images_with_repeats: plan.train_images_with_repeats,
    reg_images_with_repeats: plan.reg_images_with_repeats,
    reg_images_used: plan.reg_images_used,
    batches_per_epoch: plan.batches_per_epoch,
    steps_per_epoch: plan.steps_per_epoch,
    total_steps: plan.total_steps,
    epochs: plan.epochs,
    largest_bucket_area: plan.largest_bucket_area,
    largest_bucket: plan.largest_bucket ? [plan.largest_bucket[0], plan.largest_bucket[1]] : null,
    mean_ar_error: plan.mean_ar_error,
    balance,
    problems,
    problems_omitted: omitted,
    tokenizer: o.tokenizer,
    scanned_ms: o.scannedMs,
    cached_files: o.cachedFiles,
  }
}
