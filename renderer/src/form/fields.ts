import { isNetworkType, type TrainingConfig, type TrainingType } from '../../../core/config/schema'

/*
 * The Train form as data: one entry per config field. The page renders its sections from this list;
 * the search box, the hostile-input browser test and the translation test read the same list.
 * Adding a setting is one entry here plus its label and help text in train.json (en and ru):
 * `fields.<id>.label` and `fields.<id>.help`.
 *
 * Ranges, choices and whether a field may be empty come from the config schema (core/config/leaves.ts),
 * never from here, so the form cannot disagree with the validator.
 */

export const SECTIONS = [
  'model',
  'dataset',
  'network',
  'optimizer',
  'training',
  'loss',
  'memory',
  'samples',
  'saving',
  'logging',
  'launch',
  'advanced',
] as const
export type SectionId = (typeof SECTIONS)[number]

/** Sections open on a fresh page; the rest start folded. */
export const OPEN_SECTIONS: readonly SectionId[] = [
  'model',
  'dataset',
  'network',
  'optimizer',
  'training',
  'saving',
]

export type Unit = 'px' | 'steps' | 'epochs' | 'images' | 'tokens' | 'workers' | 'threads' | 'gpus'

export type Widget =
  | { kind: 'number'; unit?: Unit }
  | { kind: 'text'; placeholder?: string }
  | { kind: 'path'; browse: 'models' | 'folders' }
  | { kind: 'switch' }
  /** Choices from the schema's enum; `labelled`: each choice has a translated label (options.<id>.<value>). */
  | { kind: 'select'; labelled?: boolean }
  | { kind: 'type' }
  | { kind: 'optimizer' }
  /** A list of strings edited one per line (optimizer_args). */
  | { kind: 'lines' }
  | { kind: 'subsets' }
  | { kind: 'prompts' }
  | { kind: 'extraArgs' }
  /** GPUs from nvidia-smi, or typed ids (renderer/src/train/GpuPicker.tsx). */
  | { kind: 'gpus' }

export interface FieldDef {
  /** Dotted path in the config (for list items: in the item, e.g. "num_repeats"). */
  path: string
  /** Translation id: `fields.<id>.label` / `.help`. The path for config fields, "subset.x" / "prompt.x" for items. */
  id: string
  section: SectionId
  widget: Widget
  /**
   * The sd-scripts option(s) it becomes, for the search box and the help popover; "network_args x" is a
   * key of --network_args, "accelerate x" an option of accelerate launch, "dataset x" a dataset.toml key.
   */
  args?: readonly string[]
  /** When the field means something; hidden otherwise (the validator speaks about stray values). */
  applies?: (c: TrainingConfig) => boolean
  /** Changes predicted GPU memory (the gauge reacts). */
  vram?: boolean
  /** Takes a whole row (editors of lists). */
  wide?: boolean
}

type Def = Omit<FieldDef, 'id'> & { id?: string }

const net = (c: TrainingConfig) => isNetworkType(c.type)
const db = (c: TrainingConfig) => c.type === 'dreambooth'
const typeIn =
  (...types: TrainingType[]) =>
  (c: TrainingConfig) =>
    types.includes(c.type)
const buckets = (c: TrainingConfig) => c.dataset.enable_bucket
const sampling = (c: TrainingConfig) => c.sampling.enabled

const num = (unit?: Unit): Widget => (unit ? { kind: 'number', unit } : { kind: 'number' })
const sw: Widget = { kind: 'switch' }
const text: Widget = { kind: 'text' }

function defs(list: Def[]): FieldDef[] {
  return list.map((d) => ({ ...d, id: d.id ?? d.path }))
}

export const FIELDS: readonly FieldDef[] = defs([
  // Model
  { path: 'type', section: 'model', widget: { kind: 'type' }, vram: true, wide: true },
  {
    path: 'base_model',
    section: 'model',
    widget: { kind: 'path', browse: 'models' },
    args: ['pretrained_model_name_or_path'],
    wide: true,
  },
  { path: 'vae', section: 'model', widget: { kind: 'path', browse: 'models' }, args: ['vae'], wide: true },

  // Dataset and buckets
  { path: 'dataset.subsets', section: 'dataset', widget: { kind: 'subsets' }, wide: true },
  {
    path: 'dataset.resolution.width',
    section: 'dataset',
    widget: num('px'),
    args: ['resolution'],
    vram: true,
  },
  {
    path: 'dataset.resolution.height',
    section: 'dataset',
    widget: num('px'),
    args: ['resolution'],
    vram: true,
  },
  { path: 'dataset.enable_bucket', section: 'dataset', widget: sw, args: ['enable_bucket'] },
  {
    path: 'dataset.min_bucket_reso',
    section: 'dataset',
    widget: num('px'),
    args: ['min_bucket_reso'],
    applies: buckets,
  },
  {
    path: 'dataset.max_bucket_reso',
    section: 'dataset',
    widget: num('px'),
    args: ['max_bucket_reso'],
    applies: buckets,
    vram: true,
  },
  {
    path: 'dataset.bucket_reso_steps',
    section: 'dataset',
    widget: num('px'),
    args: ['bucket_reso_steps'],
    applies: buckets,
  },
  {
    path: 'dataset.bucket_no_upscale',
    section: 'dataset',
    widget: sw,
    args: ['bucket_no_upscale'],
    applies: buckets,
  },

  // Network
  { path: 'network.dim', section: 'network', widget: num(), args: ['network_dim'], applies: net, vram: true },
  { path: 'network.alpha', section: 'network', widget: num(), args: ['network_alpha'], applies: net },
  {
    path: 'network.conv_dim',
    section: 'network',
    widget: num(),
    args: ['network_args conv_dim'],
    applies: typeIn('locon', 'loha', 'lokr'),
    vram: true,
  },
  {
    path: 'network.conv_alpha',
    section: 'network',
    widget: num(),
    args: ['network_args conv_alpha'],
    applies: typeIn('locon', 'loha', 'lokr'),
  },
  {
    path: 'network.factor',
    section: 'network',
    widget: num(),
    args: ['network_args factor'],
    applies: typeIn('lokr'),
    vram: true,
  },
  {
    path: 'network.preset',
    section: 'network',
    widget: { kind: 'select' },
    args: ['network_args preset'],
    applies: typeIn('loha', 'lokr'),
  },
  {
    path: 'network.use_tucker',
    section: 'network',
    widget: sw,
    args: ['network_args use_tucker'],
    applies: typeIn('loha', 'lokr'),
  },
  {
    path: 'network.use_scalar',
    section: 'network',
    widget: sw,
    args: ['network_args use_scalar'],
    applies: typeIn('loha', 'lokr'),
  },
  {
    path: 'network.decompose_both',
    section: 'network',
    widget: sw,
    args: ['network_args decompose_both'],
    applies: typeIn('lokr'),
  },
  { path: 'network.dropout', section: 'network', widget: num(), args: ['network_dropout'], applies: net },
  {
    path: 'network.rank_dropout',
    section: 'network',
    widget: num(),
    args: ['network_args rank_dropout'],
    applies: net,
  },
  {
    path: 'network.module_dropout',
    section: 'network',
    widget: num(),
    args: ['network_args module_dropout'],
    applies: net,
  },
  {
    path: 'network.train_unet_only',
    section: 'network',
    widget: sw,
    args: ['network_train_unet_only'],
    applies: net,
    vram: true,
  },

  // Optimizer and schedule
  {
    path: 'optimizer.type',
    section: 'optimizer',
    widget: { kind: 'optimizer' },
    args: ['optimizer_type'],
    vram: true,
  },
  { path: 'optimizer.args', section: 'optimizer', widget: { kind: 'lines' }, args: ['optimizer_args'] },
  { path: 'optimizer.learning_rate', section: 'optimizer', widget: num(), args: ['learning_rate'] },
  { path: 'optimizer.unet_lr', section: 'optimizer', widget: num(), args: ['unet_lr'], applies: net },
  {
    path: 'optimizer.train_text_encoder',
    section: 'optimizer',
    widget: sw,
    args: ['train_text_encoder'],
    applies: db,
    vram: true,
  },
  {
    path: 'optimizer.text_encoder_lr',
    section: 'optimizer',
    widget: num(),
    args: ['text_encoder_lr', 'learning_rate_te1', 'learning_rate_te2'],
    vram: true,
  },
  {
    path: 'optimizer.lr_scheduler',
    section: 'optimizer',
    widget: { kind: 'select' },
    args: ['lr_scheduler'],
  },
  {
    path: 'optimizer.lr_warmup_steps',
    section: 'optimizer',
    widget: num(),
    args: ['lr_warmup_steps'],
  },
  {
    path: 'optimizer.lr_scheduler_num_cycles',
    section: 'optimizer',
    widget: num(),
    args: ['lr_scheduler_num_cycles'],
    applies: (c) => c.optimizer.lr_scheduler === 'cosine_with_restarts',
  },
  { path: 'optimizer.max_grad_norm', section: 'optimizer', widget: num(), args: ['max_grad_norm'] },

  // Length and batch
  {
    path: 'training.max_train_epochs',
    section: 'training',
    widget: num('epochs'),
    args: ['max_train_epochs'],
  },
  { path: 'training.max_train_steps', section: 'training', widget: num('steps'), args: ['max_train_steps'] },
  { path: 'training.batch_size', section: 'training', widget: num(), args: ['train_batch_size'], vram: true },
  {
    path: 'training.gradient_accumulation_steps',
    section: 'training',
    widget: num(),
    args: ['gradient_accumulation_steps'],
    vram: true,
  },
  { path: 'training.seed', section: 'training', widget: num(), args: ['seed'] },
  {
    path: 'training.max_token_length',
    section: 'training',
    widget: num('tokens'),
    args: ['max_token_length'],
    vram: true,
  },

  // Loss and noise
  { path: 'loss.min_snr_gamma', section: 'loss', widget: num(), args: ['min_snr_gamma'] },
  { path: 'loss.noise_offset', section: 'loss', widget: num(), args: ['noise_offset'] },
  {
    path: 'loss.multires_noise_iterations',
    section: 'loss',
    widget: num(),
    args: ['multires_noise_iterations'],
  },
  {
    path: 'loss.multires_noise_discount',
    section: 'loss',
    widget: num(),
    args: ['multires_noise_discount'],
    applies: (c) => (c.loss.multires_noise_iterations ?? 0) > 0,
  },
  { path: 'loss.loss_type', section: 'loss', widget: { kind: 'select' }, args: ['loss_type'] },
  {
    path: 'loss.huber_c',
    section: 'loss',
    widget: num(),
    args: ['huber_c'],
    applies: (c) => c.loss.loss_type !== 'l2',
  },
  {
    path: 'loss.prior_loss_weight',
    section: 'loss',
    widget: num(),
    args: ['prior_loss_weight'],
    applies: net,
  },

  // Memory and precision
  {
    path: 'memory.mixed_precision',
    section: 'memory',
    widget: { kind: 'select', labelled: true },
    args: ['mixed_precision'],
    vram: true,
  },
  { path: 'memory.full_bf16', section: 'memory', widget: sw, args: ['full_bf16'], vram: true },
  { path: 'memory.full_fp16', section: 'memory', widget: sw, args: ['full_fp16'], vram: true },
  { path: 'memory.fp8_base', section: 'memory', widget: sw, args: ['fp8_base'], applies: net, vram: true },
  {
    path: 'memory.gradient_checkpointing',
    section: 'memory',
    widget: sw,
    args: ['gradient_checkpointing'],
    vram: true,
  },
  { path: 'memory.cache_latents', section: 'memory', widget: sw, args: ['cache_latents'], vram: true },
  {
    path: 'memory.cache_latents_to_disk',
    section: 'memory',
    widget: sw,
    args: ['cache_latents_to_disk'],
    vram: true,
  },
  {
    path: 'memory.cache_text_encoder_outputs',
    section: 'memory',
    widget: sw,
    args: ['cache_text_encoder_outputs'],
    vram: true,
  },
  {
    path: 'memory.cache_text_encoder_outputs_to_disk',
    section: 'memory',
    widget: sw,
    args: ['cache_text_encoder_outputs_to_disk'],
    vram: true,
  },
  {
    path: 'memory.attention',
    section: 'memory',
    widget: { kind: 'select', labelled: true },
    args: ['sdpa', 'xformers'],
    vram: true,
  },
  {
    path: 'memory.fused_backward_pass',
    section: 'memory',
    widget: sw,
    args: ['fused_backward_pass'],
    applies: db,
    vram: true,
  },
  {
    path: 'memory.max_data_loader_n_workers',
    section: 'memory',
    widget: num('workers'),
    args: ['max_data_loader_n_workers'],
  },
  {
    path: 'memory.persistent_data_loader_workers',
    section: 'memory',
    widget: sw,
    args: ['persistent_data_loader_workers'],
  },
  { path: 'memory.no_half_vae', section: 'memory', widget: sw, args: ['no_half_vae'], vram: true },
  { path: 'memory.lowram', section: 'memory', widget: sw, args: ['lowram'] },

  // Samples
  { path: 'sampling.enabled', section: 'samples', widget: sw, args: ['sample_prompts'] },
  {
    path: 'sampling.prompts',
    section: 'samples',
    widget: { kind: 'prompts' },
    args: ['sample_prompts'],
    applies: sampling,
    wide: true,
  },
  {
    path: 'sampling.every_n_steps',
    section: 'samples',
    widget: num('steps'),
    args: ['sample_every_n_steps'],
    applies: sampling,
  },
  {
    path: 'sampling.every_n_epochs',
    section: 'samples',
    widget: num('epochs'),
    args: ['sample_every_n_epochs'],
    applies: sampling,
  },
  {
    path: 'sampling.sampler',
    section: 'samples',
    widget: { kind: 'select' },
    args: ['sample_sampler'],
    applies: sampling,
  },
  {
    path: 'sampling.sample_at_first',
    section: 'samples',
    widget: sw,
    args: ['sample_at_first'],
    applies: sampling,
  },

  // Saving and resuming
  {
    path: 'saving.output_dir',
    section: 'saving',
    widget: { kind: 'path', browse: 'folders' },
    args: ['output_dir'],
    wide: true,
  },
  { path: 'saving.output_name', section: 'saving', widget: text, args: ['output_name'] },
  {
    path: 'saving.save_every_n_epochs',
    section: 'saving',
    widget: num('epochs'),
    args: ['save_every_n_epochs'],
  },
  {
    path: 'saving.save_every_n_steps',
    section: 'saving',
    widget: num('steps'),
    args: ['save_every_n_steps'],
  },
  { path: 'saving.save_precision', section: 'saving', widget: { kind: 'select' }, args: ['save_precision'] },
  { path: 'saving.save_model_as', section: 'saving', widget: { kind: 'select' }, args: ['save_model_as'] },
  { path: 'saving.save_state', section: 'saving', widget: sw, args: ['save_state'] },
  {
    path: 'saving.save_state_on_train_end',
    section: 'saving',
    widget: sw,
    args: ['save_state_on_train_end'],
  },
  {
    path: 'saving.comment',
    section: 'saving',
    widget: text,
    args: ['training_comment', 'metadata_description'],
  },

  // Logging
  {
    path: 'logging.logging_dir',
    section: 'logging',
    widget: { kind: 'path', browse: 'folders' },
    args: ['logging_dir'],
    wide: true,
  },
  { path: 'logging.log_with', section: 'logging', widget: { kind: 'select' }, args: ['log_with'] },
  { path: 'logging.log_prefix', section: 'logging', widget: text, args: ['log_prefix'] },

  // Launch
  {
    path: 'launch.num_processes',
    section: 'launch',
    widget: num('gpus'),
    args: ['accelerate num_processes'],
  },
  {
    path: 'launch.gpu_ids',
    section: 'launch',
    widget: { kind: 'gpus' },
    args: ['accelerate gpu_ids'],
  },
  {
    path: 'launch.num_cpu_threads_per_process',
    section: 'launch',
    widget: num('threads'),
    args: ['accelerate num_cpu_threads_per_process'],
  },

  // Extra sd-scripts options
  { path: 'extra_args', section: 'advanced', widget: { kind: 'extraArgs' }, wide: true },
])

/** Fields of one image folder (dataset.subsets[i]). */
export const SUBSET_FIELDS: readonly FieldDef[] = defs(
  (
    [
      { path: 'image_dir', widget: { kind: 'path', browse: 'folders' }, args: ['dataset image_dir'] },
      { path: 'num_repeats', widget: num(), args: ['dataset num_repeats'] },
      { path: 'class_tokens', widget: text, args: ['dataset class_tokens'] },
      { path: 'is_reg', widget: sw, args: ['dataset is_reg'] },
      {
        path: 'caption_extension',
        widget: { kind: 'text', placeholder: '.txt' },
        args: ['caption_extension'],
      },
      { path: 'keep_tokens', widget: num('tokens'), args: ['keep_tokens'] },
      { path: 'shuffle_caption', widget: sw, args: ['shuffle_caption'] },
      { path: 'flip_aug', widget: sw, args: ['flip_aug'] },
      { path: 'caption_dropout_rate', widget: num(), args: ['caption_dropout_rate'] },
      { path: 'caption_tag_dropout_rate', widget: num(), args: ['caption_tag_dropout_rate'] },
      {
        path: 'caption_dropout_every_n_epochs',
        widget: num('epochs'),
        args: ['caption_dropout_every_n_epochs'],
      },
      { path: 'token_warmup_step', widget: num('steps'), args: ['token_warmup_step'] },
    ] as const
  ).map((d) => ({ ...d, id: `subset.${d.path}`, section: 'dataset' as const })),
)

/** The subset fields shown in a folder's first row; the rest are under its "Caption options". */
export const SUBSET_MAIN = ['image_dir', 'num_repeats', 'class_tokens', 'is_reg'] as const

/** Fields of one sample prompt (sampling.prompts[i]). */
export const PROMPT_FIELDS: readonly FieldDef[] = defs(
  (
    [
      { path: 'prompt', widget: text },
      { path: 'negative', widget: text },
      { path: 'width', widget: num('px') },
      { path: 'height', widget: num('px') },
      { path: 'steps', widget: num('steps') },
      { path: 'cfg_scale', widget: num() },
      { path: 'seed', widget: num() },
    ] as const
  ).map((d) => ({ ...d, id: `prompt.${d.path}`, section: 'samples' as const })),
)

/** Every field definition, for tests and search: config fields and the fields of list items. */
export const ALL_FIELDS: readonly FieldDef[] = [...FIELDS, ...SUBSET_FIELDS, ...PROMPT_FIELDS]

export function fieldsOf(section: SectionId): FieldDef[] {
  return FIELDS.filter((f) => f.section === section)
}

export function appliesTo(field: FieldDef, config: TrainingConfig): boolean {
  return field.applies ? field.applies(config) : true
}

/** The section a config path (or an issue's field) belongs to, for counting problems per section. */
export function sectionOfPath(path: string): SectionId | null {
  if (path.startsWith('dataset.subsets')) return 'dataset'
  if (path.startsWith('sampling.prompts')) return 'samples'
  if (path.startsWith('extra_args')) return 'advanced'
  const exact = FIELDS.find((f) => f.path === path || path.startsWith(`${f.path}.`))
  if (exact) return exact.section
  const prefix = path.split('.')[0]
  return FIELDS.find((f) => f.path.split('.')[0] === prefix)?.section ?? null
}

/** The test id of a field's input: `field-<path>` (list items: `field-dataset.subsets.0.num_repeats`). */
export function fieldTestId(path: string): string {
  return `field-${path}`
}
