import { z } from 'zod'

/**
 * Settings of a training config that move GPU memory but that the VRAM model does not compute. The gauge
 * shows them as "not modelled: …" (a code with parameters, translated in the renderer) instead of
 * ignoring them silently.
 */

export const UnmodelledCode = z.enum([
  /** An optimizer outside the modelled list: memory assumes AdamW's two full-size states. */
  'optimizer',
  /** Optimizer arguments that can change the state's size (e.g. Adafactor's beta1, amsgrad). */
  'optimizer_args',
  /** A LyCORIS module preset other than "full" (which layers get adapters). */
  'network_preset',
  /** A network option that changes the adapter's tensors (Tucker, scalar, decompose_both, dropout masks). */
  'network_option',
  /** An expert argument that moves memory (DeepSpeed, torch.compile, CPU offload…). */
  'extra_arg',
  /** Sample images during training: U-Net inference and a VAE decode at the sample size. */
  'sampling',
  /** More than one process: DDP gradient buckets (about one more copy of the gradients). */
  'multi_gpu',
])
export type UnmodelledCode = z.infer<typeof UnmodelledCode>

export const UnmodelledItem = z.object({
  code: UnmodelledCode,
  params: z.record(z.string(), z.union([z.string(), z.number()])),
})
export type UnmodelledItem = z.infer<typeof UnmodelledItem>

/**
 * sd-scripts options (extra arguments) the model reads itself: from-config.ts maps them into the
 * scenario, so they are modelled, not flagged.
 */
export const MODELLED_EXTRA_ARGS = new Set([
  'mem_eff_attn',
  'xformers',
  'sdpa',
  'fused_optimizer_groups',
  'learning_rate_te1',
  'learning_rate_te2',
  'gradient_checkpointing',
  'full_bf16',
  'full_fp16',
  'fp8_base',
  'mixed_precision',
  'cache_latents',
  'cache_latents_to_disk',
  'cache_text_encoder_outputs',
  'cache_text_encoder_outputs_to_disk',
  'train_batch_size',
  'gradient_accumulation_steps',
  'max_token_length',
  'network_dim',
  'network_alpha',
  'network_train_unet_only',
  'train_text_encoder',
  'text_encoder_lr',
  'learning_rate',
  'unet_lr',
  'optimizer_type',
  'optimizer_args',
  'no_half_vae',
  'vae_batch_size',
  'fused_backward_pass',
  'use_8bit_adam',
  'use_lion_optimizer',
  'resolution',
  'network_args',
])

/**
 * Options that do not change the GPU memory of a training step (paths, logging, saving, schedules,
 * loss weighting, caption handling, seeds...). Everything else given as an extra argument is flagged.
 */
const NEUTRAL_EXTRA_ARGS = new Set([
  'adaptive_noise_scale',
  'async_upload',
  'base_weights',
  'base_weights_multiplier',
  'block_lr',
  'bucket_no_upscale',
  'bucket_reso_steps',
  'cache_info',
  'caption_dropout_every_n_epochs',
  'caption_dropout_rate',
  'caption_extension',
  'caption_extention',
  'caption_prefix',
  'caption_separator',
  'caption_suffix',
  'caption_tag_dropout_rate',
  'clip_skip',
  'color_aug',
  'config_file',
  'console_log_file',
  'console_log_level',
  'console_log_simple',
  'dataset_class',
  'dataset_config',
  'dataset_repeats',
  'debiased_estimation_loss',
  'debug_dataset',
  'disable_mmap_load_safetensors',
  'enable_bucket',
  'enable_wildcard',
  'face_crop_aug_range',
  'flip_aug',
  'highvram',
  'huber_c',
  'huber_scale',
  'huber_schedule',
  'huggingface_path_in_repo',
  'huggingface_repo_id',
  'huggingface_repo_type',
  'huggingface_repo_visibility',
  'huggingface_token',
  'in_json',
  'initial_epoch',
  'initial_step',
  'ip_noise_gamma',
  'ip_noise_gamma_random_strength',
  'keep_tokens',
  'keep_tokens_separator',
  'log_config',
  'log_prefix',
  'log_tracker_config',
  'log_tracker_name',
  'log_with',
  'logging_dir',
  'loss_type',
  'lowram',
  'lr_decay_steps',
  'lr_scheduler',
  'lr_scheduler_args',
  'lr_scheduler_min_lr_ratio',
  'lr_scheduler_num_cycles',
  'lr_scheduler_power',
  'lr_scheduler_timescale',
  'lr_scheduler_type',
  'lr_warmup_steps',
  'masked_loss',
  'alpha_mask',
  'max_bucket_reso',
  'max_data_loader_n_workers',
  'max_grad_norm',
  'max_timestep',
  'max_train_epochs',
  'max_train_steps',
  'max_validation_steps',
  'metadata_author',
  'metadata_description',
  'metadata_is_negative_embedding',
  'metadata_license',
  'metadata_merged_from',
  'metadata_preprocessor',
  'metadata_tags',
  'metadata_thumbnail',
  'metadata_title',
  'metadata_trigger_phrase',
  'metadata_usage_hint',
  'min_bucket_reso',
  'min_snr_gamma',
  'min_timestep',
  'multires_noise_discount',
  'multires_noise_iterations',
  'network_module',
  'network_weights',
  'no_metadata',
  'noise_offset',
  'noise_offset_random_strength',
  'output_config',
  'output_dir',
  'output_name',
  'persistent_data_loader_workers',
  'pretrained_model_name_or_path',
  'prior_loss_weight',
  'random_crop',
  'reg_data_dir',
  'resize_interpolation',
  'resume',
  'resume_from_huggingface',
  'save_every_n_epochs',
  'save_every_n_steps',
  'save_last_n_epochs',
  'save_last_n_epochs_state',
  'save_last_n_steps',
  'save_last_n_steps_state',
  'save_model_as',
  'save_n_epoch_ratio',
  'save_precision',
  'save_state',
  'save_state_on_train_end',
  'save_state_to_huggingface',
  'scale_v_pred_loss_like_noise_pred',
  'scale_weight_norms',
  'secondary_separator',
  'seed',
  'shuffle_caption',
  'skip_cache_check',
  'skip_until_initial_step',
  'token_warmup_min',
  'token_warmup_step',
  'tokenizer_cache_dir',
  'train_data_dir',
  'training_comment',
  'use_safetensors',
  'v2',
  'v_parameterization',
  'v_pred_like_loss',
  'vae',
  'validate_every_n_epochs',
  'validate_every_n_steps',
  'validation_seed',
  'validation_split',
  'wandb_api_key',
  'wandb_run_name',
  'weighted_captions',
  'zero_terminal_snr',
])

/** Extra arguments (sd-scripts option names) that move memory and are not modelled. */
export function unmodelledExtraArgs(extra: Record<string, unknown>): string[] {
  return Object.keys(extra)
    .filter((k) => extra[k] !== false && !MODELLED_EXTRA_ARGS.has(k) && !NEUTRAL_EXTRA_ARGS.has(k))
    .sort()
}

/**
 * Optimizer arguments that leave the state and the step's memory as modelled: rates, decays, betas,
 * epsilons and the D-adaptation / Prodigy knobs. Anything else (amsgrad, Adafactor's beta1, foreach,
 * min_8bit_size, slice_p…) may change it and is flagged.
 */
const NEUTRAL_OPTIMIZER_ARGS = new Set([
  'lr',
  'weight_decay',
  'betas',
  'eps',
  'decouple',
  'use_bias_correction',
  'safeguard_warmup',
  'd_coef',
  'd0',
  'growth_rate',
  'scale_parameter',
  'relative_step',
  'warmup_init',
  'clip_threshold',
  'decay_rate',
  'momentum',
  'nesterov',
  'dampening',
  'maximize',
  'warmup_steps',
  'r',
  'weight_lr_power',
  'bias_correction',
  'log_every',
])

export function unmodelledOptimizerArgs(args: readonly string[]): string[] {
  const keys = args.map((a) => a.split('=')[0]!.trim()).filter((k) => k !== '')
  return [...new Set(keys.filter((k) => !NEUTRAL_OPTIMIZER_ARGS.has(k)))].sort()
}
