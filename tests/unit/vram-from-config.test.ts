import { describe, expect, it } from 'vitest'
import { adviceFor, applyPatch } from '../../core/vram/advice'
import {
  configPatchFromScenarioPatch,
  looksLikeConfig,
  scenarioFromConfig,
} from '../../core/vram/from-config'

// Objects shaped like core/config/schema.ts TrainingConfig (branch `configs`), written here by hand.
describe('TrainingConfig → VramScenario', () => {
  it('maps every memory-relevant field', () => {
    const { scenario, notes } = scenarioFromConfig(
      {
        version: 1,
        type: 'lokr',
        base_model: '/m/sdxl.safetensors',
        dataset: { subsets: [], resolution: { width: 832, height: 1216 } },
        network: { dim: 64, alpha: 32, conv_dim: 16, factor: 8, train_unet_only: true },
        optimizer: { type: 'adafactor', learning_rate: 1e-4 },
        training: { batch_size: 3, gradient_accumulation_steps: 2, max_token_length: 150 },
        memory: {
          mixed_precision: 'bf16',
          full_bf16: true,
          fp8_base: true,
          gradient_checkpointing: false,
          cache_latents: false,
          cache_latents_to_disk: true,
          cache_text_encoder_outputs_to_disk: true,
          attention: 'xformers',
          no_half_vae: true,
        },
        sampling: { prompts: [] },
      },
      'windows',
    )
    expect(notes).toEqual([])
    expect(scenario).toMatchObject({
      training_type: 'lokr',
      network_dim: 64,
      network_alpha: 32,
      conv_dim: 16,
      lokr_factor: 8,
      train_text_encoder: false,
      resolution: { width: 832, height: 1216 },
      batch_size: 3,
      gradient_accumulation_steps: 2,
      max_token_length: 150,
      full_bf16: true,
      fp8_base: true,
      gradient_checkpointing: false,
      cache_latents: true,
      cache_text_encoder_outputs: true,
      attention: 'xformers',
      optimizer: 'Adafactor',
      no_half_vae: true,
      os: 'windows',
    })
  })

  it('uses the config defaults for missing sections', () => {
    const { scenario } = scenarioFromConfig({ type: 'lora', network: {} })
    expect(scenario).toMatchObject({
      training_type: 'lora',
      network_dim: 32,
      gradient_checkpointing: true,
      cache_latents: true,
      optimizer: 'AdamW8bit',
      train_text_encoder: true,
    })
  })

  it('LoCon without conv_dim is plain LoRA; LoRA ignores conv_dim', () => {
    const a = scenarioFromConfig({ type: 'locon', network: { dim: 16 } })
    expect(a.scenario.training_type).toBe('lora')
    expect(a.notes[0]).toContain('LoCon without conv_dim')
    expect(scenarioFromConfig({ type: 'lora', network: { conv_dim: 8 } }).scenario.conv_dim).toBe(0)
    expect(scenarioFromConfig({ type: 'locon', network: { conv_dim: 8 } }).scenario.conv_dim).toBe(8)
  })

  it('text encoders: Dreambooth only with train_text_encoder; networks unless U-Net only (a zero TE rate still builds and runs the TE modules)', () => {
    expect(scenarioFromConfig({ type: 'dreambooth', optimizer: {} }).scenario.train_text_encoder).toBe(false)
    expect(
      scenarioFromConfig({ type: 'dreambooth', optimizer: { train_text_encoder: true } }).scenario
        .train_text_encoder,
    ).toBe(true)
    expect(
      scenarioFromConfig({ type: 'lora', optimizer: { text_encoder_lr: 0 } }).scenario.train_text_encoder,
    ).toBe(true)
    expect(
      scenarioFromConfig({ type: 'lora', network: { train_unet_only: true } }).scenario.train_text_encoder,
    ).toBe(false)
  })

  it('an unknown optimizer is modelled as AdamW, with a note', () => {
    const r = scenarioFromConfig({ type: 'lora', optimizer: { type: 'bitsandbytes.optim.AdEMAMix8bit' } })
    expect(r.scenario.optimizer).toBe('AdamW')
    expect(r.notes[0]).toContain('AdEMAMix8bit')
  })

  it('reads --vae_batch_size (modelled, not flagged); anything but a whole number from 1 is the default 1', () => {
    for (const [v, want] of [
      [4, 4],
      ['2', 2],
      [0, 1],
      [-1, 1],
      [1.5, 1],
      ['текст', 1],
      ['', 1],
    ] as const) {
      const r = scenarioFromConfig({ type: 'lora', extra_args: { vae_batch_size: v } })
      expect(r.scenario.vae_batch_size, String(v)).toBe(want)
      expect(r.unmodelled.some((u) => u.params.name === 'vae_batch_size')).toBe(false)
    }
  })

  it('tells configs from scenarios', () => {
    expect(looksLikeConfig({ type: 'lora', network: {} })).toBe(true)
    expect(looksLikeConfig({ training_type: 'lora', network_dim: 8 })).toBe(false)
  })
})

describe('scenario patch → config patch (one-click advice on the Train page)', () => {
  it('maps every field advice and make-it-fit can set', () => {
    const { patch, unmapped } = configPatchFromScenarioPatch(
      {
        gradient_checkpointing: true,
        cache_text_encoder_outputs: true,
        train_text_encoder: false,
        fp8_base: true,
        cache_latents: true,
        attention: 'sdpa',
        batch_size: 2,
        gradient_accumulation_steps: 2,
        network_dim: 16,
        network_alpha: 8,
        conv_dim: 8,
        optimizer: 'Adafactor',
        full_bf16: true,
        mixed_precision: 'bf16',
        lycoris_bypass_mode: true,
      },
      'locon',
    )
    expect(patch).toEqual({
      memory: {
        gradient_checkpointing: true,
        cache_text_encoder_outputs: true,
        fp8_base: true,
        cache_latents: true,
        attention: 'sdpa',
        full_bf16: true,
        mixed_precision: 'bf16',
      },
      network: { train_unet_only: true, dim: 16, alpha: 8, conv_dim: 8 },
      training: { batch_size: 2, gradient_accumulation_steps: 2 },
      optimizer: { type: 'Adafactor' },
    })
    expect(unmapped).toEqual(['lycoris_bypass_mode'])
    expect(configPatchFromScenarioPatch({ train_text_encoder: false }, 'dreambooth').patch).toEqual({
      optimizer: { train_text_encoder: false },
    })
  })

  it('round-trips: applying advice through the config gives the advised scenario', () => {
    const config = {
      type: 'lora',
      network: { dim: 32 },
      training: { batch_size: 4 },
      memory: { gradient_checkpointing: false },
    }
    const before = scenarioFromConfig(config).scenario
    for (const advice of adviceFor(before)) {
      const { patch, unmapped } = configPatchFromScenarioPatch(advice.patch, before.training_type)
      if (unmapped.length > 0) continue
      const merged: Record<string, unknown> = { ...config }
      for (const [section, fields] of Object.entries(patch)) {
        merged[section] = { ...((merged[section] as object | undefined) ?? {}), ...fields }
      }
      expect(scenarioFromConfig(merged).scenario).toEqual(applyPatch(before, advice.patch))
    }
  })
})
