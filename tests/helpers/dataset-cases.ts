import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { DatasetPlan, PlanSettings, PlanSubset } from '../../core/dataset/plan'

/*
 * Bucket cases for comparing core/dataset with sd-scripts' own code (tests/fixtures/dataset/
 * sdscripts_buckets.py): many sizes and aspect ratios, every bucket setting sd-scripts accepts and some
 * it refuses, regularization subsets. A seeded generator, so a seed names the same cases everywhere.
 */

export interface BucketCase {
  resolution: [number, number]
  enable_bucket: boolean
  min_bucket_reso: number
  max_bucket_reso: number
  bucket_reso_steps: number
  bucket_no_upscale: boolean
  batch_size: number
  subsets: Array<{ num_repeats: number; is_reg: boolean; images: Array<[string, number, number]> }>
}

export interface ResolutionCase {
  max_reso: [number, number]
  min_size: number
  max_size: number
  divisible: number
}

export interface SdScriptsBucketResult {
  error?: string
  buckets?: Array<{ width: number; height: number; count: number }>
  batches?: number
  images?: Record<string, { bucket: [number, number]; resized: [number, number]; repeats: number }>
  mean_ar_error?: number | null
}

export interface Golden {
  resolutions: ResolutionCase[]
  cases: BucketCase[]
  results: { resolutions: Array<Array<[number, number]>>; cases: SdScriptsBucketResult[] }
}

export const repoRoot = path.resolve(import.meta.dirname, '../..')
export const goldenFile = path.join(repoRoot, 'tests/fixtures/dataset/buckets-golden.json')
const script = path.join(repoRoot, 'tests/fixtures/dataset/sdscripts_buckets.py')

/** sd-scripts v0.10.1 source: SD_SCRIPTS_DIR, else the git-ignored .sdscripts of this checkout. */
export function sdScriptsDir(): string | null {
  for (const dir of [process.env.SD_SCRIPTS_DIR, path.join(repoRoot, '.sdscripts')]) {
    if (dir && existsSync(path.join(dir, 'library', 'train_util.py'))) return dir
  }
  return null
}

/** python3 with numpy (sd-scripts' BucketManager needs it), or null. */
export function numpyPython(): string | null {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' })
  return r.status === 0 ? 'python3' : null
}

export function runSdScripts(
  python: string,
  sdScripts: string,
  input: { resolutions: ResolutionCase[]; cases: BucketCase[] },
): Golden['results'] {
  const r = spawnSync(python, [script, '--sd-scripts', sdScripts], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  if (r.status !== 0) throw new Error(`sdscripts_buckets.py failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as Golden['results']
}

function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SPECIAL_SIZES: Array<[number, number]> = [
  [1024, 1024],
  [832, 1216],
  [1216, 832],
  [512, 512],
  [2048, 2048],
  [4000, 3000],
  [3000, 4000],
  [1920, 1080],
  [1080, 1920],
  [640, 480],
  [10, 10],
  [63, 1000],
  [1000, 63],
  [20000, 50],
  [50, 20000],
  [1, 1],
  [0, 0],
  [1023, 1025],
  [1536, 640],
  [7, 4096],
  [96, 96],
  [300, 200],
  [6000, 4000],
  [8192, 8192],
]

export function makeCases(
  seed: number,
  count: number,
): { resolutions: ResolutionCase[]; cases: BucketCase[] } {
  const rand = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
  const size = (): [number, number] => {
    if (rand() < 0.2) return pick(SPECIAL_SIZES)
    // Log-uniform sides: as many small as large images, and aspect ratios from 1:8 to 8:1.
    const side = () =>
      Math.max(1, Math.round(Math.exp(Math.log(64) + rand() * (Math.log(9000) - Math.log(64)))))
    const w = side()
    return rand() < 0.5 ? [w, side()] : [w, Math.max(1, Math.round(w / Math.exp((rand() - 0.5) * 4)))]
  }
  const resolutions: ResolutionCase[] = []
  for (let i = 0; i < Math.max(4, count / 4); i++) {
    resolutions.push({
      max_reso: pick([
        [1024, 1024],
        [768, 768],
        [512, 512],
        [1024, 768],
        [832, 1216],
        [1536, 1536],
        [640, 960],
      ] as Array<[number, number]>),
      min_size: pick([256, 320, 512, 128, 64]),
      max_size: pick([1024, 1536, 2048, 4096, 1280]),
      divisible: pick([32, 64, 96, 128, 8]),
    })
  }
  const cases: BucketCase[] = []
  for (let i = 0; i < count; i++) {
    const steps = pick([32, 64, 64, 64, 128, 96])
    const res = pick([
      [1024, 1024],
      [1024, 1024],
      [768, 768],
      [512, 512],
      [1024, 768],
      [832, 1216],
      [1536, 1024],
    ] as Array<[number, number]>)
    const subsets: BucketCase['subsets'] = []
    const nSubsets = int(1, 3)
    for (let s = 0; s < nSubsets; s++) {
      const n = rand() < 0.1 ? 0 : int(1, 40)
      const images: Array<[string, number, number]> = []
      for (let k = 0; k < n; k++) {
        const [w, h] = size()
        images.push([`/d/s${s}/img_${String(int(0, 99999)).padStart(5, '0')}_${k}.png`, w, h])
      }
      subsets.push({ num_repeats: pick([1, 1, 2, 5, 10, 40]), is_reg: s > 0 && rand() < 0.5, images })
    }
    cases.push({
      resolution: res,
      enable_bucket: rand() < 0.85,
      min_bucket_reso: pick([256, 512, 320, 300, 64, 1100]),
      max_bucket_reso: pick([1024, 1536, 2048, 2000, 4096, 800]),
      bucket_reso_steps: steps,
      bucket_no_upscale: rand() < 0.5,
      batch_size: pick([1, 1, 2, 3, 4, 8]),
      subsets,
    })
  }
  return { resolutions, cases }
}

export function caseSubsets(c: BucketCase): PlanSubset[] {
  return c.subsets.map((s, i) => ({
    image_dir: `/d/s${i}`,
    num_repeats: s.num_repeats,
    is_reg: s.is_reg,
    images: s.images.map(([key, width, height]) => ({ key, width, height })),
  }))
}

export function caseSettings(c: BucketCase): PlanSettings {
  return {
    resolution: c.resolution,
    enable_bucket: c.enable_bucket,
    min_bucket_reso: c.min_bucket_reso,
    max_bucket_reso: c.max_bucket_reso,
    bucket_reso_steps: c.bucket_reso_steps,
    bucket_no_upscale: c.bucket_no_upscale,
    batch_size: c.batch_size,
    gradient_accumulation_steps: 1,
    num_processes: 1,
    max_train_epochs: 1,
  }
}

/** Differences between our plan of a case and sd-scripts' result for it (empty when they agree). */
export function compareCase(c: BucketCase, expected: SdScriptsBucketResult, plan: DatasetPlan): string[] {
  const out: string[] = []
  if (expected.error?.startsWith('assert')) {
    if (!plan.settingsError) out.push(`sd-scripts refused the settings (${expected.error}); we did not`)
    return out
  }
  const failed = plan.images.filter((i) => i.failure && !i.bucket)
  if (expected.error === 'ZeroDivisionError') {
    if (!failed.length && plan.settingsError?.code !== 'dataset.bucket.min_below_step')
      out.push('sd-scripts crashed (ZeroDivisionError); we found no failing image or setting')
    return out
  }
  if (plan.settingsError) return [`we refused the settings (${plan.settingsError.code}); sd-scripts did not`]
  if (failed.length)
    return [`we flagged ${failed.map((f) => `${f.key}:${f.failure}`).join(', ')}; sd-scripts ran`]
  const ours = plan.buckets.map((b) => ({ width: b.width, height: b.height, count: b.count }))
  if (JSON.stringify(ours) !== JSON.stringify(expected.buckets))
    out.push(`buckets ${JSON.stringify(ours)} != ${JSON.stringify(expected.buckets)}`)
  if (plan.batches_per_epoch !== expected.batches)
    out.push(`batches ${plan.batches_per_epoch} != ${expected.batches}`)
  for (const img of plan.images) {
    const e = expected.images?.[img.key]
    if (!e) {
      if (img.repeats !== 0) out.push(`${img.key}: sd-scripts did not use it`)
      continue
    }
    const got = { bucket: img.bucket, resized: img.resized, repeats: img.repeats }
    if (JSON.stringify(got) !== JSON.stringify(e))
      out.push(`${img.key}: ${JSON.stringify(got)} != ${JSON.stringify(e)}`)
  }
  if (
    expected.mean_ar_error !== null &&
    expected.mean_ar_error !== undefined &&
    Math.abs(plan.mean_ar_error - expected.mean_ar_error) > 1e-9
  )
    out.push(`mean ar error ${plan.mean_ar_error} != ${expected.mean_ar_error}`)
  return out
}
