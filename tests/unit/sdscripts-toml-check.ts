import { parse } from 'smol-toml'
import { expect } from 'vitest'
import { optionInfo, type OptionKind } from '../../core/sdscripts/args'
import type { Rendered } from '../../core/sdscripts/render'

/**
 * Dataset TOML keys sd-scripts' schema allows, by level (config_util.ConfigSanitizer, DreamBooth style):
 * the keys that may stand at every level, plus those of [general]/[[datasets]] only and of subsets only.
 */
const ASCENDABLE = [
  'resize_interpolation',
  'num_repeats',
  'shuffle_caption',
  'caption_separator',
  'keep_tokens',
  'keep_tokens_separator',
  'secondary_separator',
  'enable_wildcard',
  'color_aug',
  'flip_aug',
  'face_crop_aug_range',
  'random_crop',
  'caption_prefix',
  'caption_suffix',
  'token_warmup_min',
  'token_warmup_step',
  'custom_attributes',
  'caption_dropout_rate',
  'caption_dropout_every_n_epochs',
  'caption_tag_dropout_rate',
  'caption_extension',
  'class_tokens',
  'cache_info',
]
const DATASET_KEYS = new Set([
  'batch_size',
  'resolution',
  'enable_bucket',
  'min_bucket_reso',
  'max_bucket_reso',
  'bucket_reso_steps',
  'bucket_no_upscale',
  'validation_seed',
  'validation_split',
  'network_multiplier',
  ...ASCENDABLE,
])
const SUBSET_ONLY_OR_ASCENDABLE = new Set([...ASCENDABLE, 'image_dir', 'is_reg', 'alpha_mask'])

function tomlTypeOk(kind: OptionKind, v: unknown): boolean {
  switch (kind) {
    case 'flag':
      return typeof v === 'boolean'
    case 'int':
      return typeof v === 'number' && Number.isInteger(v)
    case 'float':
    case 'int_or_float':
      return typeof v === 'number'
    case 'str':
      return typeof v === 'string'
    case 'str[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string')
    case 'float[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'number')
  }
}

export function checkRendered(r: Rendered): void {
  const cfg = parse(r.files['config.toml']) as Record<string, unknown>
  for (const [k, v] of Object.entries(cfg)) {
    const info = optionInfo(r.scriptKey, k)
    expect(info, `${k} must be an option of ${r.script}`).toBeDefined()
    expect(tomlTypeOk(info!.kind, v), `${k} = ${JSON.stringify(v)} must be TOML ${info!.kind}`).toBe(true)
    if (info!.choices) expect(info!.choices, k).toContain(v)
  }
  expect(typeof cfg.resolution).toBe('string')
  const ds = parse(r.files['dataset.toml']) as Record<string, unknown>
  expect(Object.keys(ds).every((k) => k === 'general' || k === 'datasets')).toBe(true)
  for (const d of ds.datasets as Array<Record<string, unknown>>) {
    for (const [k, v] of Object.entries(d)) {
      if (k === 'subsets') continue
      expect(DATASET_KEYS.has(k), `[[datasets]] ${k}`).toBe(true)
      void v
    }
    for (const s of d.subsets as Array<Record<string, unknown>>) {
      for (const k of Object.keys(s))
        expect(SUBSET_ONLY_OR_ASCENDABLE.has(k), `[[datasets.subsets]] ${k}`).toBe(true)
      expect(typeof s.image_dir).toBe('string')
    }
  }
}
