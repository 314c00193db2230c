import { describe, expect, it } from 'vitest'
import { adviseFor, applyPatch, fitState, makeItFit, warningsFor } from '../../core/vram/advice'
import { predict } from '../../core/vram/model'
import { VramScenario, type VramScenarioInput } from '../../core/vram/scenario'

const S = (over: VramScenarioInput = {}) => VramScenario.parse(over)

describe('fit state', () => {
  it('fits below 90 % of the total, tight up to the total, does not fit above', () => {
    expect(fitState(7, 8)).toBe('fits')
    expect(fitState(7.5, 8)).toBe('tight')
    expect(fitState(8, 8)).toBe('tight')
    expect(fitState(8.01, 8)).toBe('does_not_fit')
  })
})

describe('advice', () => {
  const lora = S({ training_type: 'lora', network_dim: 32, batch_size: 4, cache_latents: false })

  it('lists the changes that save memory, biggest saving first, with their slowdown', () => {
    const a = adviseFor(lora)
    const ids = a.advice.map((x) => x.id)
    expect(ids[0]).toBe('gradient_checkpointing')
    const gc = a.advice[0]!
    expect(gc.slowdown).toBe(1.25)
    expect(gc.saving_gib).toBeCloseTo(a.prediction.peak_gib - predict(applyPatch(lora, gc.patch)).peak_gib, 2)
    expect(ids).toContain('cache_text_encoder_outputs')
    expect(ids).toContain('cache_latents')
    const batch = a.advice.find((x) => x.id === 'batch_smaller' && x.values.to === 2)!
    expect(batch.values).toEqual({ from: 4, to: 2 })
    // the effective batch is kept through gradient accumulation
    expect(batch.patch).toEqual({ batch_size: 2, gradient_accumulation_steps: 2 })
    for (let i = 1; i < a.advice.length; i++)
      expect(a.advice[i]!.saving_gib).toBeLessThanOrEqual(a.advice[i - 1]!.saving_gib)
  })

  it('does not offer fp8 base without checkpointing when it would cost memory', () => {
    const a = adviseFor(S({ training_type: 'lora', gradient_checkpointing: false }))
    expect(a.advice.find((x) => x.id === 'fp8_base')).toBeUndefined()
    const withGc = adviseFor(S({ training_type: 'lora', gradient_checkpointing: true }))
    expect(withGc.advice.find((x) => x.id === 'fp8_base')!.saving_gib).toBeGreaterThan(2)
  })

  it('offers the fused backward pass for a full fine-tune only', () => {
    expect(
      adviseFor(S({ training_type: 'dreambooth' })).advice.some((x) => x.id === 'fused_backward_pass'),
    ).toBe(true)
    expect(adviseFor(S({ training_type: 'lora' })).advice.some((x) => x.id === 'fused_backward_pass')).toBe(
      false,
    )
  })
})

describe('make it fit', () => {
  it('turns a red 8 GB gauge green with the cheapest set of changes', () => {
    const s = S({ training_type: 'lora', network_dim: 32, batch_size: 2, cache_latents: false })
    const a = adviseFor(s, { totalGib: 8 })
    expect(a.state).toBe('does_not_fit')
    const m = a.make_it_fit!
    expect(m).not.toBeNull()
    const after = adviseFor(applyPatch(s, m.patch), { totalGib: 8 })
    expect(after.state).not.toBe('does_not_fit')
    expect(after.prediction.peak_gib).toBeCloseTo(m.peak_gib, 6)
    expect(m.items.map((i) => i.id)).toContain('gradient_checkpointing')
  })

  it('prefers changes that keep the training result (no lower rank when caching is enough)', () => {
    const s = S({
      training_type: 'lora',
      network_dim: 32,
      gradient_checkpointing: true,
      cache_latents: false,
    })
    const now = predict(s).peak_gib
    const m = makeItFit(s, now - 0.1)!
    expect(m.items.map((i) => i.id)).not.toContain('lower_dim')
  })

  it('returns null when nothing can fit', () => {
    expect(makeItFit(S({ training_type: 'dreambooth', train_text_encoder: true }), 2)).toBeNull()
  })

  it('is not computed when the run already fits', () => {
    expect(
      adviseFor(S({ gradient_checkpointing: true, cache_text_encoder_outputs: true }), { totalGib: 48 })
        .make_it_fit,
    ).toBeNull()
  })
})

describe('warnings', () => {
  const ids = (over: VramScenarioInput, peak?: number, total?: number) =>
    warningsFor(S(over), peak, total).map((w) => w.id)
  it('flag the physics traps', () => {
    expect(ids({ attention: 'none' })).toContain('no_attention_backend')
    expect(ids({ fp8_base: true })).toContain('fp8_without_gc')
    expect(ids({ fp8_base: true, gradient_checkpointing: true })).not.toContain('fp8_without_gc')
    expect(ids({ training_type: 'loha' })).toContain('lycoris_without_gc')
    expect(ids({ training_type: 'lokr', lycoris_bypass_mode: true })).not.toContain('lycoris_without_gc')
    expect(ids({ os: 'windows' }, 12, 8)).toContain('windows_shared_memory')
    expect(ids({ os: 'linux' }, 12, 8)).not.toContain('windows_shared_memory')
    expect(ids({ os: 'windows' }, 6, 8)).not.toContain('windows_shared_memory')
  })
  it('flag options sd-scripts ignores or refuses', () => {
    expect(ids({ training_type: 'lora', fused_backward_pass: true, optimizer: 'Adafactor' })).toContain(
      'fused_backward_ignored',
    )
    expect(ids({ training_type: 'dreambooth', fp8_base: true })).toContain('fp8_ignored_dreambooth')
    expect(ids({ cache_text_encoder_outputs: true, train_text_encoder: true })).toContain('cache_te_conflict')
    expect(ids({ full_bf16: true, mixed_precision: 'fp16' })).toContain('full_half_needs_mixed')
  })
})

describe('unavailable changes', () => {
  it('are left out of the advice and of make-it-fit', () => {
    const s = S({ training_type: 'loha', network_dim: 16, batch_size: 2 })
    expect(adviseFor(s).advice.some((x) => x.id === 'lycoris_bypass')).toBe(true)
    const a = adviseFor(s, { totalGib: 8, exclude: ['lycoris_bypass', 'gradient_checkpointing'] })
    expect(a.advice.some((x) => x.id === 'lycoris_bypass' || x.id === 'gradient_checkpointing')).toBe(false)
    for (const i of a.make_it_fit?.items ?? [])
      expect(['lycoris_bypass', 'gradient_checkpointing']).not.toContain(i.id)
  })
})
