import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  adjustMinMaxBucketReso,
  bucketSelector,
  makeBucketResolutions,
  pyFloatFloorDiv,
} from '../../core/dataset/buckets'
import { planDataset, stepsFromBatches, type PlanSettings } from '../../core/dataset/plan'
import { caseSettings, caseSubsets, compareCase, goldenFile, type Golden } from '../helpers/dataset-cases'

const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as Golden

const sdxl: PlanSettings = {
  resolution: [1024, 1024],
  enable_bucket: true,
  min_bucket_reso: 256,
  max_bucket_reso: 2048,
  bucket_reso_steps: 64,
  bucket_no_upscale: false,
  batch_size: 1,
  gradient_accumulation_steps: 1,
  num_processes: 1,
  max_train_epochs: 10,
}

const subset = (dir: string, sizes: Array<[number, number]>, num_repeats = 1, is_reg = false) => ({
  image_dir: dir,
  num_repeats,
  is_reg,
  images: sizes.map(([width, height], i) => ({
    key: `${dir}/${String(i).padStart(3, '0')}.png`,
    width,
    height,
  })),
})

describe('bucket arithmetic against sd-scripts v0.10.1 (golden data from its own code)', () => {
  it('makes the same predefined bucket lists', () => {
    golden.resolutions.forEach((c, i) => {
      expect(
        makeBucketResolutions(c.max_reso, c.min_size, c.max_size, c.divisible),
        JSON.stringify(c),
      ).toEqual(golden.results.resolutions[i])
    })
  })

  it('puts every image in the same bucket, with the same repeats, counts and batches', () => {
    expect(golden.cases.length).toBeGreaterThan(50)
    const outcomes = { ran: 0, refused: 0, crashed: 0 }
    golden.cases.forEach((c, i) => {
      const expected = golden.results.cases[i]!
      if (expected.error === 'assert') outcomes.refused++
      else if (expected.error) outcomes.crashed++
      else outcomes.ran++
      expect(compareCase(c, expected, planDataset(caseSubsets(c), caseSettings(c))), `case ${i}`).toEqual([])
    })
    // The golden set covers all three outcomes, or it proves less than it seems.
    expect(outcomes.ran).toBeGreaterThan(20)
    expect(outcomes.refused).toBeGreaterThan(0)
    expect(outcomes.crashed).toBeGreaterThan(0)
  })
})

describe('buckets', () => {
  it('floor-divides floats as CPython does', () => {
    expect(pyFloatFloorDiv(1024, 64)).toBe(16)
    expect(pyFloatFloorDiv(Math.sqrt(1024 * 1024), 64)).toBe(16)
    expect(pyFloatFloorDiv(7.5, 2)).toBe(3)
    expect(pyFloatFloorDiv(-7.5, 2)).toBe(-4)
    // 1 // 0.1 is 9.0 in Python (0.1 is slightly above one tenth), while Math.floor(1 / 0.1) is 10.
    expect(pyFloatFloorDiv(1, 0.1)).toBe(9)
  })

  it('lists the SDXL buckets for 1024² between 256 and 2048', () => {
    const resos = makeBucketResolutions([1024, 1024], 256, 2048, 64)
    expect(resos).toContainEqual([1024, 1024])
    expect(resos).toContainEqual([832, 1216])
    expect(resos).toContainEqual([1216, 832])
    expect(resos.every(([w, h]) => w * h <= 1024 * 1024)).toBe(true)
  })

  it('rounds min down and max up to the step, and refuses a range that excludes the resolution', () => {
    expect(adjustMinMaxBucketReso([1024, 1024], 300, 2000, 64)).toMatchObject({
      min: 256,
      max: 2048,
      adjusted: true,
      error: null,
    })
    expect(adjustMinMaxBucketReso([1024, 1024], 1100, 2048, 64).error?.code).toBe(
      'dataset.bucket.min_above_resolution',
    )
    expect(adjustMinMaxBucketReso([1024, 1024], 256, 800, 64).error?.code).toBe(
      'dataset.bucket.max_below_resolution',
    )
  })

  it('without upscaling, keeps small images at their own (step-floored) size and fails below one step', () => {
    const select = bucketSelector({
      enableBucket: true,
      resolution: [1024, 1024],
      minBucketReso: 256,
      maxBucketReso: 2048,
      bucketResoSteps: 64,
      noUpscale: true,
    })
    expect(select(500, 300)).toMatchObject({ reso: [448, 256], resized: [500, 300] })
    expect(select(500, 50)).toEqual({ failure: 'zero_bucket' })
    expect(select(50, 500)).toMatchObject({ reso: [0, 448] })
    expect(select(0, 0)).toEqual({ failure: 'zero_size' })
  })

  it('with buckets off, puts everything in one bucket of the resolution', () => {
    const select = bucketSelector({
      enableBucket: false,
      resolution: [1024, 1024],
      minBucketReso: 256,
      maxBucketReso: 2048,
      bucketResoSteps: 64,
      noUpscale: true,
    })
    expect(select(3000, 1000)).toMatchObject({ reso: [1024, 1024], resized: [3072, 1024] })
  })
})

describe('dataset plan', () => {
  it('counts batches per bucket: ceil(count / batch) each, so partly filled buckets add batches', () => {
    const p = planDataset(
      [
        subset(
          '/a',
          [
            [1024, 1024],
            [1024, 1024],
            [1216, 832],
          ],
          1,
        ),
      ],
      { ...sdxl, batch_size: 2 },
    )
    expect(p.buckets.map((b) => [b.width, b.height, b.count, b.batches])).toEqual([
      [1024, 1024, 2, 1],
      [1216, 832, 1, 1],
    ])
    expect(p.batches_per_epoch).toBe(2)
    expect(p.total_steps).toBe(20)
    expect(p.largest_bucket_area).toBe(1024 * 1024)
  })

  it('repeats regularization images until they match the training images', () => {
    const p = planDataset(
      [
        subset(
          '/train',
          [
            [1024, 1024],
            [1024, 1024],
          ],
          10,
        ),
        subset(
          '/reg',
          [
            [1024, 1024],
            [1024, 1024],
            [1024, 1024],
          ],
          1,
          true,
        ),
      ],
      sdxl,
    )
    expect(p.train_images_with_repeats).toBe(20)
    expect(p.reg_images_with_repeats).toBe(3)
    expect(p.reg_images_used).toBe(20)
    expect(p.images.filter((i) => i.key.startsWith('/reg')).map((i) => i.repeats)).toEqual([7, 7, 6])
    expect(p.batches_per_epoch).toBe(40)
  })

  it('leaves out reg images beyond the training count', () => {
    const p = planDataset(
      [
        subset('/train', [[1024, 1024]], 2),
        subset(
          '/reg',
          [
            [1024, 1024],
            [1024, 1024],
            [1024, 1024],
          ],
          1,
          true,
        ),
      ],
      sdxl,
    )
    expect(p.reg_images_used).toBe(2)
    expect(p.images.filter((i) => i.key.startsWith('/reg')).map((i) => i.repeats)).toEqual([1, 1, 0])
  })

  it('ignores an empty folder and a repeated folder, as sd-scripts does', () => {
    const p = planDataset([subset('/a', [[512, 512]]), subset('/a', [[512, 512]]), subset('/b', [])], sdxl)
    expect(p.subsets.map((s) => s.ignored)).toEqual([null, 'duplicate', 'no_images'])
  })

  it('steps: gradient accumulation and processes divide, rounding up; steps without epochs', () => {
    expect(
      stepsFromBatches(10, { gradient_accumulation_steps: 4, num_processes: 1, max_train_epochs: 3 }),
    ).toEqual({ steps_per_epoch: 3, total_steps: 9, epochs: 3 })
    expect(
      stepsFromBatches(10, { gradient_accumulation_steps: 1, num_processes: 3, max_train_epochs: 2 }),
    ).toEqual({ steps_per_epoch: 4, total_steps: 8, epochs: 2 })
    expect(stepsFromBatches(7, { gradient_accumulation_steps: 1, num_processes: 1 })).toEqual({
      steps_per_epoch: 7,
      total_steps: 1600,
      epochs: 229,
    })
    expect(stepsFromBatches(0, { gradient_accumulation_steps: 1, num_processes: 1 })).toEqual({
      steps_per_epoch: 0,
      total_steps: 1600,
      epochs: 0,
    })
  })

  it('takes hostile numbers without throwing', () => {
    for (const batch of [0, -1, 1.5, 1e-4, Number.NaN, 1e9]) {
      const p = planDataset(
        [
          subset('/a', [
            [1024, 1024],
            [-5, 10],
            [Number.NaN, 3],
          ]),
        ],
        { ...sdxl, batch_size: batch },
      )
      expect(p.batches_per_epoch).toBeGreaterThanOrEqual(0)
      expect(p.images.filter((i) => i.failure)).toHaveLength(2)
    }
  })
})
