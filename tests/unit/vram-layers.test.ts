import { describe, expect, it } from 'vitest'
import { factorization, moduleParams, trainableCounts } from '../../core/vram/params'
import { VramScenario } from '../../core/vram/scenario'
import {
  TE1_PARAMS,
  TE2_PARAMS,
  TE_EMBEDDING_PARAMS,
  UNET_LAYERS,
  UNET_PARAMS,
  adafactorStateElements,
  sumParams,
} from '../../core/vram/sdxl-layers'

// Every number below is from ../shared/reference/vram.md §3 / §5 (exact counts of the sd-scripts v0.8.3 U-Net).
const lora = (over: Record<string, unknown>) =>
  trainableCounts(VramScenario.parse({ training_type: 'lora', ...over }))

describe('SDXL layer table', () => {
  it('reproduces the exact U-Net totals', () => {
    expect(UNET_PARAMS).toBe(2_567_463_684)
    expect(sumParams(UNET_LAYERS, (l) => l.kind === 'linear')).toBe(2_233_603_520)
    expect(sumParams(UNET_LAYERS, (l) => l.kind === 'conv')).toBe(333_272_004)
    expect(sumParams(UNET_LAYERS, (l) => l.kind === 'norm')).toBe(588_160)
  })

  it('reproduces the text encoders', () => {
    expect(TE1_PARAMS).toBe(123_060_480)
    expect(TE2_PARAMS).toBe(694_659_840)
    expect(TE1_PARAMS + TE2_PARAMS).toBe(817_720_320)
    expect(TE_EMBEDDING_PARAMS).toBe(101_345_280)
  })

  it('gives the Adafactor state of the whole U-Net (244.3 M elements)', () => {
    expect(Math.round(adafactorStateElements(UNET_LAYERS) / 1e5) / 10).toBe(244.3)
  })
})

describe('network parameter counts', () => {
  it('LoRA: 722 modules, 2,659,840 × r on the U-Net and 903,168 × r on the TEs', () => {
    const transformerLinears = UNET_LAYERS.filter((l) => l.owner === 'transformer' && l.kind === 'linear')
    expect(transformerLinears).toHaveLength(722)
    for (const r of [1, 8, 32, 128]) {
      expect(lora({ network_dim: r }).unet).toBe(2_659_840 * r)
      expect(lora({ network_dim: r, train_text_encoder: true }).te).toBe(903_168 * r)
    }
    expect(lora({ network_dim: 32 }).te).toBe(0)
  })

  it('LoCon conv part: 38 modules, 355,840 × c; dim 64 + conv 32 = 185.36 M on the U-Net', () => {
    const withConv = lora({ network_dim: 64, conv_dim: 32 }).unet
    const without = lora({ network_dim: 64, conv_dim: 0 }).unet
    // 28 extra linear/1x1 modules in resnets (58,560 per rank) + the 3x3 convs
    expect(withConv - without).toBe(58_560 * 64 + 355_840 * 32)
    expect(Math.round(withConv / 1e4) / 100).toBe(185.36)
    const locon = trainableCounts(
      VramScenario.parse({ training_type: 'locon', network_dim: 64, conv_dim: 32 }),
    )
    expect(locon.unet).toBe(withConv)
  })

  it('LoHa is twice LoRA at the same ranks', () => {
    const loha = trainableCounts(VramScenario.parse({ training_type: 'loha', network_dim: 16, conv_dim: 8 }))
    const locon = trainableCounts(
      VramScenario.parse({ training_type: 'locon', network_dim: 16, conv_dim: 8 }),
    )
    expect(loha.unet).toBe(2 * locon.unet)
  })

  it('LyCORIS replaces conv_dim 0 by network_dim', () => {
    const a = trainableCounts(VramScenario.parse({ training_type: 'locon', network_dim: 16, conv_dim: 0 }))
    const b = trainableCounts(VramScenario.parse({ training_type: 'locon', network_dim: 16, conv_dim: 16 }))
    expect(a.unet).toBe(b.unet)
  })

  it('LyCORIS factorization picks the split closest to the square root, bounded by the factor', () => {
    expect(factorization(1280)).toEqual([32, 40])
    expect(factorization(640)).toEqual([20, 32])
    expect(factorization(640, 8)).toEqual([8, 80])
    expect(factorization(2048, 4)).toEqual([4, 512])
    expect(factorization(7)).toEqual([1, 7])
    const [m, n] = factorization(640)
    expect(m * n).toBe(640)
    expect(m).toBeLessThanOrEqual(n)
  })

  it('LoKr: per layer w1 (out_l × in_m) plus a low-rank or full w2', () => {
    const layer = {
      kind: 'linear' as const,
      in: 1280,
      out: 1280,
      k: 1,
      bias: true,
      owner: 'transformer' as const,
    }
    // factor 8: 1280 = 8 × 160 → w1 8×8 = 64; r=4 < 160/2 → w2 low rank: 4 × (160 + 160)
    expect(moduleParams('lokr', layer, 4, 8)).toBe(64 + 4 * 320)
    // r = 100 ≥ 160/2 → full w2 160 × 160
    expect(moduleParams('lokr', layer, 100, 8)).toBe(64 + 160 * 160)
    const small = trainableCounts(
      VramScenario.parse({ training_type: 'lokr', network_dim: 8, lokr_factor: 16 }),
    )
    const lora8 = lora({ network_dim: 8 })
    expect(small.unet).toBeGreaterThan(0)
    expect(small.unet).toBeLessThan(lora8.unet * 2)
  })

  it('full fine-tune: the whole U-Net, plus the TEs except TE1 last layer when trained', () => {
    const db = trainableCounts(VramScenario.parse({ training_type: 'dreambooth' }))
    expect(db.unet).toBe(2_567_463_684)
    expect(db.te).toBe(0)
    const dbTe = trainableCounts(
      VramScenario.parse({ training_type: 'dreambooth', train_text_encoder: true }),
    )
    expect(dbTe.te).toBe(817_720_320 - 7_089_408)
  })
})
