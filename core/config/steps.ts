/**
 * Steps per epoch and total steps as sd-scripts computes them, from image counts.
 *
 * sd-scripts counts bucket batches: for each aspect bucket, ceil(images in bucket / batch size), summed.
 * Without reading image sizes we approximate it with one bucket: ceil(images × repeats / batch). With
 * many small buckets the real number is a little higher (each partly filled bucket adds a batch).
 * Regularization images are repeated until they match the training images, so any reg subset doubles
 * the images per epoch.
 */

export interface SubsetCount {
  images: number
  num_repeats: number
  is_reg: boolean
}

export interface StepsInput {
  subsets: SubsetCount[]
  batch_size: number
  gradient_accumulation_steps: number
  num_processes: number
  max_train_epochs?: number
  max_train_steps?: number
}

export interface StepsEstimate {
  train_images_with_repeats: number
  reg_images_with_repeats: number
  /** Images seen per epoch (reg balanced to the training images). */
  images_per_epoch: number
  batches_per_epoch: number
  /** Optimizer steps per epoch (after gradient accumulation and across processes). */
  steps_per_epoch: number
  total_steps: number
  epochs: number
  /** Always true: buckets are approximated by one bucket. */
  approximate: true
}

/** sd-scripts' default when neither epochs nor steps are given. */
export const DEFAULT_MAX_TRAIN_STEPS = 1600

export function estimateSteps(input: StepsInput): StepsEstimate {
  const train = input.subsets.filter((s) => !s.is_reg).reduce((n, s) => n + s.images * s.num_repeats, 0)
  const reg = input.subsets.filter((s) => s.is_reg).reduce((n, s) => n + s.images * s.num_repeats, 0)
  const imagesPerEpoch = train + (reg > 0 ? train : 0)
  const batches = Math.ceil(imagesPerEpoch / Math.max(1, input.batch_size))
  const stepsPerEpoch = Math.ceil(
    batches / Math.max(1, input.num_processes) / Math.max(1, input.gradient_accumulation_steps),
  )
  let epochs: number
  let total: number
  if (input.max_train_epochs !== undefined) {
    epochs = input.max_train_epochs
    total = epochs * stepsPerEpoch
  } else {
    total = input.max_train_steps ?? DEFAULT_MAX_TRAIN_STEPS
    epochs = stepsPerEpoch > 0 ? Math.ceil(total / stepsPerEpoch) : 0
  }
  return {
    train_images_with_repeats: train,
    reg_images_with_repeats: reg,
    images_per_epoch: imagesPerEpoch,
    batches_per_epoch: batches,
    steps_per_epoch: stepsPerEpoch,
    total_steps: total,
    epochs,
    approximate: true,
  }
}

/** `<repeats>_<name>` folder names (sd-scripts' folder convention): repeats and class tokens, or null. */
export function parseRepeatsFolder(name: string): { num_repeats: number; class_tokens: string } | null {
  const m = /^(\d+)_(.*)$/.exec(name)
  if (!m) return null
  const n = Number(m[1])
  if (!Number.isInteger(n) || n < 1) return null
  return { num_repeats: n, class_tokens: m[2] ?? '' }
}
