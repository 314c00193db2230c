import { extraCandidate, type ExtraCandidate } from '../config/extras'
import {
  TrainingConfig,
  type SamplePrompt,
  type TrainingConfigInput,
  type TrainingType,
} from '../config/schema'
import { optionInfo } from '../sdscripts/args'
import { note, NoteError, type NoteCode, type Params } from '../sdscripts/messages'
import { optimizerKind } from '../sdscripts/optimizers'

/**
 * Import of bmaltais/kohya_ss GUI config files: one flat JSON object of GUI fields (LoRA_type,
 * network_dim, optimizer, max_resolution, …), numbers sometimes stored as strings ("0.0001", "1.0").
 * Every key of the file is accounted for in the report: mapped, empty (no value to carry), ignored
 * (a GUI-only setting, with the reason) or unmapped (a value we could not carry over).
 */

/** `offered`: an sd-scripts option we have no field for, offered as an extra option (see `extras`). */
export type KeyStatus = 'mapped' | 'empty' | 'ignored' | 'unmapped' | 'offered'

export interface KeyReport {
  key: string
  status: KeyStatus
  /** English; `code` and `params` name the text in NOTE_MESSAGES (core/sdscripts/messages.ts). */
  note?: string
  code?: string
  params?: Params
}

/** A message about the import as a whole (code, parameters and the English text). */
export interface ImportNote {
  code: string
  params: Params
  message: string
}

export interface KohyaImport {
  config: TrainingConfig
  keys: KeyReport[]
  /** Keys whose value could not be carried over (subset of `keys`). */
  unmapped: string[]
  warnings: ImportNote[]
  /**
   * Options that are not our mapped settings (additional parameters, sd-scripts options without a
   * field, an optimizer class path): none is in `config` until accepted (core/config/extras.ts).
   */
  extras: ExtraCandidate[]
  /**
   * kohya_ss points at parent folders with `<repeats>_<name>` sub-folders; listing them needs the file
   * system, so the service turns these into dataset subsets (core has none yet for them).
   */
  folders: { train_data_dir?: string; reg_data_dir?: string }
  /** Per-subset settings to apply to every subset made from those folders. */
  subsetDefaults: Record<string, unknown>
}

type Json = Record<string, unknown>

const LORA_TYPES: Record<string, TrainingType> = {
  Standard: 'lora',
  'Kohya LoCon': 'locon',
  'LyCORIS/LoCon': 'locon',
  'LyCORIS/LoHa': 'loha',
  'LyCORIS/LoKr': 'lokr',
}

/** GUI-only keys: never passed to sd-scripts by kohya_ss, or secrets we refuse to copy. */
const GUI_ONLY: Record<string, NoteCode> = {
  model_list: 'kohya_gui_model_picker',
  sdxl: 'kohya_sdxl_implied',
  sdxl_checkbox: 'kohya_sdxl_implied',
  use_wandb: 'kohya_wandb_unsupported',
  wandb_api_key: 'kohya_secret',
  wandb_run_name: 'kohya_wandb_unsupported',
  huggingface_token: 'kohya_secret',
  log_with: 'kohya_tensorboard_when_dir',
  unit: 'kohya_gui_field',
  train_on_input: 'kohya_ia3_only',
  lora_network_weights: 'kohya_weights_unsupported',
  dim_from_weights: 'kohya_weights_unsupported',
  resume: 'kohya_resume_at_start',
  no_token_padding: 'kohya_sd1_dreambooth',
  stop_text_encoder_training: 'kohya_not_sdxl_option',
  stop_text_encoder_training_pct: 'kohya_not_sdxl_option',
  create_buckets: 'kohya_finetune_metadata',
  create_caption: 'kohya_finetune_metadata',
  use_latent_files: 'kohya_finetune_metadata',
  full_path: 'kohya_finetune_metadata',
  batch_size: 'kohya_finetune_batch',
  caption_metadata_filename: 'kohya_finetune_metadata',
  latent_metadata_filename: 'kohya_finetune_metadata',
  image_folder: 'kohya_finetune_metadata',
  save_as: 'kohya_gui_field',
  file_path: 'kohya_gui_field',
  headless: 'kohya_gui_field',
  print_only: 'kohya_gui_field',
}

function isEmptyValue(v: unknown): boolean {
  return (
    v === '' ||
    v === null ||
    v === undefined ||
    v === false ||
    v === 0 ||
    v === '0' ||
    (Array.isArray(v) && !v.length)
  )
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string' && v.trim() !== '') {
    const x = Number(v.trim())
    return Number.isFinite(x) ? x : undefined
  }
  return undefined
}

function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v
  if (v === 'true' || v === 'True') return true
  if (v === 'false' || v === 'False' || v === '') return false
  return undefined
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined
}

/** Parses kohya_ss's inline sample prompt text (one prompt per line, sd-scripts' --w/--h/... options). */
export function parsePromptText(text: string): SamplePrompt[] {
  const out: SamplePrompt[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const parts = line.split(/\s+--(?=[a-z]\s)/)
    const p: SamplePrompt = { prompt: (parts[0] ?? '').trim() }
    for (const part of parts.slice(1)) {
      const key = part[0]
      const value = part.slice(2).trim()
      const n = Number(value)
      if (key === 'n') p.negative = value
      else if (key === 'w' && Number.isInteger(n)) p.width = n
      else if (key === 'h' && Number.isInteger(n)) p.height = n
      else if (key === 's' && Number.isInteger(n)) p.steps = n
      else if (key === 'd' && Number.isInteger(n)) p.seed = n
      else if (key === 'l' && Number.isFinite(n)) p.cfg_scale = n
    }
    if (p.prompt) out.push(p)
  }
  return out
}

/** Splits "--a 1 --b --c x y" (kohya_ss additional_parameters) into option → value. */
export function parseAdditionalParameters(text: string): Record<string, string | boolean | string[]> {
  const out: Record<string, string | boolean | string[]> = {}
  const tokens = text.match(/"[^"]*"|'[^']*'|\S+/g) ?? []
  let current: string | null = null
  let values: string[] = []
  const flush = () => {
    if (current)
      out[current] = values.length === 0 ? true : values.length === 1 ? (values[0] as string) : values
  }
  for (const t of tokens) {
    if (t.startsWith('--')) {
      flush()
      const [name, inline] = t.slice(2).split(/=(.*)/s)
      current = name ?? null
      values = inline !== undefined ? [inline] : []
    } else values.push(t.replace(/^["']|["']$/g, ''))
  }
  flush()
  return out
}

/** A kohya_ss JSON value as an extra option value (strings, numbers, flags, lists of strings). */
function extraValue(v: unknown): string | number | boolean | string[] {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
  return JSON.stringify(v)
}

function detectType(j: Json, warnings: ImportNote[]): TrainingType {
  const lt = str(j.LoRA_type)
  if (lt !== undefined) {
    const t = LORA_TYPES[lt]
    if (t) {
      if (lt === 'LyCORIS/LoCon') warnings.push(note('kohya_lycoris_locon'))
      return t
    }
    throw new KohyaImportError('kohya_lora_type', { type: lt, supported: Object.keys(LORA_TYPES).join(', ') })
  }
  // No LoRA_type: the Dreambooth or Finetune tab (both run sdxl_train.py for SDXL), unless it has a network.
  if (j.network_dim !== undefined) return 'lora'
  return 'dreambooth'
}

/** Why a file cannot be imported at all; `code`/`params` name the text in NOTE_MESSAGES. */
export class KohyaImportError extends NoteError {}

export function importKohya(input: unknown): KohyaImport {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new KohyaImportError('kohya_not_object')
  const j = input as Json
  const warnings: ImportNote[] = []
  const extras: ExtraCandidate[] = []
  const type = detectType(j, warnings)
  const report = new Map<string, KeyReport>()
  const mark = (key: string, status: KeyStatus, code?: NoteCode, params: Params = {}) => {
    if (key in j)
      report.set(
        key,
        code ? { key, status, note: note(code, params).message, code, params } : { key, status },
      )
  }
  const used = (...keys: string[]) => keys.forEach((k) => mark(k, 'mapped'))

  const c: TrainingConfigInput &
    Required<
      Pick<
        TrainingConfigInput,
        | 'network'
        | 'optimizer'
        | 'training'
        | 'memory'
        | 'loss'
        | 'sampling'
        | 'saving'
        | 'dataset'
        | 'launch'
      >
    > & { extra_args: Record<string, string | number | boolean | string[]> } = {
    type,
    dataset: {},
    network: {},
    optimizer: {},
    training: {},
    memory: {},
    loss: {},
    sampling: {},
    saving: {},
    launch: {},
    extra_args: {},
  }
  used('LoRA_type')

  if (j.sdxl === false || j.sdxl_checkbox === false || bool(j.v2) || bool(j.v_parameterization))
    warnings.push(note('kohya_not_sdxl'))
  mark('v2', bool(j.v2) ? 'unmapped' : 'empty', 'kohya_sd2_setting')
  mark('v_parameterization', bool(j.v_parameterization) ? 'unmapped' : 'empty', 'kohya_sd2_setting')

  const s = (k: string) => str(j[k])
  const n = (k: string) => num(j[k])
  const b = (k: string) => bool(j[k])
  // Each takes key `k` when kohya_ss set it, hands the value to `apply` and marks the key mapped;
  // they differ only in what counts as "set" (undefined: not set, key left unmarked).
  const take = <T>(k: string, v: T | undefined, apply: (v: T) => void) => {
    if (v !== undefined) {
      apply(v)
      used(k)
    }
  }
  const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v))
  // Text: an empty field means "not set".
  const text = (k: string, apply: (v: string) => void) => take(k, s(k) || undefined, apply)
  // Checkbox: false is a choice too, only an absent key is "not set".
  const flag = (k: string, apply: (v: boolean) => void) => take(k, b(k), apply)
  // Numbers: absent means "not set"; 0 is a value (seed 0, no workers...). Rounded where sd-scripts
  // takes a whole number, since the GUI's number fields may hold floats.
  const integer = (k: string, apply: (v: number) => void) => take(k, round(n(k)), apply)
  const decimal = (k: string, apply: (v: number) => void) => take(k, n(k), apply)
  // Rates and strengths where 0 means "off" in kohya_ss: only a positive number is taken.
  const positive = (k: string, apply: (v: number) => void) => {
    const v = n(k)
    take(k, v !== undefined && v > 0 ? v : undefined, apply)
  }
  // Counts (every n epochs, processes...): 0 or absent means "not set" in kohya_ss, so only a
  // non-zero number is taken, rounded as above.
  const count = (k: string, apply: (v: number) => void) => take(k, round(n(k) || undefined), apply)

  text('pretrained_model_name_or_path', (v) => (c.base_model = v))
  text('vae', (v) => (c.vae = v))

  // Dataset
  const folders: KohyaImport['folders'] = {}
  text('train_data_dir', (v) => (folders.train_data_dir = v))
  text('reg_data_dir', (v) => (folders.reg_data_dir = v))
  const res = s('max_resolution')
  if (res) {
    const m = /^\s*(\d+)\s*(?:,\s*(\d+)\s*)?$/.exec(res)
    if (m) {
      c.dataset.resolution = { width: Number(m[1]), height: Number(m[2] ?? m[1]) }
      used('max_resolution')
    } else mark('max_resolution', 'unmapped', 'kohya_bad_resolution', { value: res })
  }
  flag('enable_bucket', (v) => (c.dataset.enable_bucket = v))
  for (const k of ['min_bucket_reso', 'max_bucket_reso', 'bucket_reso_steps'] as const)
    integer(k, (v) => (c.dataset[k] = v))
  flag('bucket_no_upscale', (v) => (c.dataset.bucket_no_upscale = v))
  const subsetDefaults: Record<string, unknown> = {}
  const ext = s('caption_extension')
  if (ext !== undefined) {
    // An empty extension means sd-scripts' default; ".none-use-foldername" matches no file, so the
    // folder's class tokens become the caption, which is what it asks for.
    subsetDefaults.caption_extension = ext === '' ? '.caption' : ext
    used('caption_extension')
  }
  for (const k of ['keep_tokens', 'caption_dropout_every_n_epochs'] as const)
    integer(k, (v) => (subsetDefaults[k] = v))
  for (const k of ['caption_dropout_rate', 'caption_tag_dropout_rate', 'token_warmup_step'] as const)
    decimal(k, (v) => (subsetDefaults[k] = v))
  for (const k of ['shuffle_caption', 'flip_aug'] as const) flag(k, (v) => (subsetDefaults[k] = v))
  for (const k of ['color_aug', 'random_crop'] as const) {
    if (b(k)) {
      c.extra_args[k] = true
      mark(k, 'mapped', 'kohya_kept_extra')
    }
  }

  // Network
  if (type !== 'dreambooth') {
    integer('network_dim', (v) => (c.network.dim = v))
    decimal('network_alpha', (v) => (c.network.alpha = v))
    const cd = n('conv_dim')
    if (cd !== undefined && cd > 0) {
      c.network.conv_dim = Math.round(cd)
      used('conv_dim')
    }
    const ca = n('conv_alpha')
    if (ca !== undefined && cd !== undefined && cd > 0) {
      c.network.conv_alpha = ca
      used('conv_alpha')
    }
    if (type === 'lokr' && n('factor') !== undefined) {
      c.network.factor = Math.round(n('factor')!)
      used('factor')
    }
    if (type === 'loha' || type === 'lokr') {
      flag('use_cp', (v) => (c.network.use_tucker = v))
      flag('use_tucker', (v) => (c.network.use_tucker = v))
      flag('use_scalar', (v) => (c.network.use_scalar = v))
      if (type === 'lokr') flag('decompose_both', (v) => (c.network.decompose_both = v))
    }
    for (const [k, f] of [
      ['network_dropout', 'dropout'],
      ['rank_dropout', 'rank_dropout'],
      ['module_dropout', 'module_dropout'],
    ] as const)
      positive(k, (v) => (c.network[f] = v))
    if (b('network_train_unet_only')) {
      c.network.train_unet_only = true
      used('network_train_unet_only')
    }
    const sw = n('scale_weight_norms')
    if (sw !== undefined && sw > 0) {
      c.extra_args.scale_weight_norms = sw
      mark('scale_weight_norms', 'mapped', 'kohya_kept_extra')
    }
    decimal('prior_loss_weight', (v) => (c.loss.prior_loss_weight = v))
  } else {
    flag('train_text_encoder', (v) => (c.optimizer.train_text_encoder = v))
    const lr1 = n('learning_rate_te1') ?? n('learning_rate_te')
    if (lr1 !== undefined && lr1 > 0) {
      c.optimizer.text_encoder_lr = lr1
      used('learning_rate_te1', 'learning_rate_te')
    }
  }

  // Optimizer
  const opt = s('optimizer')
  if (opt && optimizerKind(opt) === 'class_path') {
    // A dotted path makes sd-scripts import that module: only with the user's consent.
    c.optimizer.type = 'AdamW'
    extras.push({
      ...extraCandidate('optimizer_type', opt, 'optimizer'),
      target: { path: 'optimizer.type', value: opt },
    })
    warnings.push(note('kohya_optimizer_class', { name: opt }))
    mark('optimizer', 'offered', 'kohya_offered')
  } else if (opt) {
    c.optimizer.type = opt
    used('optimizer')
  } else if (b('use_8bit_adam')) {
    c.optimizer.type = 'AdamW8bit'
    used('use_8bit_adam')
  } else c.optimizer.type = 'AdamW' // sd-scripts' default when no optimizer is named
  if (!b('use_8bit_adam')) mark('use_8bit_adam', 'empty')
  const oargs = s('optimizer_args')
  if (oargs !== undefined) {
    c.optimizer.args = oargs.split(/\s+/).filter(Boolean)
    used('optimizer_args')
  }
  positive('learning_rate', (v) => (c.optimizer.learning_rate = v))
  if (type !== 'dreambooth') {
    const ulr = n('unet_lr')
    positive('unet_lr', (v) => (c.optimizer.unet_lr = v))
    const tlr = n('text_encoder_lr')
    if (tlr !== undefined) {
      used('text_encoder_lr')
      // kohya_ss trains the U-Net only when the text encoder rate is 0 and the U-Net rate is not.
      if (tlr === 0 && (ulr ?? 0) > 0) c.network.train_unet_only = true
      else if (tlr > 0) c.optimizer.text_encoder_lr = tlr
    }
  }
  const sched = s('lr_scheduler')
  if (sched) {
    c.optimizer.lr_scheduler = sched as never
    used('lr_scheduler')
  }
  const warmPct = n('lr_warmup')
  if (warmPct !== undefined) {
    // kohya_ss stores warmup as a percentage of all steps; sd-scripts takes a ratio below 1.
    if (warmPct > 0) c.optimizer.lr_warmup_steps = warmPct / 100
    used('lr_warmup')
  }
  positive('lr_warmup_steps', (v) => (c.optimizer.lr_warmup_steps = v))
  const cycles = n('lr_scheduler_num_cycles')
  if (cycles !== undefined && cycles >= 1) {
    c.optimizer.lr_scheduler_num_cycles = Math.round(cycles)
    used('lr_scheduler_num_cycles')
  }
  decimal('max_grad_norm', (v) => (c.optimizer.max_grad_norm = v))

  // Length and batch
  const epochs = n('max_train_epochs') || n('epoch')
  if (epochs) {
    c.training.max_train_epochs = Math.round(epochs)
    used('max_train_epochs', 'epoch')
  }
  const steps = n('max_train_steps')
  if (steps && !epochs) {
    c.training.max_train_steps = Math.round(steps)
    used('max_train_steps')
  } else if (steps) mark('max_train_steps', 'ignored', 'kohya_epochs_win')
  integer('train_batch_size', (v) => (c.training.batch_size = v))
  const ga = n('gradient_accumulation_steps')
  if (ga !== undefined) {
    c.training.gradient_accumulation_steps = Math.max(1, Math.round(ga))
    used('gradient_accumulation_steps')
  }
  integer('seed', (v) => (c.training.seed = v))
  const mtl = n('max_token_length')
  if (mtl === 75 || mtl === 150 || mtl === 225) {
    c.training.max_token_length = mtl
    used('max_token_length')
  }

  // Memory and speed
  const mp = s('mixed_precision')
  if (mp === 'no' || mp === 'fp16' || mp === 'bf16') {
    c.memory.mixed_precision = mp
    used('mixed_precision')
  }
  for (const [k, f] of [
    ['full_bf16', 'full_bf16'],
    ['full_fp16', 'full_fp16'],
    ['fp8_base', 'fp8_base'],
    ['gradient_checkpointing', 'gradient_checkpointing'],
    ['cache_latents', 'cache_latents'],
    ['cache_latents_to_disk', 'cache_latents_to_disk'],
    ['sdxl_cache_text_encoder_outputs', 'cache_text_encoder_outputs'],
    ['cache_text_encoder_outputs', 'cache_text_encoder_outputs'],
    ['cache_text_encoder_outputs_to_disk', 'cache_text_encoder_outputs_to_disk'],
    ['fused_backward_pass', 'fused_backward_pass'],
    ['persistent_data_loader_workers', 'persistent_data_loader_workers'],
    ['sdxl_no_half_vae', 'no_half_vae'],
    ['no_half_vae', 'no_half_vae'],
    ['lowram', 'lowram'],
  ] as const) {
    const v = b(k)
    if (v !== undefined) {
      c.memory[f] = v
      used(k)
    }
  }
  const xf = j.xformers
  if (xf !== undefined) {
    used('xformers')
    if (xf === true || xf === 'xformers') c.memory.attention = 'xformers'
    else if (xf === 'sdpa' || b('sdpa')) c.memory.attention = 'sdpa'
    else c.memory.attention = 'none'
  }
  if (b('sdpa')) {
    c.memory.attention = 'sdpa'
    used('sdpa')
  }
  if (b('mem_eff_attn')) {
    c.extra_args.mem_eff_attn = true
    mark('mem_eff_attn', 'mapped', 'kohya_kept_extra')
  }
  integer('max_data_loader_n_workers', (v) => (c.memory.max_data_loader_n_workers = v))

  // Loss and noise
  positive('min_snr_gamma', (v) => (c.loss.min_snr_gamma = v))
  const noiseType = s('noise_offset_type') ?? 'Original'
  if (noiseType === 'Multires') {
    const it = n('multires_noise_iterations')
    if (it) {
      c.loss.multires_noise_iterations = Math.round(it)
      c.loss.multires_noise_discount = n('multires_noise_discount') ?? 0.3
    }
    used('noise_offset_type', 'multires_noise_iterations', 'multires_noise_discount')
    mark('noise_offset', 'ignored', 'kohya_multires_only')
  } else {
    const no = n('noise_offset')
    if (no !== undefined && no > 0) c.loss.noise_offset = no
    used('noise_offset_type', 'noise_offset')
    mark(
      'multires_noise_iterations',
      n('multires_noise_iterations') ? 'ignored' : 'empty',
      'kohya_original_only',
    )
    mark('multires_noise_discount', 'ignored', 'kohya_original_only')
  }
  const lt = s('loss_type')
  if (lt === 'l2' || lt === 'l1' || lt === 'huber' || lt === 'smooth_l1') {
    c.loss.loss_type = lt
    used('loss_type')
  }
  decimal('huber_c', (v) => (c.loss.huber_c = v))
  for (const k of ['adaptive_noise_scale', 'v_pred_like_loss', 'ip_noise_gamma'] as const) {
    const v = n(k)
    if (v) {
      c.extra_args[k] = v
      mark(k, 'mapped', 'kohya_kept_extra')
    }
  }
  const minT = n('min_timestep')
  const maxT = n('max_timestep')
  if (minT !== undefined && minT > 0) {
    c.extra_args.min_timestep = Math.round(minT)
    mark('min_timestep', 'mapped', 'kohya_kept_extra')
  }
  if (maxT !== undefined && maxT < 1000) {
    c.extra_args.max_timestep = Math.round(maxT)
    mark('max_timestep', 'mapped', 'kohya_kept_extra')
  }
  if (b('weighted_captions')) {
    c.extra_args.weighted_captions = true
    mark('weighted_captions', 'mapped', 'kohya_kept_extra')
  }
  if (b('scale_v_pred_loss_like_noise_pred'))
    mark('scale_v_pred_loss_like_noise_pred', 'unmapped', 'kohya_vpred_only')
  const vbs = n('vae_batch_size')
  if (vbs) {
    c.extra_args.vae_batch_size = Math.round(vbs)
    mark('vae_batch_size', 'mapped', 'kohya_kept_extra')
  }
  const clip = n('clip_skip')
  if (clip !== undefined && clip > 1) mark('clip_skip', 'unmapped', 'kohya_clip_skip')
  else mark('clip_skip', 'empty', 'kohya_clip_skip_default')
  if (maxT !== undefined && maxT >= 1000)
    mark('max_timestep', 'empty', 'kohya_default_value', { value: 1000 })
  if (type !== 'lokr') mark('factor', 'empty', 'kohya_lokr_only')
  const repeats = n('dataset_repeats')
  if (repeats !== undefined && repeats <= 1)
    mark('dataset_repeats', 'empty', 'kohya_default_value', { value: 1 })

  // Sampling
  const prompts = s('sample_prompts')
  if (prompts) {
    c.sampling.prompts = parsePromptText(prompts)
    used('sample_prompts')
  }
  const sEp = n('sample_every_n_epochs')
  const sSt = n('sample_every_n_steps')
  if (sEp) {
    c.sampling.every_n_epochs = Math.round(sEp)
    used('sample_every_n_epochs')
  }
  if (sSt) {
    c.sampling.every_n_steps = Math.round(sSt)
    used('sample_every_n_steps')
  }
  c.sampling.enabled = Boolean(c.sampling.prompts?.length && (sEp || sSt))
  const sampler = s('sample_sampler')
  if (sampler) {
    c.sampling.sampler = sampler as never
    used('sample_sampler')
  }

  // Saving and logging
  for (const k of ['output_dir', 'output_name'] as const) text(k, (v) => (c.saving[k] = v))
  count('save_every_n_epochs', (v) => (c.saving.save_every_n_epochs = v))
  count('save_every_n_steps', (v) => (c.saving.save_every_n_steps = v))
  const sp = s('save_precision')
  if (sp === 'float' || sp === 'fp16' || sp === 'bf16') {
    c.saving.save_precision = sp
    used('save_precision')
  }
  const sma = s('save_model_as')
  if (
    sma === 'safetensors' ||
    sma === 'ckpt' ||
    sma === 'pt' ||
    sma === 'diffusers' ||
    sma === 'diffusers_safetensors'
  ) {
    c.saving.save_model_as = sma
    used('save_model_as')
  }
  flag('save_state', (v) => (c.saving.save_state = v))
  text('training_comment', (v) => (c.saving.comment = v))
  if (s('logging_dir')) {
    c.logging = { logging_dir: s('logging_dir') }
    used('logging_dir')
  }
  for (const k of [
    'save_last_n_steps',
    'save_last_n_steps_state',
    'save_last_n_epochs',
    'save_last_n_epochs_state',
  ] as const) {
    const v = n(k)
    if (v) {
      c.extra_args[k] = Math.round(v)
      mark(k, 'mapped', 'kohya_kept_extra')
    }
  }

  // Launch
  count('num_cpu_threads_per_process', (v) => (c.launch.num_cpu_threads_per_process = v))
  count('num_processes', (v) => (c.launch.num_processes = v))
  text('gpu_ids', (v) => (c.launch.gpu_ids = v))

  // Expert arguments typed into kohya_ss's "additional parameters" box: each one is offered, none is
  // taken without the user's consent (some write files or import code).
  const extra = s('additional_parameters')
  if (extra !== undefined) {
    for (const [name, value] of Object.entries(parseAdditionalParameters(extra)))
      extras.push(extraCandidate(name, value, 'additional_parameters'))
    if (extras.some((x) => x.source === 'additional_parameters'))
      mark('additional_parameters', 'offered', 'kohya_offered')
    else used('additional_parameters')
  }

  // Account for every remaining key. One that is an sd-scripts option of this script is offered as an
  // extra option (not taken); the rest are reported.
  const script = type === 'dreambooth' ? 'sdxl_train' : 'sdxl_train_network'
  for (const key of Object.keys(j)) {
    if (report.has(key)) continue
    const gui = GUI_ONLY[key]
    if (gui) mark(key, 'ignored', gui)
    else if (isEmptyValue(j[key])) report.set(key, { key, status: 'empty' })
    else if (optionInfo(script, key)) {
      extras.push(extraCandidate(key, extraValue(j[key]), key))
      mark(key, 'offered', 'kohya_offered')
    } else mark(key, 'unmapped', 'kohya_no_setting', { value: JSON.stringify(j[key]) })
  }

  const parsed = TrainingConfig.safeParse(c)
  if (!parsed.success)
    throw new KohyaImportError('kohya_out_of_range', {
      fields: parsed.error.issues.map((i) => i.path.join('.')).join(', '),
    })
  const keys = [...report.values()].sort((a, b) => a.key.localeCompare(b.key))
  return {
    config: parsed.data,
    keys,
    unmapped: keys.filter((k) => k.status === 'unmapped').map((k) => k.key),
    warnings,
    extras,
    folders,
    subsetDefaults,
  }
}
