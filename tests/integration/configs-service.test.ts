import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createServices } from '../../electron/services'
import { writeSdxlCheckpoint } from '../helpers/safetensors'

function setup() {
  const root = mkdtempSync(path.join(tmpdir(), 'sdxl-configs-'))
  const services = createServices({
    dataDir: path.join(root, 'data'),
    mode: 'test',
    env: { PATH: '' },
    version: '0.0.0-test',
  })
  const call = async <T>(method: string, input: unknown): Promise<T> => {
    const r = await services.router.callByName(method, input, { transport: 'test' })
    if (!r.ok)
      throw Object.assign(new Error(r.error.message), { code: r.error.code, details: r.error.details })
    return r.result as T
  }
  return { root, services, call }
}

function dataset(root: string) {
  const img = path.join(root, 'img', '10_sks dog')
  const reg = path.join(root, 'reg', '1_dog')
  mkdirSync(img, { recursive: true })
  mkdirSync(reg, { recursive: true })
  for (let i = 0; i < 5; i++) writeFileSync(path.join(img, `${i}.png`), 'x')
  for (let i = 0; i < 3; i++) writeFileSync(path.join(img, `${i}.txt`), 'sks dog')
  for (let i = 0; i < 20; i++) writeFileSync(path.join(reg, `${i}.jpg`), 'x')
  return { img, reg }
}

type Summary = { id: string; name: string; type: string; vram_tier_gb: number | null; builtin: boolean }

describe('configs service', () => {
  it('user presets: save, rename, duplicate, delete; built-ins are read-only', async () => {
    const { root, call } = setup()
    const builtin = await call<{ config: unknown }>('presets.get', { id: 'lora-12gb' })
    const saved = await call<Summary>('presets.save', { name: 'My Dog', config: builtin.config })
    expect(saved).toMatchObject({ name: 'My Dog', type: 'lora', builtin: false })
    expect(readdirSync(path.join(root, 'data', 'presets'))).toEqual([`${saved.id}.json`])
    const renamed = await call<Summary>('presets.rename', { id: saved.id, name: 'My Dog v2' })
    expect(renamed).toMatchObject({ id: saved.id, name: 'My Dog v2' })
    const copy = await call<Summary>('presets.duplicate', { id: 'dreambooth-12gb' })
    expect(copy).toMatchObject({
      type: 'dreambooth',
      vram_tier_gb: 12,
      builtin: false,
      name: 'SDXL Dreambooth · 12 GB (copy)',
    })
    const list = await call<Summary[]>('presets.list', {})
    expect(
      list
        .filter((p) => !p.builtin)
        .map((p) => p.name)
        .sort(),
    ).toEqual(['My Dog v2', 'SDXL Dreambooth · 12 GB (copy)'])
    await call('presets.delete', { id: saved.id })
    await expect(call('presets.get', { id: saved.id })).rejects.toMatchObject({ code: 'not_found' })
    await expect(call('presets.delete', { id: 'lora-12gb' })).rejects.toMatchObject({ code: 'conflict' })
    await expect(call('presets.rename', { id: 'lora-12gb', name: 'x' })).rejects.toMatchObject({
      code: 'conflict',
    })
    await expect(call('presets.get', { id: '../../etc/passwd' })).rejects.toMatchObject({ code: 'not_found' })
    // no temporary files left behind by the atomic writes
    expect(readdirSync(path.join(root, 'data', 'presets')).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('skips a damaged user preset file instead of failing the list', async () => {
    const { root, call } = setup()
    mkdirSync(path.join(root, 'data', 'presets'), { recursive: true })
    writeFileSync(path.join(root, 'data', 'presets', 'user-broken-000000.json'), '{ nope')
    const list = await call<Summary[]>('presets.list', {})
    expect(list.every((p) => p.builtin)).toBe(true)
  })

  it('validates with the file system: model kind, image and caption counts, steps, output folder', async () => {
    const { root, call } = setup()
    const { img, reg } = dataset(root)
    const model = path.join(root, 'sdxl.safetensors')
    writeSdxlCheckpoint(model)
    const config = {
      type: 'lora',
      base_model: model,
      dataset: {
        subsets: [
          { image_dir: img, num_repeats: 10, class_tokens: 'sks dog' },
          { image_dir: reg, num_repeats: 1, class_tokens: 'dog', is_reg: true },
        ],
      },
      training: { max_train_epochs: 4, batch_size: 2 },
      optimizer: { type: 'AdamW' },
      saving: { output_dir: path.join(root, 'out', 'new'), output_name: 'dog' },
    }
    const r = await call<{
      valid: boolean
      issues: Array<{ rule: string; severity: string; message: string }>
      model: { kind: string }
      dataset: {
        subsets: Array<{ images: number; captioned: number; fromName: unknown }>
        steps: Record<string, number>
      }
      output: { writable: boolean }
    }>('config.validate', { config })
    expect(r.model.kind).toBe('sdxl_base')
    expect(r.dataset.subsets.map((s) => [s.images, s.captioned])).toEqual([
      [5, 3],
      [20, 0],
    ])
    expect(r.dataset.subsets[0]?.fromName).toEqual({ num_repeats: 10, class_tokens: 'sks dog' })
    expect(r.dataset.steps).toMatchObject({
      train_images_with_repeats: 50,
      images_per_epoch: 100,
      steps_per_epoch: 50,
      total_steps: 200,
    })
    expect(r.output.writable).toBe(true)
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([])
    expect(r.valid).toBe(true)
    expect(r.issues.find((i) => i.rule === 'dataset.captions')?.message).toMatch(/2 of 5 images/)

    const bad = await call<{ valid: boolean; issues: Array<{ rule: string; message: string }> }>(
      'config.validate',
      {
        config: {
          ...config,
          base_model: path.join(root, 'missing.safetensors'),
          dataset: { subsets: [{ image_dir: path.join(root, 'empty') }] },
        },
      },
    )
    expect(bad.valid).toBe(false)
    expect(bad.issues.map((i) => i.rule)).toEqual(expect.arrayContaining(['model.file', 'dataset.folder']))
    const notConfig = await call<{ valid: boolean; issues: Array<{ rule: string; message: string }> }>(
      'config.validate',
      { config: { type: 'flux' } },
    )
    expect(notConfig.issues[0]).toMatchObject({ rule: 'schema.invalid' })
    expect(notConfig.issues[0]?.message).toMatch(/^type:/)
  })

  it('imports a kohya_ss config, turning <repeats>_<name> folders into subsets', async () => {
    const { root, call } = setup()
    dataset(root)
    const r = await call<{
      config: { type: string; dataset: { subsets: Array<Record<string, unknown>> } }
      unmapped: string[]
      warnings: string[]
    }>('config.importKohya', {
      json: {
        LoRA_type: 'Standard',
        network_dim: '16',
        train_data_dir: path.join(root, 'img'),
        reg_data_dir: path.join(root, 'reg'),
        keep_tokens: '1',
        odd_key: 5,
      },
    })
    expect(r.config.type).toBe('lora')
    expect(r.config.dataset.subsets).toMatchObject([
      {
        image_dir: path.join(root, 'img', '10_sks dog'),
        num_repeats: 10,
        class_tokens: 'sks dog',
        keep_tokens: 1,
        is_reg: false,
      },
      { image_dir: path.join(root, 'reg', '1_dog'), num_repeats: 1, class_tokens: 'dog', is_reg: true },
    ])
    expect(r.unmapped).toEqual(['odd_key'])
    const missing = await call<{ warnings: Array<{ code: string; params: object; message: string }> }>(
      'config.importKohya',
      { json: { LoRA_type: 'Standard', train_data_dir: path.join(root, 'nope') } },
    )
    expect(missing.warnings).toEqual([
      expect.objectContaining({
        code: 'kohya_folder_missing',
        params: { dir: path.join(root, 'nope') },
        message: expect.stringMatching(/not found/),
      }),
    ])
    // A refusal carries its code and parameters, for the UI's language.
    await expect(call('config.importKohya', { json: { LoRA_type: 'LyCORIS/iA3' } })).rejects.toMatchObject({
      code: 'domain',
      details: { kind: 'kohya_import', code: 'kohya_lora_type', params: { type: 'LyCORIS/iA3' } },
    })
  })

  it('renders files and command, and applies fixes', async () => {
    const { call } = setup()
    const { config } = await call<{ config: Record<string, unknown> }>('presets.get', { id: 'loha-12gb' })
    const r = await call<{ script: string; files: Record<string, string>; argv: string[] }>('config.render', {
      config,
      filesDir: 'C:\\runs\\1',
      sdScriptsDir: 'C:\\sd-scripts',
      flavor: 'windows',
    })
    expect(r.script).toBe('sdxl_train_network.py')
    expect(r.argv).toContain('C:\\sd-scripts\\sdxl_train_network.py')
    expect(r.files['config.toml']).toContain('network_module = "lycoris.kohya"')
    const fixed = await call<{ memory: { attention: string } }>('config.applyFix', {
      config: { ...config, memory: { ...(config.memory as object), attention: 'none' } },
      fix: { label: 'Use SDPA', set: [{ path: 'memory.attention', value: 'sdpa' }] },
    })
    expect(fixed.memory.attention).toBe('sdpa')
  })

  it('browses folders for the pickers: sub-folders, model files, image count', async () => {
    const { root, call } = setup()
    const { img } = dataset(root)
    writeSdxlCheckpoint(path.join(root, 'sdxl.safetensors'))
    writeFileSync(path.join(root, 'notes.txt'), 'x')
    const models = await call<{
      path: string
      parent: string
      entries: Array<{ name: string; kind: string }>
    }>('paths.browse', { path: root, mode: 'models' })
    expect(models.entries.map((e) => `${e.kind}:${e.name}`).filter((e) => e !== 'dir:data')).toEqual([
      'dir:img',
      'dir:reg',
      'file:sdxl.safetensors',
    ])
    expect(models.parent).toBe(path.dirname(root))
    const folder = await call<{ images: number; entries: unknown[] }>('paths.browse', { path: img })
    expect(folder).toMatchObject({ images: 5, entries: [] })
    await expect(call('paths.browse', { path: path.join(root, 'missing') })).rejects.toMatchObject({
      code: 'not_found',
    })
  })
})
