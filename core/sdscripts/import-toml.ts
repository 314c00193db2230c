import { parse } from 'smol-toml'
import { repairConfig } from '../config/draft'
import { extraCandidate, type ExtraCandidate } from '../config/extras'
import {
  LycorisPreset,
  Optimizer,
  type SamplePrompt,
  type Subset,
  type TrainingConfig,
  type TrainingConfigInput,
  type TrainingType,
} from '../config/schema'
import { parsePromptText, type ImportNote, type KeyReport, type KeyStatus } from '../kohya/import'
import { optionInfo, type ScriptKey } from './args'
import { note, NoteError, type NoteCode, type Params } from './messages'
import { optimizerKind } from './optimizers'

/**
 * Opens sd-scripts' own files: a --config_file TOML (training arguments; sd-scripts merges all its
 * sections into one table) and a --dataset_config TOML ([general], [[datasets]], [[datasets.subsets]]),
 * optionally the sample prompts file. The inverse of render.ts: every key gets a status like a kohya_ss
 * import; sd-scripts options we have no field for are offered as extra options (core/config/extras.ts),
 * never taken without consent.
 */

export interface TomlImport {
  config: TrainingConfig
  keys: KeyReport[]
  unmapped: string[]
  warnings: ImportNote[]
  extras: ExtraCandidate[]
}

/** Why the files cannot be opened at all (code and parameters name the text in NOTE_MESSAGES). */
export class TomlImportError extends NoteError {}

type Table = Record<string, unknown>

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
}

function parseToml(text: string, file: string): Table {
  try {
    return parse(text) as Table
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
    throw new TomlImportError('toml_bad_file', { file, detail })
  }
}

/** sd-scripts reads every section of --config_file as one flat table (later sections win). */
function flatten(t: Table): Table {
  const out: Table = {}
  for (const [k, v] of Object.entries(t)) if (!isTable(v)) out[k] = v
  for (const v of Object.values(t)) if (isTable(v)) Object.assign(out, flatten(v))
  return out
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  return Number.isFinite(n) ? n : undefined
}
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined)
const strList = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : undefined

/** "1024,768", "1024", 1024 or [1024, 768] → width and height. */
function resolutionOf(v: unknown): { width: number; height: number } | undefined {
  const parts = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v]
  const nums = parts.map(num)
  const [w, h] = nums
  if (w === undefined || nums.length > 2 || nums.some((x) => x === undefined)) return undefined
  return { width: w, height: h ?? w }
}

const SCHEDULERS: readonly string[] = Optimizer.shape.lr_scheduler.unwrap().options

/** Keys the form sets, read back into the config; anything else is offered or reported. */
type Reader = (v: unknown, c: Draft, ctx: Context) => boolean

interface Draft extends TrainingConfigInput {
  dataset: NonNullable<TrainingConfigInput['dataset']>
  network: NonNullable<TrainingConfigInput['network']>
  optimizer: NonNullable<TrainingConfigInput['optimizer']>
  training: NonNullable<TrainingConfigInput['training']>
  memory: NonNullable<TrainingConfigInput['memory']>
  loss: NonNullable<TrainingConfigInput['loss']>
  sampling: NonNullable<TrainingConfigInput['sampling']>
  saving: NonNullable<TrainingConfigInput['saving']>
  logging: NonNullable<TrainingConfigInput['logging']>
}

interface Context {
  type: TrainingType
  warnings: ImportNote[]
  extras: ExtraCandidate[]
}

function setter<T>(read: (v: unknown) => T | undefined, apply: (c: Draft, v: T) => void): Reader {
  return (v, c) => {
    const x = read(v)
    if (x === undefined) return false
    apply(c, x)
    return true
  }
}

const flagOn = (apply: (c: Draft, v: boolean) => void) => setter(bool, apply)

const READERS: Record<string, Reader> = {
  pretrained_model_name_or_path: setter(str, (c, v) => (c.base_model = v)),
  vae: setter(str, (c, v) => (c.vae = v)),
  resolution: setter(resolutionOf, (c, v) => (c.dataset.resolution = v)),
  train_batch_size: setter(num, (c, v) => (c.training.batch_size = v)),
  max_token_length: setter(num, (c, v) => (c.training.max_token_length = v as 75)),
  network_dim: setter(num, (c, v) => (c.network.dim = v)),
  network_alpha: setter(num, (c, v) => (c.network.alpha = v)),
  network_dropout: setter(num, (c, v) => (c.network.dropout = v)),
  network_train_unet_only: flagOn((c, v) => (c.network.train_unet_only = v)),
  optimizer_type: (v, c, ctx) => {
    const name = str(v)
    if (!name) return false
    if (optimizerKind(name) === 'class_path') {
      // Importing the module runs its code: only with the user's consent.
      ctx.extras.push({
        ...extraCandidate('optimizer_type', name, 'optimizer_type'),
        target: { path: 'optimizer.type', value: name },
      })
      ctx.warnings.push(note('kohya_optimizer_class', { name }))
      c.optimizer.type = 'AdamW'
      return true
    }
    c.optimizer.type = name
    return true
  },
  optimizer_args: setter(strList, (c, v) => (c.optimizer.args = v)),
  learning_rate: setter(num, (c, v) => (c.optimizer.learning_rate = v)),
  unet_lr: setter(num, (c, v) => (c.optimizer.unet_lr = v)),
  text_encoder_lr: setter(
    (v) => num(Array.isArray(v) ? v[0] : v),
    (c, v) => (c.optimizer.text_encoder_lr = v),
  ),
  learning_rate_te1: setter(num, (c, v) => (c.optimizer.text_encoder_lr = v)),
  learning_rate_te2: setter(num, (c, v) => (c.optimizer.text_encoder_lr ??= v)),
  train_text_encoder: flagOn((c, v) => (c.optimizer.train_text_encoder = v)),
  lr_scheduler: setter(
    (v) => (typeof v === 'string' && SCHEDULERS.includes(v) ? v : undefined),
    (c, v) => (c.optimizer.lr_scheduler = v as 'constant'),
  ),
  lr_warmup_steps: setter(
    (v) => (typeof v === 'string' && /%$/.test(v) ? num(v.slice(0, -1))! / 100 : num(v)),
    (c, v) => (c.optimizer.lr_warmup_steps = v),
  ),
  lr_scheduler_num_cycles: setter(num, (c, v) => (c.optimizer.lr_scheduler_num_cycles = v)),
  max_grad_norm: setter(num, (c, v) => (c.optimizer.max_grad_norm = v)),
  max_train_epochs: setter(num, (c, v) => (c.training.max_train_epochs = v)),
  max_train_steps: setter(num, (c, v) => (c.training.max_train_steps = v)),
  gradient_accumulation_steps: setter(num, (c, v) => (c.training.gradient_accumulation_steps = v)),
  seed: setter(num, (c, v) => (c.training.seed = v)),
  mixed_precision: setter(
    (v) => (v === 'no' || v === 'fp16' || v === 'bf16' ? v : undefined),
    (c, v) => (c.memory.mixed_precision = v),
  ),
  full_bf16: flagOn((c, v) => (c.memory.full_bf16 = v)),
  full_fp16: flagOn((c, v) => (c.memory.full_fp16 = v)),
  fp8_base: flagOn((c, v) => (c.memory.fp8_base = v)),
  gradient_checkpointing: flagOn((c, v) => (c.memory.gradient_checkpointing = v)),
  cache_latents: flagOn((c, v) => (c.memory.cache_latents = v)),
  cache_latents_to_disk: flagOn((c, v) => (c.memory.cache_latents_to_disk = v)),
  cache_text_encoder_outputs: flagOn((c, v) => (c.memory.cache_text_encoder_outputs = v)),
  cache_text_encoder_outputs_to_disk: flagOn((c, v) => (c.memory.cache_text_encoder_outputs_to_disk = v)),
  sdpa: flagOn((c, v) => v && c.memory.attention !== 'xformers' && (c.memory.attention = 'sdpa')),
  // sd-scripts prefers xformers over sdpa when both are given.
  xformers: flagOn((c, v) => v && (c.memory.attention = 'xformers')),
  fused_backward_pass: flagOn((c, v) => (c.memory.fused_backward_pass = v)),
  max_data_loader_n_workers: setter(num, (c, v) => (c.memory.max_data_loader_n_workers = v)),
  persistent_data_loader_workers: flagOn((c, v) => (c.memory.persistent_data_loader_workers = v)),
  no_half_vae: flagOn((c, v) => (c.memory.no_half_vae = v)),
  lowram: flagOn((c, v) => (c.memory.lowram = v)),
  min_snr_gamma: setter(num, (c, v) => (c.loss.min_snr_gamma = v)),
  noise_offset: setter(num, (c, v) => (c.loss.noise_offset = v)),
  multires_noise_iterations: setter(num, (c, v) => (c.loss.multires_noise_iterations = v)),
  multires_noise_discount: setter(num, (c, v) => (c.loss.multires_noise_discount = v)),
  loss_type: setter(
    (v) => (v === 'l2' || v === 'l1' || v === 'huber' || v === 'smooth_l1' ? v : undefined),
    (c, v) => (c.loss.loss_type = v),
  ),
  huber_c: setter(num, (c, v) => (c.loss.huber_c = v)),
  prior_loss_weight: setter(num, (c, v) => (c.loss.prior_loss_weight = v)),
  sample_sampler: setter(str, (c, v) => (c.sampling.sampler = v as 'euler_a')),
  sample_every_n_steps: setter(num, (c, v) => (c.sampling.every_n_steps = v)),
  sample_every_n_epochs: setter(num, (c, v) => (c.sampling.every_n_epochs = v)),
  sample_at_first: flagOn((c, v) => (c.sampling.sample_at_first = v)),
  output_dir: setter(str, (c, v) => (c.saving.output_dir = v)),
  output_name: setter(str, (c, v) => (c.saving.output_name = v)),
  save_every_n_epochs: setter(num, (c, v) => (c.saving.save_every_n_epochs = v)),
  save_every_n_steps: setter(num, (c, v) => (c.saving.save_every_n_steps = v)),
  save_precision: setter(
    (v) => (v === 'float' || v === 'fp16' || v === 'bf16' ? v : undefined),
    (c, v) => (c.saving.save_precision = v),
  ),
  save_model_as: setter(
    (v) =>
      v === 'safetensors' || v === 'ckpt' || v === 'pt' || v === 'diffusers' || v === 'diffusers_safetensors'
        ? v
        : undefined,
    (c, v) => (c.saving.save_model_as = v),
  ),
  save_state: flagOn((c, v) => (c.saving.save_state = v)),
  save_state_on_train_end: flagOn((c, v) => (c.saving.save_state_on_train_end = v)),
  training_comment: setter(str, (c, v) => (c.saving.comment = v)),
  metadata_description: setter(str, (c, v) => (c.saving.comment ??= v)),
  logging_dir: setter(str, (c, v) => (c.logging.logging_dir = v)),
  log_with: setter(
    (v) => (v === 'tensorboard' || v === 'wandb' || v === 'all' ? v : undefined),
    (c, v) => (c.logging.log_with = v),
  ),
  log_prefix: setter(str, (c, v) => (c.logging.log_prefix = v)),
}

/** Keys handled apart from READERS: the type, the files config.toml points at. */
const SPECIAL = new Set(['network_module', 'network_args', 'dataset_config', 'sample_prompts'])

/** The training type the network module and its algo say. */
function typeOf(flat: Table, networkArgs: Record<string, string>, warnings: ImportNote[]): TrainingType {
  const module = str(flat.network_module)
  if (module === undefined) {
    if (flat.network_dim !== undefined || flat.network_alpha !== undefined) {
      warnings.push(note('toml_no_network_module'))
      return networkArgs.conv_dim ? 'locon' : 'lora'
    }
    return 'dreambooth'
  }
  if (module === 'networks.lora') return networkArgs.conv_dim ? 'locon' : 'lora'
  if (module === 'lycoris.kohya') {
    const algo = (networkArgs.algo ?? 'lora').toLowerCase()
    if (algo === 'loha' || algo === 'lokr') return algo
    if (algo === 'locon' || algo === 'lora') {
      warnings.push(note('toml_lycoris_locon'))
      return 'locon'
    }
  }
  throw new TomlImportError('toml_network_unsupported', {
    module: module + (networkArgs.algo ? ` (algo=${networkArgs.algo})` : ''),
  })
}

const NETWORK_ARGS: Record<string, (c: Draft, v: string) => boolean> = {
  conv_dim: (c, v) => set(num(v), (x) => (c.network.conv_dim = x)),
  conv_alpha: (c, v) => set(num(v), (x) => (c.network.conv_alpha = x)),
  factor: (c, v) => set(num(v), (x) => (c.network.factor = x)),
  preset: (c, v) =>
    set(LycorisPreset.safeParse(v).success ? v : undefined, (x) => (c.network.preset = x as 'full')),
  use_tucker: (c, v) => set(pyBool(v), (x) => (c.network.use_tucker = x)),
  use_cp: (c, v) => set(pyBool(v), (x) => (c.network.use_tucker = x)),
  use_conv_cp: (c, v) => set(pyBool(v), (x) => (c.network.use_tucker = x)),
  use_scalar: (c, v) => set(pyBool(v), (x) => (c.network.use_scalar = x)),
  decompose_both: (c, v) => set(pyBool(v), (x) => (c.network.decompose_both = x)),
  rank_dropout: (c, v) => set(num(v), (x) => (c.network.rank_dropout = x)),
  module_dropout: (c, v) => set(num(v), (x) => (c.network.module_dropout = x)),
  dropout: (c, v) => set(num(v), (x) => (c.network.dropout ??= x)),
  algo: () => true,
}

function set<T>(v: T | undefined, apply: (v: T) => void): boolean {
  if (v === undefined) return false
  apply(v)
  return true
}

function pyBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase()
  return s === 'true' ? true : s === 'false' ? false : undefined
}

const SUBSET_KEYS = [
  'image_dir',
  'num_repeats',
  'class_tokens',
  'caption_extension',
  'is_reg',
  'keep_tokens',
  'shuffle_caption',
  'flip_aug',
  'caption_dropout_rate',
  'caption_tag_dropout_rate',
  'caption_dropout_every_n_epochs',
  'token_warmup_step',
] as const
const DATASET_KEYS = [
  'resolution',
  'batch_size',
  'enable_bucket',
  'min_bucket_reso',
  'max_bucket_reso',
  'bucket_reso_steps',
  'bucket_no_upscale',
]

/** The dataset TOML: first dataset, subset values falling back to the dataset and [general] (as sd-scripts does). */
function readDataset(text: string, c: Draft, ctx: Context, report: Map<string, KeyReport>) {
  const t = parseToml(text, 'dataset.toml')
  const general = isTable(t.general) ? t.general : {}
  const datasets = Array.isArray(t.datasets) ? t.datasets.filter(isTable) : []
  if (datasets.length > 1) ctx.warnings.push(note('toml_several_datasets', { count: datasets.length }))
  const ds = datasets[0] ?? {}
  const level = { ...general, ...ds }
  const pick = (k: string) => level[k]
  const res = resolutionOf(pick('resolution'))
  if (res) c.dataset.resolution = res
  const bs = num(pick('batch_size'))
  if (bs !== undefined) c.training.batch_size = bs
  for (const k of ['enable_bucket', 'bucket_no_upscale'] as const) {
    const v = bool(pick(k))
    if (v !== undefined) c.dataset[k] = v
  }
  for (const k of ['min_bucket_reso', 'max_bucket_reso', 'bucket_reso_steps'] as const) {
    const v = num(pick(k))
    if (v !== undefined) c.dataset[k] = v
  }
  const subsets = Array.isArray(ds.subsets) ? ds.subsets.filter(isTable) : []
  const out: Array<Partial<Subset>> = []
  subsets.forEach((sub, i) => {
    if (sub.metadata_file !== undefined) {
      ctx.warnings.push(note('toml_metadata_subset', { n: i + 1 }))
      return
    }
    const v = { ...level, ...sub }
    const s: Record<string, unknown> = {}
    for (const k of SUBSET_KEYS) {
      const x = v[k]
      if (x !== undefined) s[k] = typeof x === 'bigint' ? Number(x) : x
    }
    out.push(s as Partial<Subset>)
  })
  c.dataset.subsets = out as Subset[]
  const known = new Set<string>([...SUBSET_KEYS, ...DATASET_KEYS, 'subsets', 'metadata_file'])
  const others = new Set<string>()
  for (const table of [general, ds, ...subsets])
    for (const k of Object.keys(table)) if (!known.has(k)) others.add(k)
  for (const k of [...others].sort()) {
    const key = `dataset.toml:${k}`
    const n = note('toml_dataset_key', { key: k })
    report.set(key, { key, status: 'unmapped', note: n.message, code: n.code, params: n.params })
  }
}

export function importSdScriptsToml(files: {
  config: string
  dataset?: string
  prompts?: string
}): TomlImport {
  const flat = flatten(parseToml(files.config, 'config.toml'))
  const warnings: ImportNote[] = []
  const extras: ExtraCandidate[] = []
  const report = new Map<string, KeyReport>()
  const mark = (key: string, status: KeyStatus, code?: NoteCode, params: Params = {}) =>
    report.set(key, code ? { key, status, note: note(code, params).message, code, params } : { key, status })

  const networkArgs: Record<string, string> = {}
  for (const a of strList(flat.network_args) ?? []) {
    const i = a.indexOf('=')
    if (i > 0) networkArgs[a.slice(0, i).trim()] = a.slice(i + 1).trim()
  }
  const type = typeOf(flat, networkArgs, warnings)
  const script: ScriptKey = type === 'dreambooth' ? 'sdxl_train' : 'sdxl_train_network'
  // What sd-scripts does when a key is absent (its argparse defaults, sd-scripts.md), not our form's
  // defaults: a flag that is not in the file is off.
  const c: Draft = {
    type,
    dataset: {
      enable_bucket: false,
      bucket_no_upscale: false,
      min_bucket_reso: 256,
      max_bucket_reso: 1024,
      bucket_reso_steps: 64,
    },
    network: type === 'dreambooth' ? {} : { dim: 4, alpha: 1 },
    optimizer: { type: 'AdamW', learning_rate: 2e-6 },
    training: {},
    memory: {
      mixed_precision: 'no',
      gradient_checkpointing: false,
      cache_latents: false,
      persistent_data_loader_workers: false,
      max_data_loader_n_workers: 8,
      attention: 'none',
    },
    loss: {},
    sampling: { sampler: 'ddim' },
    saving: { save_precision: 'float' },
    logging: {},
    extra_args: {},
  }
  const ctx: Context = { type, warnings, extras }

  for (const [key, value] of Object.entries(flat)) {
    if (SPECIAL.has(key)) continue
    const reader = READERS[key]
    if (reader && reader(typeof value === 'bigint' ? Number(value) : value, c, ctx)) {
      mark(key, key === 'optimizer_type' && extras.some((x) => x.name === key) ? 'offered' : 'mapped')
      continue
    }
    if (optionInfo(script, key)) {
      if (value === false) {
        mark(key, 'empty')
        continue
      }
      extras.push(extraCandidate(key, tomlValue(value), key))
      mark(key, 'offered', 'kohya_offered')
    } else mark(key, 'unmapped', 'kohya_no_setting', { value: JSON.stringify(tomlValue(value)) })
  }
  if (flat.network_module !== undefined) mark('network_module', 'mapped')
  if (flat.network_args !== undefined) {
    const left: string[] = []
    for (const [k, v] of Object.entries(networkArgs)) if (!NETWORK_ARGS[k]?.(c, v)) left.push(`${k}=${v}`)
    if (left.length) mark('network_args', 'unmapped', 'kohya_no_setting', { value: left.join(' ') })
    else mark('network_args', 'mapped')
  }

  if (files.dataset !== undefined) readDataset(files.dataset, c, ctx, report)
  else if (flat.dataset_config !== undefined)
    warnings.push(note('toml_dataset_missing', { path: String(flat.dataset_config) }))
  if (flat.dataset_config !== undefined) mark('dataset_config', 'mapped')

  if (flat.sample_prompts !== undefined) {
    if (files.prompts !== undefined) {
      const prompts: SamplePrompt[] = parsePromptText(files.prompts)
      c.sampling.prompts = prompts
      c.sampling.enabled = prompts.length > 0
      mark('sample_prompts', 'mapped')
    } else {
      warnings.push(note('toml_prompts_missing', { path: String(flat.sample_prompts) }))
      mark('sample_prompts', 'unmapped', 'toml_prompts_missing', { path: String(flat.sample_prompts) })
    }
  }

  // TensorBoard is what a logging folder means when log_with is not given.
  if (c.logging.log_with === 'tensorboard' && c.logging.logging_dir) delete c.logging.log_with

  // Values out of the schema's range go back to their defaults, each named.
  const { config, dropped } = repairConfig(c)
  for (const path of dropped) {
    const key = `field:${path}`
    mark(key, 'unmapped', 'toml_not_imported', { why: path })
  }
  const keys = [...report.values()].sort((a, b) => a.key.localeCompare(b.key))
  return {
    config,
    keys,
    unmapped: keys.filter((k) => k.status === 'unmapped').map((k) => k.key),
    warnings,
    extras,
  }
}

function tomlValue(v: unknown): string | number | boolean | string[] {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  if (typeof v === 'bigint') return Number(v)
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : String(x)))
  return JSON.stringify(v)
}
