/**
 * Aspect-ratio buckets exactly as sd-scripts v0.10.1 makes them (library/model_util.py
 * make_bucket_resolutions, library/train_util.py BucketManager and BaseDataset.make_buckets).
 *
 * The arithmetic follows Python's: `//` on floats is CPython's floor division (which can differ from
 * Math.floor(a / b) by one ulp-caused step), `int(x)` truncates toward zero, `/` is IEEE division.
 * tests/unit/dataset-buckets.test.ts compares every function with sd-scripts' own code on
 * thousands of sizes (and golden data from that comparison keeps CI honest without sd-scripts).
 */

export type Reso = readonly [width: number, height: number]

/** CPython's float floor division (Objects/floatobject.c float_floor_div), for finite b != 0. */
export function pyFloatFloorDiv(a: number, b: number): number {
  let mod = a % b
  let div = (a - mod) / b
  if (mod !== 0) {
    if (b < 0 !== mod < 0) {
      mod += b
      div -= 1
    }
  }
  let floordiv: number
  if (div !== 0) {
    floordiv = Math.floor(div)
    if (div - floordiv > 0.5) floordiv += 1
  } else {
    floordiv = b < 0 ? -0 : 0
  }
  return floordiv
}

/** Python's integer `a // b` (both integers). */
function intFloorDiv(a: number, b: number): number {
  return Math.floor(a / b)
}

/** Python's `int(x)` for a float: truncation toward zero. */
function pyInt(x: number): number {
  return Math.trunc(x)
}

/** Python's `a % b` for integers (result has the sign of b). */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b
}

/** Tuple order, as Python sorts (w, h) pairs. */
export function compareReso(a: Reso, b: Reso): number {
  return a[0] - b[0] || a[1] - b[1]
}

const key = (r: Reso) => `${r[0]}x${r[1]}`

/** make_bucket_resolutions: the predefined buckets for `maxReso` (w, h), sorted. */
export function makeBucketResolutions(maxReso: Reso, minSize = 256, maxSize = 1024, divisible = 64): Reso[] {
  const [maxWidth, maxHeight] = maxReso
  const maxArea = maxWidth * maxHeight
  const resos = new Map<string, Reso>()
  const add = (r: Reso) => resos.set(key(r), r)
  const square = pyInt(pyFloatFloorDiv(Math.sqrt(maxArea), divisible)) * divisible
  add([square, square])
  for (let width = minSize; width <= maxSize; width += divisible) {
    const height = Math.min(maxSize, intFloorDiv(intFloorDiv(maxArea, width), divisible) * divisible)
    if (height >= minSize) {
      add([width, height])
      add([height, width])
    }
  }
  return [...resos.values()].sort(compareReso)
}

export type BucketSettingError =
  | { code: 'dataset.bucket.min_above_resolution'; params: { min: number; resolution: number } }
  | { code: 'dataset.bucket.max_below_resolution'; params: { max: number; resolution: number } }
  | { code: 'dataset.bucket.min_below_step'; params: { min: number; steps: number } }

/**
 * adjust_min_max_bucket_reso_by_steps: min rounded down and max rounded up to the bucket step; sd-scripts
 * asserts (and stops) when min exceeds the smaller side of the resolution or max is below the larger.
 */
export function adjustMinMaxBucketReso(
  resolution: Reso,
  minBucketReso: number,
  maxBucketReso: number,
  steps: number,
): { min: number; max: number; adjusted: boolean; error: BucketSettingError | null } {
  let min = minBucketReso
  let max = maxBucketReso
  if (pyMod(min, steps) !== 0) min = min - pyMod(min, steps)
  if (pyMod(max, steps) !== 0) max = max + steps - pyMod(max, steps)
  const adjusted = min !== minBucketReso || max !== maxBucketReso
  let error: BucketSettingError | null = null
  const small = Math.min(resolution[0], resolution[1])
  const large = Math.max(resolution[0], resolution[1])
  if (!(small >= min))
    error = { code: 'dataset.bucket.min_above_resolution', params: { min, resolution: small } }
  else if (!(large <= max))
    error = { code: 'dataset.bucket.max_below_resolution', params: { max, resolution: large } }
  return { min, max, adjusted, error }
}

export interface BucketChoice {
  reso: Reso
  /** The size the image is resized to before the centre crop to `reso`. */
  resized: Reso
  /** bucket aspect ratio − image aspect ratio (sd-scripts' ar_error). */
  arError: number
}

/**
 * Why sd-scripts fails on an image in select_bucket: a zero-sized image (size unreadable), or a bucket
 * height of 0 (no-upscale with a side below the bucket step, or an extreme aspect ratio); both end in
 * ZeroDivisionError there. A bucket width of 0 passes select_bucket and fails later, when the image is
 * resized (planDataset flags it).
 */
export type BucketFailure = { failure: 'zero_size' | 'zero_bucket' }

export interface BucketSettings {
  /** sd-scripts' `enable_bucket`. Off: one bucket of the resolution. */
  enableBucket: boolean
  resolution: Reso
  /** Already adjusted by adjustMinMaxBucketReso. */
  minBucketReso: number
  maxBucketReso: number
  bucketResoSteps: number
  noUpscale: boolean
}

/** BucketManager.select_bucket for one dataset's settings; `select` is called per image. */
export function bucketSelector(
  settings: BucketSettings,
): (width: number, height: number) => BucketChoice | BucketFailure {
  const noUpscale = settings.enableBucket ? settings.noUpscale : false
  const maxArea = settings.resolution[0] * settings.resolution[1]
  const steps = settings.bucketResoSteps
  let predefined: Reso[] = []
  let predefinedSet = new Set<string>()
  let predefinedAr: number[] = []
  if (!settings.enableBucket || !noUpscale) {
    predefined = settings.enableBucket
      ? makeBucketResolutions(settings.resolution, settings.minBucketReso, settings.maxBucketReso, steps)
      : [settings.resolution]
    predefinedSet = new Set(predefined.map(key))
    predefinedAr = predefined.map(([w, h]) => w / h)
  }
  const roundToSteps = (x: number) => {
    const v = pyInt(x + 0.5)
    return v - pyMod(v, steps)
  }

  return (imageWidth, imageHeight) => {
    if (!(imageWidth > 0 && imageHeight > 0)) return { failure: 'zero_size' }
    const aspect = imageWidth / imageHeight
    let reso: Reso
    let resized: Reso
    if (!noUpscale) {
      reso = [imageWidth, imageHeight]
      if (!predefinedSet.has(key(reso))) {
        // numpy argmin of |ar - aspect|: the first of equal minima.
        let best = 0
        let bestErr = Infinity
        for (let i = 0; i < predefinedAr.length; i++) {
          const err = Math.abs((predefinedAr[i] ?? 0) - aspect)
          if (err < bestErr) {
            bestErr = err
            best = i
          }
        }
        reso = predefined[best] ?? settings.resolution
      }
      const arReso = reso[0] / reso[1]
      const scale = aspect > arReso ? reso[1] / imageHeight : reso[0] / imageWidth
      resized = [pyInt(imageWidth * scale + 0.5), pyInt(imageHeight * scale + 0.5)]
    } else {
      if (imageWidth * imageHeight > maxArea) {
        const resizedWidth = Math.sqrt(maxArea * aspect)
        const resizedHeight = maxArea / resizedWidth
        const bWidthRounded = roundToSteps(resizedWidth)
        const bHeightInWr = roundToSteps(bWidthRounded / aspect)
        const bHeightRounded = roundToSteps(resizedHeight)
        const bWidthInHr = roundToSteps(bHeightRounded * aspect)
        if (bHeightInWr === 0 || bHeightRounded === 0) return { failure: 'zero_bucket' }
        const arWidthRounded = bWidthRounded / bHeightInWr
        const arHeightRounded = bWidthInHr / bHeightRounded
        resized =
          Math.abs(arWidthRounded - aspect) < Math.abs(arHeightRounded - aspect)
            ? [bWidthRounded, pyInt(bWidthRounded / aspect + 0.5)]
            : [pyInt(bHeightRounded * aspect + 0.5), bHeightRounded]
      } else {
        resized = [imageWidth, imageHeight]
      }
      reso = [resized[0] - pyMod(resized[0], steps), resized[1] - pyMod(resized[1], steps)]
      // A zero width still gets a bucket there (ar_error is 0 / h); a zero height divides by zero.
      if (reso[1] === 0) return { failure: 'zero_bucket' }
    }
    return { reso, resized, arError: reso[0] / reso[1] - aspect }
  }
}

/**
 * How much of the image the centre crop to the bucket cuts away (0–1), from the resized size: sd-scripts
 * resizes so the bucket is covered, then crops the overhang.
 */
export function cropFraction(choice: BucketChoice): number {
  const [rw, rh] = choice.resized
  const [bw, bh] = choice.reso
  if (rw <= 0 || rh <= 0) return 0
  const kept = (Math.min(rw, bw) * Math.min(rh, bh)) / (rw * rh)
  return Math.max(0, 1 - kept)
}
