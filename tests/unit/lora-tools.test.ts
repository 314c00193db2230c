import { describe, expect, it } from 'vitest'
import { inspectLora, type LoraInfo } from '../../core/lora/inspect'
import { parseOptimizer, parseResolution, trainingFromLora } from '../../core/lora/training-settings'
import { checkTool, planTool, ToolInput, type FileFacts, type OutputFacts } from '../../core/lora/tools'
import { parseHeader, type ModelClass } from '../../core/safetensors/header'
import { loraBytes, trainingMetadata, SD1_LINEAR, type LoraSpec } from '../helpers/lora'

function info(spec: LoraSpec): LoraInfo {
  const bytes = loraBytes(spec)
  const r = parseHeader(bytes, bytes.length)
  if (!r.ok) throw new Error(r.problem)
  return inspectLora(r.header, {})
}

const loraFacts = (spec: LoraSpec): FileFacts => ({
  exists: true,
  isFile: true,
  headerProblem: null,
  lora: info(spec),
  model: { kind: 'lora', description: '', tensorCount: 1 },
})
const modelFacts = (kind: ModelClass['kind']): FileFacts => ({
  exists: true,
  isFile: true,
  headerProblem: null,
  lora: null,
  model: { kind, description: `A ${kind}.`, tensorCount: 5 },
})
const missing: FileFacts = { exists: false, isFile: false, headerProblem: null, lora: null, model: null }
const freshOutput: OutputFacts = { exists: false, dirExists: true }

const codes = (input: unknown, files: Record<string, FileFacts>, out = freshOutput) =>
  checkTool(ToolInput.parse(input), files, out).map((p) => p.code)

describe('tool inputs (schema) refuse hostile values', () => {
  const resize = { tool: 'resize', model: '/m/a.safetensors', save_to: '/m/b.safetensors', new_rank: 4 }
  it('ranks: 0, -1, 1.5, 1e-4, text, huge are refused; whole numbers 1–1024 pass', () => {
    for (const bad of [0, -1, 1.5, 1e-4, '8', 'восемь', 1025, Number.NaN, Infinity, null])
      expect(ToolInput.safeParse({ ...resize, new_rank: bad }).success, String(bad)).toBe(false)
    for (const good of [1, 8, 1024])
      expect(ToolInput.safeParse({ ...resize, new_rank: good }).success).toBe(true)
  })
  it('paths: empty, blank and very long are refused; Cyrillic and spaces pass', () => {
    for (const bad of ['', '   ', 'x'.repeat(5000)])
      expect(ToolInput.safeParse({ ...resize, model: bad }).success).toBe(false)
    expect(ToolInput.safeParse({ ...resize, model: '/данные/мой lora.safetensors' }).success).toBe(true)
  })
  it('merge ratios: finite numbers in −10…10; an unknown mode or tool is refused', () => {
    const merge = {
      tool: 'merge',
      mode: 'sum',
      models: [{ file: '/a', ratio: 1 }],
      save_to: '/o.safetensors',
    }
    for (const bad of [Number.NaN, Infinity, 11, -10.5, 'one'])
      expect(ToolInput.safeParse({ ...merge, models: [{ file: '/a', ratio: bad }] }).success).toBe(false)
    expect(ToolInput.safeParse({ ...merge, models: [{ file: '/a', ratio: -0.5 }] }).success).toBe(true)
    expect(ToolInput.safeParse({ ...merge, mode: 'average' }).success).toBe(false)
    expect(ToolInput.safeParse({ ...merge, tool: 'rename' }).success).toBe(false)
    expect(ToolInput.safeParse({ ...merge, models: [] }).success).toBe(false)
    expect(ToolInput.safeParse({ ...merge, extra: 1 }).success).toBe(false)
  })
  it('extract: clamp quantile in (0, 1], min diff in [0, 1]', () => {
    const ex = { tool: 'extract', model_org: '/a', model_tuned: '/b', save_to: '/c.safetensors', dim: 8 }
    for (const bad of [0, -0.1, 1.5])
      expect(ToolInput.safeParse({ ...ex, clamp_quantile: bad }).success).toBe(false)
    for (const bad of [-1, 2]) expect(ToolInput.safeParse({ ...ex, min_diff: bad }).success).toBe(false)
    expect(ToolInput.parse(ex)).toMatchObject({ clamp_quantile: 0.99, min_diff: 0.01, device: 'cpu' })
  })
})

describe('planTool: sd-scripts command lines', () => {
  it('resize, fixed and dynamic', () => {
    expect(
      planTool(
        ToolInput.parse({ tool: 'resize', model: '/a.safetensors', save_to: '/b.safetensors', new_rank: 4 }),
      ),
    ).toEqual({
      script: 'networks/resize_lora.py',
      args: [
        '--model',
        '/a.safetensors',
        '--save_to',
        '/b.safetensors',
        '--new_rank',
        '4',
        '--save_precision',
        'fp16',
        '--device',
        'cpu',
        '--verbose',
      ],
      inputs: ['/a.safetensors'],
      output: '/b.safetensors',
    })
    const dyn = planTool(
      ToolInput.parse({
        tool: 'resize',
        model: '/a.safetensors',
        save_to: '/b.safetensors',
        new_rank: 16,
        new_conv_rank: 8,
        dynamic_method: 'sv_fro',
        dynamic_param: 0.9,
        device: 'cuda',
        save_precision: 'bf16',
      }),
    )
    expect(dyn.args).toEqual([
      '--model',
      '/a.safetensors',
      '--save_to',
      '/b.safetensors',
      '--new_rank',
      '16',
      '--new_conv_rank',
      '8',
      '--dynamic_method',
      'sv_fro',
      '--dynamic_param',
      '0.9',
      '--save_precision',
      'bf16',
      '--device',
      'cuda',
      '--verbose',
    ])
  })
  it('merge: sum and concat (sdxl_merge_lora), svd (svd_merge_lora), into a checkpoint', () => {
    const base = {
      tool: 'merge',
      models: [
        { file: '/a', ratio: 1 },
        { file: '/b', ratio: 0.5 },
      ],
      save_to: '/o.safetensors',
    }
    expect(planTool(ToolInput.parse({ ...base, mode: 'sum' }))).toMatchObject({
      script: 'networks/sdxl_merge_lora.py',
      args: [
        '--models',
        '/a',
        '/b',
        '--ratios',
        '1',
        '0.5',
        '--save_to',
        '/o.safetensors',
        '--precision',
        'float',
        '--save_precision',
        'fp16',
      ],
    })
    expect(planTool(ToolInput.parse({ ...base, mode: 'concat' })).args.at(-1)).toBe('--concat')
    expect(planTool(ToolInput.parse({ ...base, mode: 'svd', new_rank: 12 }))).toMatchObject({
      script: 'networks/svd_merge_lora.py',
      args: [
        ...'--models /a /b --ratios 1 0.5 --save_to /o.safetensors --precision float --save_precision fp16 --new_rank 12 --device cpu'.split(
          ' ',
        ),
      ],
    })
    expect(planTool(ToolInput.parse({ ...base, mode: 'checkpoint', sd_model: '/sdxl' }))).toMatchObject({
      args: expect.arrayContaining(['--sd_model', '/sdxl']),
      inputs: ['/sdxl', '/a', '/b'],
    })
  })
  it('extract with --sdxl', () => {
    expect(
      planTool(
        ToolInput.parse({
          tool: 'extract',
          model_org: '/o',
          model_tuned: '/t',
          save_to: '/x.safetensors',
          dim: 32,
          conv_dim: 8,
        }),
      ).args,
    ).toEqual([
      '--sdxl',
      '--model_org',
      '/o',
      '--model_tuned',
      '/t',
      '--save_to',
      '/x.safetensors',
      '--dim',
      '32',
      '--conv_dim',
      '8',
      '--device',
      'cpu',
      '--save_precision',
      'fp16',
      '--clamp_quantile',
      '0.99',
      '--min_diff',
      '0.01',
    ])
  })
})

describe('checkTool: problems found before a script starts', () => {
  const a = '/m/a.safetensors'
  const b = '/m/b.safetensors'
  const out = '/m/out.safetensors'
  const resize = { tool: 'resize', model: a, save_to: out, new_rank: 4 }

  it('a good resize has no problems', () => {
    expect(codes(resize, { [a]: loraFacts({ rank: 16 }) })).toEqual([])
  })
  it('resize: a rank not below the current one, LoHa, SD 1.x, not a LoRA, missing files', () => {
    expect(codes({ ...resize, new_rank: 16 }, { [a]: loraFacts({ rank: 16 }) })).toEqual(['rank_not_lower'])
    expect(codes(resize, { [a]: loraFacts({ kind: 'loha', rank: 16 }) })).toEqual(['unsupported_network'])
    expect(codes(resize, { [a]: loraFacts({ linear: SD1_LINEAR }) })).toEqual(['not_sdxl_lora'])
    expect(codes(resize, { [a]: modelFacts('sdxl_base') })).toEqual(['not_lora'])
    expect(codes(resize, { [a]: missing })).toEqual(['file_missing'])
    expect(codes(resize, { [a]: { ...missing, exists: true } })).toEqual(['not_a_file'])
    expect(
      codes(resize, { [a]: { ...missing, exists: true, isFile: true, headerProblem: 'truncated' } }),
    ).toEqual(['not_safetensors'])
  })
  it('resize dynamic: the target must fit the method', () => {
    const f = { [a]: loraFacts({ rank: 16 }) }
    expect(codes({ ...resize, dynamic_method: 'sv_fro' }, f)).toEqual(['dynamic_param_missing'])
    expect(codes({ ...resize, dynamic_method: 'sv_fro', dynamic_param: 1.5 }, f)).toEqual([
      'dynamic_param_range',
    ])
    expect(codes({ ...resize, dynamic_method: 'sv_ratio', dynamic_param: 0.5 }, f)).toEqual([
      'dynamic_param_range',
    ])
    expect(codes({ ...resize, dynamic_method: 'sv_ratio', dynamic_param: 8, new_rank: 32 }, f)).toEqual([])
    expect(codes({ ...resize, dynamic_param: 0.9 }, f)).toEqual(['dynamic_param_without_method'])
  })
  it('output: extension, overwriting an input, missing folder, an existing file', () => {
    const f = { [a]: loraFacts({ rank: 16 }) }
    expect(codes({ ...resize, save_to: '/m/out.ckpt' }, f)).toEqual(['output_extension'])
    expect(codes({ ...resize, save_to: a }, f)).toEqual(['output_is_input'])
    expect(codes(resize, f, { exists: false, dirExists: false })).toEqual(['output_dir_missing'])
    expect(codes(resize, f, { exists: true, dirExists: true })).toEqual(['output_exists'])
    expect(codes({ ...resize, overwrite: true }, f, { exists: true, dirExists: true })).toEqual([])
  })
  it('merge: equal ranks for a sum; concat and svd take any; duplicates; one file; checkpoint model', () => {
    const files = { [a]: loraFacts({ rank: 8 }), [b]: loraFacts({ rank: 4, seed: 2 }) }
    const models = [{ file: a }, { file: b }]
    expect(codes({ tool: 'merge', mode: 'sum', models, save_to: out }, files)).toEqual(['ranks_differ'])
    expect(codes({ tool: 'merge', mode: 'concat', models, save_to: out }, files)).toEqual([])
    expect(codes({ tool: 'merge', mode: 'svd', models, save_to: out, new_rank: 8 }, files)).toEqual([])
    expect(codes({ tool: 'merge', mode: 'svd', models, save_to: out }, files)).toEqual(['svd_needs_rank'])
    expect(
      codes({ tool: 'merge', mode: 'sum', models: [{ file: a }, { file: a }], save_to: out }, files),
    ).toEqual(['duplicate_input'])
    expect(codes({ tool: 'merge', mode: 'sum', models: [{ file: a }], save_to: out }, files)).toEqual([
      'merge_needs_two',
    ])
    expect(codes({ tool: 'merge', mode: 'checkpoint', models: [{ file: a }], save_to: out }, files)).toEqual([
      'checkpoint_needs_model',
    ])
    expect(
      codes(
        {
          tool: 'merge',
          mode: 'checkpoint',
          models: [{ file: a }],
          save_to: out,
          sd_model: '/m/sd1.safetensors',
        },
        {
          ...files,
          '/m/sd1.safetensors': modelFacts('sd1'),
        },
      ),
    ).toEqual(['not_sdxl_model'])
    expect(
      codes(
        {
          tool: 'merge',
          mode: 'checkpoint',
          models: [{ file: a }],
          save_to: out,
          sd_model: '/m/x.safetensors',
        },
        {
          ...files,
          '/m/x.safetensors': modelFacts('sdxl_base'),
        },
      ),
    ).toEqual([])
  })
  it('extract: two SDXL base checkpoints, not the same file', () => {
    const files = {
      '/o': modelFacts('sdxl_base'),
      '/t': modelFacts('sdxl_base'),
      '/r': modelFacts('sdxl_refiner'),
    }
    const ex = { tool: 'extract', model_org: '/o', model_tuned: '/t', save_to: out, dim: 8 }
    expect(codes(ex, files)).toEqual([])
    expect(codes({ ...ex, model_tuned: '/r' }, files)).toEqual(['not_sdxl_model'])
    expect(codes({ ...ex, model_tuned: '/o' }, files)).toEqual(['same_models'])
  })
  it('every problem has an English message that names the file or the fix', () => {
    const problems = checkTool(
      ToolInput.parse({ ...resize, save_to: a }),
      { [a]: missing },
      { exists: true, dirExists: false },
    )
    for (const p of problems) expect(p.message.length).toBeGreaterThan(20)
    expect(problems.map((p) => p.code)).toEqual([
      'file_missing',
      'output_is_input',
      'output_dir_missing',
      'output_exists',
    ])
  })
})

describe('training settings from ss_* metadata', () => {
  it('carries sd-scripts metadata into a config for the Train page', () => {
    const r = trainingFromLora(info({ rank: 8, metadata: trainingMetadata() }))
    expect(r.config).toMatchObject({
      type: 'lora',
      network: { dim: 8, alpha: 4 },
      optimizer: {
        type: 'AdamW8bit',
        args: ['weight_decay=0.01', 'betas=(0.9, 0.99)'],
        learning_rate: 0.0001,
        unet_lr: 0.0001,
        text_encoder_lr: 0.00005,
        lr_scheduler: 'cosine',
        max_grad_norm: 1,
      },
      training: { max_train_epochs: 10, max_train_steps: 1600, batch_size: 2, seed: 42 },
      memory: { mixed_precision: 'bf16', gradient_checkpointing: true, cache_latents: true },
      loss: { min_snr_gamma: 5, noise_offset: 0.0357, multires_noise_discount: 0.3, loss_type: 'l2' },
      dataset: { resolution: { width: 1024, height: 1024 }, min_bucket_reso: 256, max_bucket_reso: 2048 },
      saving: { output_name: 'cat-lora' },
    })
    expect(r.used).toContain('ss_optimizer')
    expect(r.notes.map((n) => n.code)).toEqual(['base_model_name', 'dataset_not_carried'])
  })

  it('LyCORIS args become network options; LoKr stays LoKr', () => {
    const r = trainingFromLora(
      info({
        kind: 'lokr',
        metadata: {
          ss_network_module: 'lycoris.kohya',
          ss_network_dim: '100000',
          ss_network_args: JSON.stringify({
            algo: 'lokr',
            factor: '8',
            conv_dim: '4',
            conv_alpha: '1',
            preset: 'attn-mlp',
          }),
        },
      }),
    )
    expect(r.config).toMatchObject({
      type: 'lokr',
      network: { dim: 100000, factor: 8, conv_dim: 4, conv_alpha: 1, preset: 'attn-mlp' },
    })
  })

  it('values the form does not take are dropped, each named; the rest is kept', () => {
    const r = trainingFromLora(
      info({
        metadata: trainingMetadata({ ss_lr_scheduler: 'rex', ss_network_dim: '0', ss_resolution: 'big' }),
      }),
    )
    expect(r.config.optimizer.lr_scheduler).toBe('constant')
    expect(r.config.network.dim).toBe(32)
    expect(
      r.notes
        .filter((n) => n.code === 'value_dropped')
        .map((n) => n.params.key)
        .sort(),
    ).toEqual(['ss_lr_scheduler', 'ss_network_dim'])
    expect(r.used).not.toContain('ss_lr_scheduler')
    expect(r.config.optimizer.type).toBe('AdamW8bit')
  })

  it('no metadata: a default config of the file kind, and a note', () => {
    const r = trainingFromLora(info({ kind: 'loha' }))
    expect(r.config.type).toBe('loha')
    expect(r.used).toEqual([])
    expect(r.notes.map((n) => n.code)).toEqual(['no_training_metadata'])
  })

  it('optimizer and resolution strings', () => {
    expect(parseOptimizer('torch.optim.adamw.AdamW')).toEqual({ type: 'AdamW', args: [] })
    expect(
      parseOptimizer('transformers.optimization.Adafactor(scale_parameter=False,relative_step=False)'),
    ).toEqual({
      type: 'Adafactor',
      args: ['scale_parameter=False', 'relative_step=False'],
    })
    expect(parseOptimizer('torch.optim.sgd.SGD(nesterov=True,momentum=0.9)')).toEqual({
      type: 'SGDNesterov',
      args: [],
    })
    expect(parseOptimizer('came_pytorch.CAME(weight_decay=0.04)')).toEqual({
      type: 'came_pytorch.CAME',
      args: ['weight_decay=0.04'],
    })
    for (const bad of [undefined, '', 'None', 'rm -rf /', 'Адам']) expect(parseOptimizer(bad)).toBeNull()
    expect(parseResolution('(1024, 768)')).toEqual({ width: 1024, height: 768 })
    expect(parseResolution('1024')).toEqual({ width: 1024, height: 1024 })
    for (const bad of ['None', 'big', '(0, 1)', '1.5,2', '1,2,3', '']) expect(parseResolution(bad)).toBeNull()
  })
})
