import { describe, expect, it } from 'vitest'
import { FITTED, GB, GIB } from '../../core/vram/constants'
import { phaseTerms, predict, type TermId } from '../../core/vram/model'
import { trainableCounts } from '../../core/vram/params'
import { VramScenario, type VramScenarioInput } from '../../core/vram/scenario'

const S = (over: VramScenarioInput = {}) => VramScenario.parse(over)

/** The value (GB, 1e9 bytes) of a term at the first moment of a phase, 0 if absent. */
function termIn(over: VramScenarioInput, phase: string, id: TermId): number {
  const p = phaseTerms(S(over)).find((x) => x.phase === phase)
  const t = p?.terms.find((x) => x.id === id)
  return t ? (t.gib * GIB) / GB : 0
}

describe('weights by dtype and placement (sd-scripts v0.8.3 rules)', () => {
  it('frozen U-Net: 2 B/param in bf16, 1 B under fp8_base, 4 B without mixed precision', () => {
    expect(termIn({}, 'forward', 'unet_weights')).toBeCloseTo((2_567_463_684 * 2) / GB, 6)
    expect(termIn({ fp8_base: true }, 'forward', 'unet_weights')).toBeCloseTo(2_567_463_684 / GB, 6)
    expect(termIn({ mixed_precision: 'no' }, 'forward', 'unet_weights')).toBeCloseTo(
      (2_567_463_684 * 4) / GB,
      6,
    )
    // Dreambooth trains the U-Net: no frozen copy, it is in trainable weights (fp32 unless full_bf16)
    expect(termIn({ training_type: 'dreambooth' }, 'forward', 'unet_weights')).toBe(0)
    expect(termIn({ training_type: 'dreambooth' }, 'forward', 'trainable_weights')).toBeCloseTo(
      (2_567_463_684 * 4) / GB,
      6,
    )
    expect(
      termIn({ training_type: 'dreambooth', full_bf16: true }, 'forward', 'trainable_weights'),
    ).toBeCloseTo((2_567_463_684 * 2) / GB, 6)
  })

  it('text encoders: on the GPU in weight dtype unless outputs are cached; fp8 keeps embeddings in bf16', () => {
    expect(termIn({}, 'forward', 'text_encoders')).toBeCloseTo((817_720_320 * 2) / GB, 6)
    expect(termIn({ cache_text_encoder_outputs: true }, 'forward', 'text_encoders')).toBe(0)
    // caching is refused while TEs are trained: they stay
    expect(
      termIn({ cache_text_encoder_outputs: true, train_text_encoder: true }, 'forward', 'text_encoders'),
    ).toBeGreaterThan(1)
    expect(termIn({ fp8_base: true }, 'forward', 'text_encoders')).toBeCloseTo(
      (817_720_320 - 101_345_280 + 101_345_280 * 2) / GB,
      6,
    )
  })

  it('VAE: off the GPU with cached latents, 2 B/param otherwise, 4 B with no_half_vae', () => {
    expect(termIn({ cache_latents: true }, 'forward', 'vae')).toBe(0)
    expect(termIn({ cache_latents: false }, 'forward', 'vae')).toBeCloseTo((83_653_863 * 2) / GB, 6)
    expect(termIn({ cache_latents: false, no_half_vae: true }, 'forward', 'vae')).toBeCloseTo(
      (83_653_863 * 4) / GB,
      6,
    )
  })
})

describe('trainable parameters, gradients, optimizer state', () => {
  const n32 = 2_659_840 * 32
  it('LoRA weights fp32 (4 B), bf16 under full_bf16', () => {
    expect(termIn({ network_dim: 32 }, 'forward', 'trainable_weights')).toBeCloseTo((n32 * 4) / GB, 6)
    expect(termIn({ network_dim: 32, full_bf16: true }, 'forward', 'trainable_weights')).toBeCloseTo(
      (n32 * 2) / GB,
      6,
    )
  })
  it('gradients equal weight bytes, exist from the end of backward', () => {
    expect(termIn({ network_dim: 32 }, 'backward', 'gradients')).toBeCloseTo((n32 * 4) / GB, 6)
    expect(termIn({ network_dim: 32 }, 'forward', 'gradients')).toBe(0)
    // accumulation keeps them alive through the next forward
    expect(
      termIn({ network_dim: 32, gradient_accumulation_steps: 4 }, 'forward', 'gradients'),
    ).toBeGreaterThan(0)
  })
  it('optimizer state bytes per parameter', () => {
    const st = (optimizer: VramScenarioInput['optimizer']) =>
      termIn({ network_dim: 32, optimizer }, 'forward', 'optimizer_state')
    expect(st('AdamW')).toBeCloseTo((n32 * 8) / GB, 6)
    // bitsandbytes: 1 B per element and state, plus an fp32 absmax per 256 (and 32-bit state for tiny tensors)
    expect(st('AdamW8bit') / ((n32 * 2) / GB)).toBeGreaterThan(1)
    expect(st('AdamW8bit') / ((n32 * 2) / GB)).toBeLessThan(1.03)
    expect(st('Lion')).toBeCloseTo((n32 * 4) / GB, 6)
    expect(st('Lion8bit') / ((n32 * 1) / GB)).toBeGreaterThan(1)
    expect(st('Lion8bit') / ((n32 * 1) / GB)).toBeLessThan(1.03)
    // s, exp_avg, exp_avg_sq, and p0 only for tensors not all zero at the start (LoRA up starts at zero)
    expect(st('Prodigy')).toBeGreaterThan((n32 * 4 * 3) / GB)
    expect(st('Prodigy')).toBeLessThan((n32 * 4 * 3.5) / GB)
    expect(st('Adafactor')).toBeLessThan(st('Lion8bit'))
    // full fine-tune with Adafactor: 244.3 M fp32 state elements = 0.977 GB (vram.md §5)
    expect(
      termIn({ training_type: 'dreambooth', optimizer: 'Adafactor' }, 'forward', 'optimizer_state'),
    ).toBeCloseTo(0.977, 2)
    // ...also under full_bf16: the step upcasts the bf16 gradient and builds the state from it (`.to(grad)`)
    expect(
      termIn(
        { training_type: 'dreambooth', optimizer: 'Adafactor', full_bf16: true },
        'forward',
        'optimizer_state',
      ),
    ).toBeCloseTo(0.977, 2)
  })
  it('fused backward pass (sdxl_train.py + Adafactor) keeps about one gradient; ignored for LoRA', () => {
    const fused = { training_type: 'dreambooth', optimizer: 'Adafactor', fused_backward_pass: true } as const
    expect(termIn(fused, 'backward', 'gradients')).toBeLessThan(0.2)
    expect(termIn({ ...fused, fused_backward_pass: false }, 'backward', 'gradients')).toBeCloseTo(10.27, 1)
    expect(
      termIn({ optimizer: 'Adafactor', fused_backward_pass: true }, 'backward', 'gradients'),
    ).toBeGreaterThan(0.3)
  })
  it("the step's temporaries: foreach AdamW as traced (a fraction of the parameters), none for 8-bit", () => {
    const adamw = termIn({ training_type: 'dreambooth', optimizer: 'AdamW' }, 'optimizer', 'optimizer_step')
    expect(adamw).toBeGreaterThan(0)
    expect(adamw).toBeLessThan(10.27) // never more than one copy of the fp32 U-Net
    expect(
      termIn({ training_type: 'dreambooth', optimizer: 'AdamW8bit' }, 'optimizer', 'optimizer_step'),
    ).toBe(0)
  })
  it('Adafactor steps a bf16 tensor through fp32 copies of its gradient and weights; an fp32 one needs none', () => {
    const db = { training_type: 'dreambooth', optimizer: 'Adafactor' } as const
    const largest = trainableCounts(S(db)).largest // the U-Net's largest tensor (a 3×3 conv, 29.5 M)
    expect(largest).toBe(1280 * 2560 * 9)
    const fp32 = termIn(db, 'optimizer', 'optimizer_step')
    const bf16 = termIn({ ...db, full_bf16: true }, 'optimizer', 'optimizer_step')
    expect(fp32).toBeGreaterThan(0)
    expect(bf16 - fp32).toBeCloseTo((2 * largest * 4) / GB, 6)
    // Other optimizers stepping per tensor work in the parameters' dtype (pytorch_optimizer's CAME...)
    const came = { training_type: 'dreambooth', optimizer: 'CAME' } as const
    expect(termIn({ ...came, full_bf16: true }, 'optimizer', 'optimizer_step')).toBeCloseTo(
      termIn(came, 'optimizer', 'optimizer_step'),
      6,
    )
  })
})

describe('weight copies held for backward', () => {
  it('autocast copies of fp32 trainable weights: about one bf16 copy (traced); none under full_bf16', () => {
    const copies = termIn({ training_type: 'dreambooth' }, 'forward', 'autocast_copies')
    const bf16 = (2_567_463_684 * 2) / GB
    expect(copies / bf16).toBeGreaterThan(0.9)
    expect(copies / bf16).toBeLessThan(1.2)
    expect(termIn({ training_type: 'dreambooth', full_bf16: true }, 'forward', 'autocast_copies')).toBe(0)
  })
  it('fp8 base without GC holds bf16 copies of the U-Net weights; with GC it does not', () => {
    const fp8 = termIn({ fp8_base: true }, 'forward', 'fp8_copies') / ((2_567_463_684 * 2) / GB)
    expect(fp8).toBeGreaterThan(0.7)
    expect(fp8).toBeLessThan(1.2)
    expect(termIn({ fp8_base: true, gradient_checkpointing: true }, 'forward', 'fp8_copies')).toBe(0)
  })
  it('LoHa/LoKr without GC hold a full-size delta per wrapped layer unless bypass mode', () => {
    expect(termIn({ training_type: 'loha' }, 'forward', 'lycoris_deltas')).toBeGreaterThan(3.5)
    expect(termIn({ training_type: 'loha', gradient_checkpointing: true }, 'forward', 'lycoris_deltas')).toBe(
      0,
    )
    expect(termIn({ training_type: 'lokr', lycoris_bypass_mode: true }, 'forward', 'lycoris_deltas')).toBe(0)
    expect(termIn({ training_type: 'locon' }, 'forward', 'lycoris_deltas')).toBe(0)
  })
})

describe('VAE encode (latents not cached)', () => {
  const encode = (over: VramScenarioInput) =>
    termIn({ cache_latents: false, ...over }, 'vae_encode', 'vae_encode')
  it('encodes vae_batch_size images at a time (sd-scripts default 1), twice the bytes for an fp32 VAE', () => {
    expect(encode({})).toBeGreaterThan(1)
    expect(encode({ batch_size: 4 })).toBeCloseTo(encode({}), 6)
    expect(encode({ batch_size: 4, vae_batch_size: 2 })).toBeCloseTo(2 * encode({}), 6)
    expect(encode({ batch_size: 2, vae_batch_size: 8 })).toBeCloseTo(2 * encode({}), 6)
    expect(encode({ no_half_vae: true })).toBeCloseTo(2 * encode({}), 6)
    expect(termIn({ cache_latents: true }, 'vae_encode', 'vae_encode')).toBe(0)
  })
})

describe('activations (coefficients calibrated on the trace, resources/vram/activations.json)', () => {
  const act = (over: VramScenarioInput, phase = 'forward') =>
    phaseTerms(S(over))
      .find((p) => p.phase === phase)!
      .terms.filter((x) => x.id === 'activations')
      .reduce((a, t) => a + (t.gib * GIB) / GB, 0)
  it('no GC: linear in pixels and batch, growing with the rank (the down-projections saved)', () => {
    const d32 = act({ network_dim: 32 })
    // the trace: 8.05 GiB per sample at 1024² for the frozen U-Net under flash attention
    expect(d32).toBeGreaterThan(8)
    expect(d32).toBeLessThan(10)
    expect(act({ network_dim: 32, batch_size: 4 })).toBeCloseTo(4 * d32, 6)
    expect(act({ network_dim: 32, resolution: { width: 512, height: 512 } })).toBeCloseTo(d32 / 4, 6)
    expect(act({ network_dim: 128 })).toBeGreaterThan(d32)
    expect(act({ attention: 'xformers' })).toBe(act({ attention: 'sdpa' }))
  })
  it('GC keeps a small fraction of them', () => {
    const gc = act({ gradient_checkpointing: true })
    expect(gc).toBeGreaterThan(0.4)
    expect(gc).toBeLessThan(act({}) / 5)
  })
  it('fp32 runs (mixed precision "no") save twice the bytes', () => {
    expect(act({ mixed_precision: 'no' })).toBeCloseTo(2 * act({}), 6)
  })
})

describe('predict', () => {
  it('peak = context + (1 + slack) × allocated; the breakdown sums to the peak', () => {
    for (const over of [
      {},
      { training_type: 'dreambooth' },
      { gradient_checkpointing: true, cache_latents: false },
    ] as const) {
      const p = predict(S(over))
      const sum = p.breakdown.reduce((a, b) => a + b.gib, 0)
      expect(sum).toBeCloseTo(p.peak_gib, 1)
      expect(p.peak_gib).toBeCloseTo(FITTED.context_gib + p.allocated_gib * (1 + FITTED.slack_fraction), 2)
      for (const b of p.breakdown) expect(b.label_key).toMatch(/^terms\./)
    }
  })
  it('every term id has an English and a Russian label', async () => {
    const en = (await import('../../renderer/src/i18n/locales/en/vram.json')).default as Record<
      string,
      unknown
    >
    const ru = (await import('../../renderer/src/i18n/locales/ru/vram.json')).default as Record<
      string,
      unknown
    >
    const p = predict(S({ training_type: 'loha', fp8_base: true, cache_latents: false, optimizer: 'AdamW' }))
    const te = predict(S({ train_text_encoder: true, gradient_checkpointing: true }))
    expect(te.breakdown.some((b) => b.id === 'kept_gradients')).toBe(true)
    for (const b of [...p.breakdown, ...te.breakdown]) {
      const key = b.label_key.split('.')[1]!
      expect((en.terms as Record<string, string>)[key]).toBeTruthy()
      expect((ru.terms as Record<string, string>)[key]).toBeTruthy()
    }
  })
  it('reports GiB (nvidia-smi units)', () => {
    const p = predict(S({ cache_text_encoder_outputs: true }))
    const unet = p.breakdown.find((b) => b.id === 'unet_weights')!
    expect(unet.gib).toBeCloseTo((2_567_463_684 * 2) / GIB, 2)
  })
})
