import {
  adjustMinMaxBucketReso,
  bucketSelector,
  compareReso,
  cropFraction,
  type BucketSettingError,
  type Reso,
} from './buckets'

/**
 * What sd-scripts v0.10.1 does with one dataset of DreamBooth-style subsets before the first step
 * (library/train_util.py DreamBoothDataset.__init__ and BaseDataset.make_buckets), given the image
 * sizes: which subsets it keeps, how it repeats regularization images to match the training images,
 * the bucket of every image, images per bucket with repeats, batches, and steps.
 */

export interface PlanImage {
  /** The image's path (sd-scripts' image key). */
  key: string
  /** Stored size (no EXIF rotation, as sd-scripts reads it); null or 0 when unreadable. */
  width: number | null
  height: number | null
}

export interface PlanSubset {
  image_dir: string
  num_repeats: number
  is_reg: boolean
  /** In any order; sorted here as sd-scripts' glob_images sorts them. */
  images: PlanImage[]
}

export interface PlanSettings {
  resolution: Reso
  enable_bucket: boolean
  min_bucket_reso: number
  max_bucket_reso: number
  bucket_reso_steps: number
  bucket_no_upscale: boolean
  batch_size: number
  gradient_accumulation_steps: number
  num_processes: number
  max_train_epochs?: number
  max_train_steps?: number
}

export interface PlannedBucket {
  width: number
  height: number
  /** Images in the bucket counting repeats (what sd-scripts logs as count). */
  count: number
  /** Distinct images (without repeats). */
  images: number
  /** ceil(count / batch size). */
  batches: number
}

export interface PlannedImage {
  key: string
  subset: number
  bucket: Reso | null
  /** The size before the centre crop. */
  resized: Reso | null
  /** Share of the resized image the crop cuts away (0–1). */
  crop: number
  /** Times seen per epoch (reg images: after balancing; 0 = not used). */
  repeats: number
  /** Why sd-scripts would stop on this image (with bucket null: at start-up, before any step). */
  failure: 'zero_size' | 'zero_bucket' | null
}

export interface PlannedSubset {
  image_dir: string
  is_reg: boolean
  num_repeats: number
  images: number
  /** Why sd-scripts ignores the subset (it logs a warning and goes on). */
  ignored: 'no_images' | 'duplicate' | null
  images_with_repeats: number
}

export interface DatasetPlan {
  /** sd-scripts stops at start-up with these bucket settings (an assertion). */
  settingsError: BucketSettingError | null
  min_bucket_reso: number
  max_bucket_reso: number
  /** min/max were not multiples of the bucket step and sd-scripts rounds them. */
  bucketResoAdjusted: boolean
  subsets: PlannedSubset[]
  /** "N train images with repeats." */
  train_images_with_repeats: number
  /** "N reg images with repeats." (before balancing) */
  reg_images_with_repeats: number
  /** Reg images actually seen per epoch after balancing to the training count. */
  reg_images_used: number
  buckets: PlannedBucket[]
  images: PlannedImage[]
  batches_per_epoch: number
  /** Optimizer steps per epoch per process (after gradient accumulation). */
  steps_per_epoch: number
  total_steps: number
  epochs: number
  /** Width × height of the largest bucket: the activation size of the biggest batch. */
  largest_bucket_area: number
  largest_bucket: Reso | null
  /** sd-scripts' "mean ar error (without repeats)". */
  mean_ar_error: number
}

/** A whole number ≥ 1 from any input (a batch size of 0, -1, 1.5 or NaN counts as 1, 2.5 as 2). */
function atLeastOne(x: number | undefined): number {
  return x !== undefined && Number.isFinite(x) && x >= 1 ? Math.floor(x) : 1
}

/** sd-scripts' default when neither epochs nor steps are given. */
export const SD_SCRIPTS_DEFAULT_MAX_TRAIN_STEPS = 1600

/** Python's str ordering: by code point (JS's default sort compares UTF-16 units). */
export function comparePyStr(a: string, b: string): number {
  const x = Array.from(a)
  const y = Array.from(b)
  const n = Math.min(x.length, y.length)
  for (let i = 0; i < n; i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0)
    if (d !== 0) return d
  }
  return x.length - y.length
}

/**
 * Steps from batches per epoch, as train_network.py / sdxl_train.py compute them: with epochs,
 * `epochs * ceil(batches / processes / grad_accum)`; otherwise `max_train_steps` (1600 by default) and
 * `ceil(steps / ceil(batches_per_process / grad_accum))` epochs.
 */
export function stepsFromBatches(
  batches: number,
  o: Pick<
    PlanSettings,
    'gradient_accumulation_steps' | 'num_processes' | 'max_train_epochs' | 'max_train_steps'
  >,
): { steps_per_epoch: number; total_steps: number; epochs: number } {
  const processes = atLeastOne(o.num_processes)
  const accum = atLeastOne(o.gradient_accumulation_steps)
  // accelerate splits the batches over processes, rounding up (even_batches).
  const perProcess = Math.ceil(batches / processes)
  const stepsPerEpoch = Math.ceil(perProcess / accum)
  if (o.max_train_epochs !== undefined) {
    return {
      steps_per_epoch: stepsPerEpoch,
      total_steps: o.max_train_epochs * Math.ceil(batches / processes / accum),
      epochs: o.max_train_epochs,
    }
  }
  const total = o.max_train_steps ?? SD_SCRIPTS_DEFAULT_MAX_TRAIN_STEPS
  return {
    steps_per_epoch: stepsPerEpoch,
    total_steps: total,
    epochs: stepsPerEpoch > 0 ? Math.ceil(total / stepsPerEpoch) : 0,
  }
}

interface Info {
  key: string
  subset: number
  repeats: number
  width: number | null
  height: number | null
}

export function planDataset(subsets: PlanSubset[], s: PlanSettings): DatasetPlan {
  const steps = s.enable_bucket ? s.bucket_reso_steps : 64
  const adjusted = s.enable_bucket
    ? adjustMinMaxBucketReso(s.resolution, s.min_bucket_reso, s.max_bucket_reso, steps)
    : { min: s.min_bucket_reso, max: s.max_bucket_reso, adjusted: false, error: null }
  // A minimum below one step rounds down to 0, and make_bucket_resolutions then divides by it.
  const settingsError: BucketSettingError | null =
    adjusted.error ??
    (s.enable_bucket && !s.bucket_no_upscale && adjusted.min <= 0
      ? { code: 'dataset.bucket.min_below_step', params: { min: s.min_bucket_reso, steps } }
      : null)

  // DreamBoothDataset.__init__: subsets in order; a repeated image_dir or a folder without images is ignored.
  const planned: PlannedSubset[] = []
  const seenDirs = new Set<string>()
  const imageData = new Map<string, Info>()
  const regInfos: Info[] = []
  let numTrain = 0
  let numReg = 0
  subsets.forEach((sub, index) => {
    const images = [...sub.images].sort((a, b) => comparePyStr(a.key, b.key))
    const entry: PlannedSubset = {
      image_dir: sub.image_dir,
      is_reg: sub.is_reg,
      num_repeats: sub.num_repeats,
      images: images.length,
      ignored: null,
      images_with_repeats: 0,
    }
    planned.push(entry)
    if (seenDirs.has(sub.image_dir)) {
      entry.ignored = 'duplicate'
      return
    }
    if (images.length < 1) {
      entry.ignored = 'no_images'
      return
    }
    seenDirs.add(sub.image_dir)
    entry.images_with_repeats = sub.num_repeats * images.length
    if (sub.is_reg) numReg += entry.images_with_repeats
    else numTrain += entry.images_with_repeats
    for (const img of images) {
      const info: Info = {
        key: img.key,
        subset: index,
        repeats: sub.num_repeats,
        width: img.width,
        height: img.height,
      }
      if (sub.is_reg) regInfos.push(info)
      else imageData.set(info.key, info)
    }
  })

  // Reg images are registered (and their repeats raised one by one) until they match the train count.
  let regUsed = 0
  if (numReg > 0) {
    let n = 0
    let first = true
    while (n < numTrain) {
      for (const info of regInfos) {
        if (first) {
          imageData.set(info.key, info)
          n += info.repeats
        } else {
          info.repeats += 1
          n += 1
        }
        if (n >= numTrain) break
      }
      first = false
    }
    regUsed = n
  }

  // make_buckets: one bucket per resolution; every image added once per repeat.
  const select = bucketSelector({
    enableBucket: s.enable_bucket,
    resolution: s.resolution,
    minBucketReso: adjusted.min,
    maxBucketReso: adjusted.max,
    bucketResoSteps: steps,
    noUpscale: s.bucket_no_upscale,
  })
  const bucketMap = new Map<string, PlannedBucket>()
  const images: PlannedImage[] = []
  const registered = new Set(imageData.values())
  let arErrorSum = 0
  let arErrorCount = 0
  for (const info of imageData.values()) {
    const choice = select(info.width ?? 0, info.height ?? 0)
    if ('failure' in choice) {
      images.push({
        key: info.key,
        subset: info.subset,
        bucket: null,
        resized: null,
        crop: 0,
        repeats: info.repeats,
        failure: choice.failure,
      })
      continue
    }
    arErrorSum += Math.abs(choice.arError)
    arErrorCount++
    const k = `${choice.reso[0]}x${choice.reso[1]}`
    const bucket = bucketMap.get(k) ?? {
      width: choice.reso[0],
      height: choice.reso[1],
      count: 0,
      images: 0,
      batches: 0,
    }
    bucket.count += info.repeats
    bucket.images += 1
    bucketMap.set(k, bucket)
    images.push({
      key: info.key,
      subset: info.subset,
      bucket: choice.reso,
      resized: choice.resized,
      crop: cropFraction(choice),
      repeats: info.repeats,
      failure: choice.reso[0] === 0 ? 'zero_bucket' : null,
    })
  }
  // Reg images that balancing never registered are not seen at all.
  for (const info of regInfos)
    if (!registered.has(info))
      images.push({
        key: info.key,
        subset: info.subset,
        bucket: null,
        resized: null,
        crop: 0,
        repeats: 0,
        failure: null,
      })

  const batch = atLeastOne(s.batch_size)
  const buckets = [...bucketMap.values()]
    .map((b) => ({ ...b, batches: Math.ceil(b.count / batch) }))
    .sort((a, b) => compareReso([a.width, a.height], [b.width, b.height]))
  const batches = buckets.reduce((n, b) => n + b.batches, 0)
  const largest = buckets.reduce<PlannedBucket | null>(
    (best, b) => (best === null || b.width * b.height > best.width * best.height ? b : best),
    null,
  )
  return {
    settingsError,
    min_bucket_reso: adjusted.min,
    max_bucket_reso: adjusted.max,
    bucketResoAdjusted: adjusted.adjusted,
    subsets: planned,
    train_images_with_repeats: numTrain,
    reg_images_with_repeats: numReg,
    reg_images_used: regUsed,
    buckets,
    images,
    batches_per_epoch: batches,
    ...stepsFromBatches(batches, s),
    largest_bucket_area: largest ? largest.width * largest.height : 0,
    largest_bucket: largest ? [largest.width, largest.height] : null,
    mean_ar_error: arErrorCount ? arErrorSum / arErrorCount : 0,
  }
}
