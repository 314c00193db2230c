import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { classifyModel, parseHeader } from '../../core/safetensors/header'
import { inspectModel } from '../../electron/services/configs/model'
import { SDXL_BASE_TENSORS as SDXL, safetensorsBytes as safetensors } from '../helpers/safetensors'

const SD15 = {
  'model.diffusion_model.input_blocks.0.0.weight': [4, 4, 3, 3],
  'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight': [8, 4],
  'first_stage_model.decoder.conv_in.weight': [4, 4, 3, 3],
}
const SD2 = {
  'model.diffusion_model.input_blocks.0.0.weight': [4, 4, 3, 3],
  'cond_stage_model.model.token_embedding.weight': [8, 4],
}
const REFINER = {
  'model.diffusion_model.input_blocks.0.0.weight': [4, 4, 3, 3],
  'conditioner.embedders.0.model.token_embedding.weight': [8, 4],
}
const LORA = {
  'lora_unet_input_blocks_4_1_proj_in.lora_down.weight': [4, 8],
  'lora_unet_input_blocks_4_1_proj_in.alpha': [],
}
const LOHA = { 'lora_unet_input_blocks_4_1_proj_in.hada_w1_a': [4, 8] }
const VAE = {
  'encoder.down.0.block.0.conv1.weight': [4, 4, 3, 3],
  'decoder.up.0.block.0.conv1.weight': [4, 4, 3, 3],
}

describe('safetensors header', () => {
  const cases: Array<[string, Record<string, number[]>, string]> = [
    ['SDXL base', SDXL, 'sdxl_base'],
    ['SD1.5', SD15, 'sd1'],
    ['SD2.x', SD2, 'sd2'],
    ['SDXL refiner', REFINER, 'sdxl_refiner'],
    ['LoRA', LORA, 'lora'],
    ['LoHa', LOHA, 'lycoris'],
    ['VAE', VAE, 'vae'],
  ]
  for (const [name, tensors, kind] of cases) {
    it(`classifies a ${name} file`, () => {
      const bytes = safetensors(tensors)
      const r = parseHeader(bytes, bytes.length)
      expect(r.ok).toBe(true)
      if (r.ok) expect(classifyModel(r.header).kind).toBe(kind)
    })
  }

  it('reads metadata and the expected size', () => {
    const bytes = safetensors(SD15, { format: 'pt' })
    const r = parseHeader(bytes, bytes.length)
    expect(r.ok && r.header.metadata).toEqual({ format: 'pt' })
    expect(r.ok && r.header.expectedSize).toBe(bytes.length)
  })

  it('detects truncation in the data and in the header', () => {
    const bytes = safetensors(SDXL)
    const short = parseHeader(bytes.subarray(0, bytes.length - 10), bytes.length - 10)
    expect(short.ok).toBe(false)
    expect(!short.ok && short.problem).toMatch(/truncated/)
    const inHeader = parseHeader(bytes.subarray(0, 20), 20)
    expect(!inHeader.ok && inHeader.problem).toMatch(/truncated/)
  })

  it('refuses garbage', () => {
    const junk = new TextEncoder().encode('PK\x03\x04 this is a zip file, not safetensors')
    expect(parseHeader(junk, junk.length).ok).toBe(false)
    const bad = safetensors(SD15)
    bad[9] = 0x7b // corrupt the JSON
    bad[8] = 0x00
    expect(parseHeader(bad, bad.length).ok).toBe(false)
  })
})

describe('model inspection on real files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-model-'))
  const write = (name: string, bytes: Uint8Array) => {
    const p = path.join(dir, name)
    writeFileSync(p, bytes)
    return p
  }

  it('accepts an SDXL-shaped checkpoint', async () => {
    const r = await inspectModel(write('sdxl.safetensors', safetensors(SDXL)))
    expect(r).toMatchObject({ exists: true, format: 'file', kind: 'sdxl_base', problem: null })
  })

  it('refuses an SD1.5-shaped checkpoint, saying what it is', async () => {
    const r = await inspectModel(write('sd15.safetensors', safetensors(SD15)))
    expect(r.kind).toBe('sd1')
    expect(r.problem).toMatch(/Stable Diffusion 1\.x.*SDXL base/)
  })

  it('refuses a truncated file', async () => {
    const p = write('cut.safetensors', safetensors(SDXL))
    truncateSync(p, 200)
    const r = await inspectModel(p)
    expect(r.problem).toMatch(/truncated/)
  })

  it('says when the file is missing, and recognises hub ids', async () => {
    expect((await inspectModel(path.join(dir, 'nope.safetensors'))).problem).toMatch(/not found/)
    expect(await inspectModel('stabilityai/stable-diffusion-xl-base-1.0')).toMatchObject({
      format: 'hub',
      problem: null,
    })
  })

  it('accepts a Diffusers folder', async () => {
    const d = path.join(dir, 'diffusers')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(d)
    writeFileSync(path.join(d, 'model_index.json'), '{}')
    expect(await inspectModel(d)).toMatchObject({ format: 'diffusers', problem: null })
  })
})
