import { stringify } from 'smol-toml'
import { isNetworkType, type ExtraArgValue, type SamplePrompt, type TrainingConfig } from '../config/schema'
import { optionInfo, SCRIPT_FILE, type ScriptKey } from './args'
import { displayCommand, joinPath, type ShellFlavor } from './quote'

/**
 * Pure, deterministic mapping of a TrainingConfig to what sd-scripts v0.10.1 reads:
 * a --config_file TOML (keys are argparse dest names, values already in their final types, because
 * TOML values bypass argparse conversion), a --dataset_config TOML (only schema keys, at the right
 * level), a sample-prompts file, and the accelerate launch command line.
 */

export type TomlScalar = string | number | boolean
export type TomlValue = TomlScalar | TomlScalar[]
export type TomlTable = Record<string, TomlValue>

export interface RenderOptions {
  /** Folder the files are written to; the command refers to them there. */
  filesDir: string
  /** The sd-scripts checkout; the script path is joined to it. */
  sdScriptsDir: string
  /** How the command line is quoted and paths joined. */
  flavor: ShellFlavor
  /** The accelerate executable (e.g. the venv's). */
  accelerate?: string
}

export interface RenderedFiles {
  'config.toml': string
  'dataset.toml': string
  'prompts.txt'?: string
}

export interface Rendered {
  scriptKey: ScriptKey
  script: string
  /** The --config_file content as an object (what config.toml holds). */
  configArgs: TomlTable
  /** The --dataset_config content as an object. */
  datasetConfig: DatasetToml
  files: RenderedFiles
  /** Arguments after `accelerate launch` and before the script. */
  accelerateArgs: string[]
  /** The whole command, one element per argument (spawn this; never a shell string). */
  argv: string[]
  /** The same, quoted for the flavor's shell, to show or paste. */
  display: string
  /** Extra arguments that were left out because the script does not know them (validation reports them). */
  skippedExtraArgs: string[]
}

export interface DatasetToml {
  general: Record<string, TomlValue>
  datasets: Array<Record<string, TomlValue | Array<Record<string, TomlValue>>>>
}

export const CONFIG_FILE = 'config.toml'
export const DATASET_FILE = 'dataset.toml'
export const PROMPTS_FILE = 'prompts.txt'

export function scriptFor(config: Pick<TrainingConfig, 'type'>): ScriptKey {
  return isNetworkType(config.type) ? 'sdxl_train_network' : 'sdxl_train'
}

/**
 * LoCon is built with sd-scripts' own networks.lora plus conv_dim/conv_alpha: it needs no extra
 * package (lycoris-lora is not in sd-scripts' requirements), and the file it saves is the plain kohya
 * LoRA format every UI loads. LoHa and LoKr exist only in LyCORIS, so they use lycoris.kohya.
 */
export function networkModule(type: TrainingConfig['type']): string | null {
  if (type === 'lora' || type === 'locon') return 'networks.lora'
  if (type === 'loha' || type === 'lokr') return 'lycoris.kohya'
  return null
}

function fmt(n: number): string {
  return String(n)
}

export function networkArgs(config: TrainingConfig): string[] {
  const n = config.network
  const out: string[] = []
  const push = (k: string, v: number | boolean | string | undefined) => {
    if (v !== undefined) out.push(`${k}=${typeof v === 'number' ? fmt(v) : String(v)}`)
  }
  switch (config.type) {
    case 'lora':
      break
    case 'locon':
      push('conv_dim', n.conv_dim ?? n.dim)
      push('conv_alpha', n.conv_alpha ?? n.alpha)
      break
    case 'loha':
    case 'lokr':
      push('algo', config.type)
      if (n.preset) push('preset', n.preset)
      // LyCORIS defaults conv_dim to network_dim; writing it keeps the file explicit.
      push('conv_dim', n.conv_dim ?? n.dim)
      push('conv_alpha', n.conv_alpha ?? n.alpha)
      if (config.type === 'lokr') push('factor', n.factor ?? -1)
      if (n.use_tucker !== undefined) push('use_tucker', n.use_tucker)
      if (n.use_scalar !== undefined) push('use_scalar', n.use_scalar)
      if (config.type === 'lokr' && n.decompose_both !== undefined) push('decompose_both', n.decompose_both)
      break
    case 'dreambooth':
      return []
  }
  if (n.rank_dropout) push('rank_dropout', n.rank_dropout)
  if (n.module_dropout) push('module_dropout', n.module_dropout)
  return out
}

/** One line of sd-scripts' prompt format: prompt --n negative --w --h --s --d --l. */
export function promptLine(p: SamplePrompt): string {
  const clean = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim()
  const parts = [clean(p.prompt)]
  if (p.negative) parts.push(`--n ${clean(p.negative)}`)
  if (p.width !== undefined) parts.push(`--w ${p.width}`)
  if (p.height !== undefined) parts.push(`--h ${p.height}`)
  if (p.steps !== undefined) parts.push(`--s ${p.steps}`)
  if (p.seed !== undefined) parts.push(`--d ${p.seed}`)
  if (p.cfg_scale !== undefined) parts.push(`--l ${fmt(p.cfg_scale)}`)
  return parts.join(' ')
}

export function samplingActive(config: TrainingConfig): boolean {
  return config.sampling.enabled && config.sampling.prompts.length > 0
}

export function renderPrompts(config: TrainingConfig): string | null {
  if (!samplingActive(config)) return null
  return `${config.sampling.prompts.map(promptLine).join('\n')}\n`
}

export function buildDatasetToml(config: TrainingConfig): DatasetToml {
  const d = config.dataset
  const dataset: Record<string, TomlValue | Array<Record<string, TomlValue>>> = {
    resolution: [d.resolution.width, d.resolution.height],
    batch_size: config.training.batch_size,
    enable_bucket: d.enable_bucket,
  }
  if (d.enable_bucket) {
    dataset.min_bucket_reso = d.min_bucket_reso
    dataset.max_bucket_reso = d.max_bucket_reso
    dataset.bucket_reso_steps = d.bucket_reso_steps
    dataset.bucket_no_upscale = d.bucket_no_upscale
  }
  dataset.subsets = d.subsets.map((s) => {
    const sub: Record<string, TomlValue> = {
      image_dir: s.image_dir,
      num_repeats: s.num_repeats,
      caption_extension: s.caption_extension,
    }
    if (s.class_tokens) sub.class_tokens = s.class_tokens
    if (s.is_reg) sub.is_reg = true
    if (s.keep_tokens > 0) sub.keep_tokens = s.keep_tokens
    if (s.shuffle_caption) sub.shuffle_caption = true
    if (s.flip_aug) sub.flip_aug = true
    if (s.caption_dropout_rate > 0) sub.caption_dropout_rate = s.caption_dropout_rate
    if (s.caption_tag_dropout_rate > 0) sub.caption_tag_dropout_rate = s.caption_tag_dropout_rate
    if (s.caption_dropout_every_n_epochs > 0)
      sub.caption_dropout_every_n_epochs = s.caption_dropout_every_n_epochs
    if (s.token_warmup_step > 0) sub.token_warmup_step = s.token_warmup_step
    return sub
  })
  return { general: {}, datasets: [dataset] }
}

/** Converts a raw extra value to the type the option needs in TOML; null when it cannot. */
export function coerceExtraArg(script: ScriptKey, name: string, value: ExtraArgValue): TomlValue | null {
  const info = optionInfo(script, name)
  if (!info) return null
  const num = (v: unknown): number | null => {
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
    return Number.isFinite(x) ? x : null
  }
  switch (info.kind) {
    case 'flag':
      if (typeof value === 'boolean') return value
      if (value === 'true' || value === '') return true
      if (value === 'false') return false
      return null
    case 'int': {
      const x = num(value)
      return x !== null && Number.isInteger(x) ? x : null
    }
    case 'float':
    case 'int_or_float':
      return num(value)
    case 'str':
      return typeof value === 'string' ? value : Array.isArray(value) ? null : String(value)
    case 'str[]':
      return Array.isArray(value)
        ? value
        : typeof value === 'string'
          ? value.split(/\s+/).filter(Boolean)
          : null
    case 'float[]': {
      const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [value]
      const nums = items.filter((v) => v !== '').map(num)
      return nums.every((x): x is number => x !== null) ? nums : null
    }
  }
}

export function buildConfigArgs(
  config: TrainingConfig,
  paths: { datasetConfig?: string; samplePrompts?: string | null } = {},
): { args: TomlTable; skipped: string[] } {
  const script = scriptFor(config)
  const net = isNetworkType(config.type)
  const a: TomlTable = {}
  const set = (k: string, v: TomlValue | undefined | null) => {
    if (v !== undefined && v !== null) a[k] = v
  }
  const flag = (k: string, v: boolean) => {
    if (v) a[k] = true
  }
  const {
    dataset: d,
    network: n,
    optimizer: o,
    training: t,
    memory: m,
    loss: l,
    sampling: s,
    saving: sv,
  } = config

  set('pretrained_model_name_or_path', config.base_model)
  set('vae', config.vae || undefined)
  // resolution is a string: sd-scripts splits it on "," and TOML skips argparse's conversion.
  set('resolution', `${d.resolution.width},${d.resolution.height}`)
  set('train_batch_size', t.batch_size)
  if (paths.datasetConfig) set('dataset_config', paths.datasetConfig)
  if (t.max_token_length !== 75) set('max_token_length', t.max_token_length)

  if (net) {
    set('network_module', networkModule(config.type))
    set('network_dim', n.dim)
    set('network_alpha', n.alpha)
    const nargs = networkArgs(config)
    if (nargs.length) set('network_args', nargs)
    if (n.dropout) set('network_dropout', n.dropout)
    flag('network_train_unet_only', n.train_unet_only)
  }

  set('optimizer_type', o.type)
  if (o.args.length) set('optimizer_args', o.args)
  set('learning_rate', o.learning_rate)
  if (net) {
    set('unet_lr', o.unet_lr)
    if (o.text_encoder_lr !== undefined && !n.train_unet_only) set('text_encoder_lr', [o.text_encoder_lr])
  } else {
    flag('train_text_encoder', o.train_text_encoder)
    if (o.train_text_encoder && o.text_encoder_lr !== undefined) {
      set('learning_rate_te1', o.text_encoder_lr)
      set('learning_rate_te2', o.text_encoder_lr)
    }
  }
  set('lr_scheduler', o.lr_scheduler)
  if (o.lr_warmup_steps > 0) set('lr_warmup_steps', o.lr_warmup_steps)
  if (o.lr_scheduler === 'cosine_with_restarts') set('lr_scheduler_num_cycles', o.lr_scheduler_num_cycles)
  set('max_grad_norm', o.max_grad_norm)

  if (t.max_train_epochs !== undefined) set('max_train_epochs', t.max_train_epochs)
  if (t.max_train_steps !== undefined) set('max_train_steps', t.max_train_steps)
  if (t.gradient_accumulation_steps > 1) set('gradient_accumulation_steps', t.gradient_accumulation_steps)
  set('seed', t.seed)

  set('mixed_precision', m.mixed_precision)
  flag('full_bf16', m.full_bf16)
  flag('full_fp16', m.full_fp16)
  flag('fp8_base', m.fp8_base)
  flag('gradient_checkpointing', m.gradient_checkpointing)
  flag('cache_latents', m.cache_latents || m.cache_latents_to_disk)
  flag('cache_latents_to_disk', m.cache_latents_to_disk)
  flag('cache_text_encoder_outputs', m.cache_text_encoder_outputs || m.cache_text_encoder_outputs_to_disk)
  flag('cache_text_encoder_outputs_to_disk', m.cache_text_encoder_outputs_to_disk)
  if (m.attention === 'sdpa') a.sdpa = true
  if (m.attention === 'xformers') a.xformers = true
  flag('fused_backward_pass', m.fused_backward_pass)
  set('max_data_loader_n_workers', m.max_data_loader_n_workers)
  flag('persistent_data_loader_workers', m.persistent_data_loader_workers && m.max_data_loader_n_workers > 0)
  flag('no_half_vae', m.no_half_vae)
  flag('lowram', m.lowram)

  set('min_snr_gamma', l.min_snr_gamma || undefined)
  set('noise_offset', l.noise_offset || undefined)
  if (l.multires_noise_iterations) {
    set('multires_noise_iterations', l.multires_noise_iterations)
    set('multires_noise_discount', l.multires_noise_discount)
  }
  if (l.loss_type !== 'l2') set('loss_type', l.loss_type)
  if (l.loss_type !== 'l2') set('huber_c', l.huber_c)
  if (net) set('prior_loss_weight', l.prior_loss_weight)

  if (paths.samplePrompts) {
    set('sample_prompts', paths.samplePrompts)
    set('sample_sampler', s.sampler)
    set('sample_every_n_steps', s.every_n_steps)
    set('sample_every_n_epochs', s.every_n_epochs)
    flag('sample_at_first', s.sample_at_first)
  }

  set('output_dir', sv.output_dir || undefined)
  set('output_name', sv.output_name)
  set('save_every_n_epochs', sv.save_every_n_epochs)
  set('save_every_n_steps', sv.save_every_n_steps)
  set('save_precision', sv.save_precision)
  set('save_model_as', sv.save_model_as)
  flag('save_state', sv.save_state)
  flag('save_state_on_train_end', sv.save_state_on_train_end)
  if (sv.comment) set(net ? 'training_comment' : 'metadata_description', sv.comment)

  const lg = config.logging
  if (lg.logging_dir) {
    set('logging_dir', lg.logging_dir)
    set('log_with', lg.log_with ?? 'tensorboard')
    set('log_prefix', lg.log_prefix || undefined)
  } else if (lg.log_with === 'wandb') set('log_with', 'wandb')

  // Expert arguments last: they may deliberately override a form value. Unknown ones are skipped here
  // and refused by validation.
  const skipped: string[] = []
  for (const name of Object.keys(config.extra_args).sort()) {
    const value = coerceExtraArg(script, name, config.extra_args[name] as ExtraArgValue)
    if (value === null) skipped.push(name)
    else if (value === false) delete a[name]
    else a[name] = value
  }
  return { args: a, skipped }
}

export function buildAccelerateArgs(config: TrainingConfig): string[] {
  const l = config.launch
  const out = [
    '--num_cpu_threads_per_process',
    String(l.num_cpu_threads_per_process),
    '--num_processes',
    String(l.num_processes),
    '--num_machines',
    '1',
    '--mixed_precision',
    config.memory.mixed_precision,
    '--dynamo_backend',
    'no',
  ]
  if (l.num_processes > 1) out.push('--multi_gpu')
  if (l.gpu_ids) out.push('--gpu_ids', l.gpu_ids)
  return out
}

export function render(config: TrainingConfig, options: RenderOptions): Rendered {
  const scriptKey = scriptFor(config)
  const script = SCRIPT_FILE[scriptKey]
  const configPath = joinPath(options.flavor, options.filesDir, CONFIG_FILE)
  const datasetPath = joinPath(options.flavor, options.filesDir, DATASET_FILE)
  const prompts = renderPrompts(config)
  const promptsPath = prompts ? joinPath(options.flavor, options.filesDir, PROMPTS_FILE) : null
  const { args, skipped } = buildConfigArgs(config, { samplePrompts: promptsPath })
  const datasetConfig = buildDatasetToml(config)
  const accelerateArgs = buildAccelerateArgs(config)
  const argv = [
    options.accelerate ?? 'accelerate',
    'launch',
    ...accelerateArgs,
    joinPath(options.flavor, options.sdScriptsDir, script),
    '--config_file',
    configPath,
    '--dataset_config',
    datasetPath,
  ]
  const files: RenderedFiles = {
    'config.toml': tomlWithHeader(`sd-scripts --config_file for ${script}`, args),
    'dataset.toml': tomlWithHeader('sd-scripts --dataset_config', datasetConfig),
  }
  if (prompts) files['prompts.txt'] = prompts
  return {
    scriptKey,
    script,
    configArgs: args,
    datasetConfig,
    files,
    accelerateArgs,
    argv,
    display: displayCommand(argv, options.flavor),
    skippedExtraArgs: skipped,
  }
}

function tomlWithHeader(title: string, value: object): string {
  // An empty [general] table is legal but noise.
  if ('general' in value && Object.keys((value as DatasetToml).general).length === 0) {
    const { general: _general, ...rest } = value as DatasetToml
    value = rest
  }
  return `# ${title}, written by SDXL Studio (sd-scripts v0.10.1)\n${stringify(value)}\n`
}
