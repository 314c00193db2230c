import { describe, expect, it } from 'vitest'
import { estimateSteps, parseRepeatsFolder } from '../../core/config/steps'

describe('steps estimate (as sd-scripts counts them, one bucket)', () => {
  it('images × repeats / batch, ceil, then epochs', () => {
    const r = estimateSteps({
      subsets: [{ images: 25, num_repeats: 10, is_reg: false }],
      batch_size: 4,
      gradient_accumulation_steps: 1,
      num_processes: 1,
      max_train_epochs: 10,
    })
    expect(r).toMatchObject({
      train_images_with_repeats: 250,
      images_per_epoch: 250,
      batches_per_epoch: 63,
      steps_per_epoch: 63,
      total_steps: 630,
      epochs: 10,
    })
  })
  it('regularization images double the epoch', () => {
    const r = estimateSteps({
      subsets: [
        { images: 20, num_repeats: 5, is_reg: false },
        { images: 500, num_repeats: 1, is_reg: true },
      ],
      batch_size: 1,
      gradient_accumulation_steps: 2,
      num_processes: 1,
      max_train_epochs: 1,
    })
    expect(r.images_per_epoch).toBe(200)
    expect(r.steps_per_epoch).toBe(100)
  })
  it('steps given: epochs derived; neither given: 1600 steps', () => {
    const base = {
      subsets: [{ images: 10, num_repeats: 10, is_reg: false }],
      batch_size: 1,
      gradient_accumulation_steps: 1,
      num_processes: 1,
    }
    expect(estimateSteps({ ...base, max_train_steps: 250 })).toMatchObject({ total_steps: 250, epochs: 3 })
    expect(estimateSteps(base).total_steps).toBe(1600)
  })
  it('parses <repeats>_<name> folder names like sd-scripts', () => {
    expect(parseRepeatsFolder('10_sks dog')).toEqual({ num_repeats: 10, class_tokens: 'sks dog' })
    expect(parseRepeatsFolder('1_a_b')).toEqual({ num_repeats: 1, class_tokens: 'a_b' })
    expect(parseRepeatsFolder('0_x')).toBeNull()
    expect(parseRepeatsFolder('cats')).toBeNull()
  })
})
