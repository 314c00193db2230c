import { isNetworkType, TrainingConfig, type Subset, type TrainingConfig as Config } from '../config/schema'
import { promptLine } from '../sdscripts/render'
import { note } from '../sdscripts/messages'
import type { ImportNote, KohyaImport } from './import'

/**
 * Export to the kohya_ss GUI JSON format (flat keys, sorted like the GUI writes them). kohya_ss
 * reads its dataset from parent folders with `<repeats>_<name>` sub-folders, so subsets are exported as
 * their parent folders; what that format cannot say (per-subset repeats that differ from the folder
 * name, several parents) is listed in `warnings`.
 */

const LORA_TYPE: Record<string, string> = {
  lora: 'Standard',
  locon: 'Kohya LoCon',
  loha: 'LyCORIS/LoHa',
  lokr: 'LyCORIS/LoKr',
}

function parentOf(p: string): string {
  const trimmed = p.replace(/[\\/]+$/, '')
  const i = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'))
  return i > 0 ? trimmed.slice(0, i) : trimmed
}

function baseName(p: string): string {
  const trimmed = p.replace(/[\\/]+$/, '')
  return trimmed.slice(Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\')) + 1)
}

export function exportKohya(config: Config): { json: Record<string, unknown>; warnings: ImportNote[] } {
  const warnings: ImportNote[] = []
  const net = isNetworkType(config.type)
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
  const j: Record<string, unknown> = {
    sdxl: true,
    pretrained_model_name_or_path: config.base_model,
    max_resolution: `${d.resolution.width},${d.resolution.height}`,
    enable_bucket: d.enable_bucket,
    min_bucket_reso: d.min_bucket_reso,
    max_bucket_reso: d.max_bucket_reso,
    bucket_reso_steps: d.bucket_reso_steps,
    bucket_no_upscale: d.bucket_no_upscale,
    optimizer: o.type,
    optimizer_args: o.args.join(' '),
    learning_rate: o.learning_rate,
    lr_scheduler: o.lr_scheduler,
    lr_scheduler_num_cycles: o.lr_scheduler_num_cycles,
    max_grad_norm: o.max_grad_norm,
    train_batch_size: t.batch_size,
    gradient_accumulation_steps: t.gradient_accumulation_steps,
    max_token_length: t.max_token_length,
    seed: t.seed ?? '',
    mixed_precision: m.mixed_precision,
    full_bf16: m.full_bf16,
    full_fp16: m.full_fp16,
    fp8_base: m.fp8_base,
    gradient_checkpointing: m.gradient_checkpointing,
    cache_latents: m.cache_latents,
    cache_latents_to_disk: m.cache_latents_to_disk,
    sdxl_cache_text_encoder_outputs: m.cache_text_encoder_outputs,
    cache_text_encoder_outputs_to_disk: m.cache_text_encoder_outputs_to_disk,
    xformers: m.attention,
    fused_backward_pass: m.fused_backward_pass,
    max_data_loader_n_workers: m.max_data_loader_n_workers,
    persistent_data_loader_workers: m.persistent_data_loader_workers,
    sdxl_no_half_vae: m.no_half_vae,
    lowram: m.lowram,
    min_snr_gamma: l.min_snr_gamma ?? 0,
    loss_type: l.loss_type,
    output_dir: sv.output_dir,
    output_name: sv.output_name,
    save_every_n_epochs: sv.save_every_n_epochs ?? 0,
    save_every_n_steps: sv.save_every_n_steps ?? 0,
    save_precision: sv.save_precision,
    save_model_as: sv.save_model_as,
    save_state: sv.save_state,
    training_comment: sv.comment ?? '',
    logging_dir: config.logging.logging_dir ?? '',
    num_cpu_threads_per_process: config.launch.num_cpu_threads_per_process,
    num_processes: config.launch.num_processes,
    gpu_ids: config.launch.gpu_ids ?? '',
    sample_sampler: s.sampler,
    sample_prompts: s.enabled ? s.prompts.map(promptLine).join('\n') : '',
    sample_every_n_epochs: s.enabled ? (s.every_n_epochs ?? 0) : 0,
    sample_every_n_steps: s.enabled ? (s.every_n_steps ?? 0) : 0,
  }
  if (config.vae) j.vae = config.vae
  if (l.huber_c !== undefined) j.huber_c = l.huber_c
  if (t.max_train_epochs !== undefined) {
    j.epoch = t.max_train_epochs
    j.max_train_epochs = t.max_train_epochs
  }
  if (t.max_train_steps !== undefined) j.max_train_steps = t.max_train_steps
  // kohya_ss stores warmup as a percentage of all steps; absolute steps go to lr_warmup_steps.
  if (o.lr_warmup_steps > 0 && o.lr_warmup_steps < 1) j.lr_warmup = Math.round(o.lr_warmup_steps * 1000) / 10
  else {
    j.lr_warmup = 0
    if (o.lr_warmup_steps >= 1) j.lr_warmup_steps = o.lr_warmup_steps
  }
  if (l.multires_noise_iterations) {
    j.noise_offset_type = 'Multires'
    j.multires_noise_iterations = l.multires_noise_iterations
    j.multires_noise_discount = l.multires_noise_discount ?? 0.3
  } else {
    j.noise_offset_type = 'Original'
    j.noise_offset = l.noise_offset ?? 0
  }
  if (net) {
    j.LoRA_type = LORA_TYPE[config.type]
    j.network_dim = n.dim
    j.network_alpha = n.alpha
    if (n.conv_dim !== undefined || config.type !== 'lora') {
      j.conv_dim = n.conv_dim ?? n.dim
      j.conv_alpha = n.conv_alpha ?? n.alpha
    }
    if (config.type === 'lokr') {
      j.factor = n.factor ?? -1
      j.decompose_both = n.decompose_both ?? false
    }
    if (n.use_tucker !== undefined) j.use_cp = n.use_tucker
    if (n.use_scalar !== undefined) j.use_scalar = n.use_scalar
    j.network_dropout = n.dropout ?? 0
    j.rank_dropout = n.rank_dropout ?? 0
    j.module_dropout = n.module_dropout ?? 0
    j.unet_lr = o.unet_lr ?? o.learning_rate
    // kohya_ss trains the U-Net only when the text encoder learning rate is 0.
    j.text_encoder_lr = n.train_unet_only ? 0 : (o.text_encoder_lr ?? o.learning_rate)
    j.prior_loss_weight = l.prior_loss_weight
  } else {
    j.train_text_encoder = o.train_text_encoder
    if (o.text_encoder_lr !== undefined) {
      j.learning_rate_te1 = o.text_encoder_lr
      j.learning_rate_te2 = o.text_encoder_lr
    }
  }

  // Dataset as parent folders.
  const subsets: Subset[] = d.subsets
  for (const [key, reg] of [
    ['train_data_dir', false],
    ['reg_data_dir', true],
  ] as const) {
    const group = subsets.filter((x) => x.is_reg === reg)
    const parents = [...new Set(group.map((x) => parentOf(x.image_dir)))]
    j[key] = parents[0] ?? ''
    if (parents.length > 1)
      warnings.push(note('kohya_export_one_dir', { key, count: parents.length, first: parents[0] ?? '' }))
    for (const x of group) {
      const m = /^(\d+)_/.exec(baseName(x.image_dir))
      if (!m || Number(m[1]) !== x.num_repeats)
        warnings.push(note('kohya_export_repeats', { dir: x.image_dir, repeats: x.num_repeats }))
    }
  }
  const first = subsets[0]
  if (first) {
    j.caption_extension = first.caption_extension
    j.keep_tokens = first.keep_tokens
    j.shuffle_caption = first.shuffle_caption
    j.flip_aug = first.flip_aug
    j.caption_dropout_rate = first.caption_dropout_rate
    j.caption_dropout_every_n_epochs = first.caption_dropout_every_n_epochs
    j.caption_tag_dropout_rate = first.caption_tag_dropout_rate
    const differs = subsets.some(
      (x) =>
        JSON.stringify({ ...x, image_dir: '', num_repeats: 0, is_reg: false, class_tokens: '' }) !==
        JSON.stringify({ ...first, image_dir: '', num_repeats: 0, is_reg: false, class_tokens: '' }),
    )
    if (differs) warnings.push(note('kohya_export_captions'))
  }
  const extras = Object.entries(config.extra_args)
  if (extras.length)
    j.additional_parameters = extras
      .filter(([, v]) => v !== false)
      .map(([k, v]) => (v === true ? `--${k}` : `--${k} ${Array.isArray(v) ? v.join(' ') : String(v)}`))
      .join(' ')
  const sorted = Object.fromEntries(Object.entries(j).sort(([a], [b]) => a.localeCompare(b)))
  return { json: sorted, warnings }
}

/** Builds dataset subsets from `<repeats>_<name>` folders (listed by the service) and an import's per-subset settings. */
export function withFolderSubsets(
  imported: Pick<KohyaImport, 'config' | 'subsetDefaults'>,
  folders: Array<{ dir: string; num_repeats: number; class_tokens: string; is_reg: boolean }>,
): Config {
  const subsets = folders.map((f) => ({
    ...imported.subsetDefaults,
    image_dir: f.dir,
    num_repeats: f.num_repeats,
    class_tokens: f.class_tokens || undefined,
    is_reg: f.is_reg,
  }))
  return TrainingConfig.parse({ ...imported.config, dataset: { ...imported.config.dataset, subsets } })
}
