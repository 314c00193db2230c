/**
 * English templates of every validation message and fix label, by code. An issue carries its code
 * and parameters, so the renderer can show it in the user's language (train.json: issues.*, fixes.*;
 * tests/unit/sdscripts-messages.test.ts keeps the English copy there equal to this table).
 */

export const ISSUE_MESSAGES = {
  te_cache_unet_only:
    'Caching text encoder outputs needs "Train U-Net only": the text encoders cannot be trained while their outputs are cached.',
  te_cache_train_te: 'Caching text encoder outputs cannot be combined with training the text encoders.',
  te_cache_caption_variation:
    'Cached text encoder outputs are fixed per caption, so caption shuffle, caption/tag dropout and token warmup cannot be used with them. Turn those off, or turn off text encoder caching.',
  fp8_mixed_precision:
    'fp8 base weights need mixed precision (bf16 or fp16); sd-scripts stops with mixed precision "no".',
  fp8_lora_only:
    'fp8 base weights only work for LoRA-type training; sdxl_train.py (Dreambooth) accepts the flag but ignores it, so it would not save any memory.',
  fused_dreambooth_only:
    'The fused backward pass only works in Dreambooth (sdxl_train.py); the LoRA script checks its conditions but never uses it.',
  fused_adafactor: 'The fused backward pass needs the Adafactor optimizer (now {{optimizer}}).',
  fused_grad_accumulation:
    'The fused backward pass cannot be combined with gradient accumulation; set accumulation steps to 1.',
  // Several GPUs (core/sdscripts/validate-multi-gpu.ts).
  gpu_ids_format:
    'GPU ids "{{text}}" are not GPU numbers: write nvidia-smi indexes separated by commas, e.g. 0 or 0,1.',
  gpu_ids_duplicate:
    'GPU {{index}} is listed twice; each GPU runs one process. List every GPU once, e.g. 0,1.',
  gpu_ids_too_many:
    '{{count}} GPU ids are given; at most {{max}} are supported. List the GPUs to train on, e.g. 0,1.',
  gpu_missing: 'This machine has no GPU {{missing}} (nvidia-smi lists {{present}}). Choose among those GPUs.',
  multi_gpu_fused_backward:
    'The fused backward pass steps the optimizer inside backward, before the GPUs average their gradients, so each GPU would train its own diverging copy. Turn it off, or train on one GPU.',
  multi_gpu_fused_groups:
    '--fused_optimizer_groups steps the optimizer inside backward, before the GPUs average their gradients. Remove it, or train on one GPU.',
  multi_gpu_ddp_single:
    '--{{name}} only applies when training on several GPUs; with one process sd-scripts ignores it. Remove it, or choose several GPUs.',
  multi_gpu_cache_in_memory:
    'With {{processes}} GPUs, latents cached in memory are encoded by every process and held {{processes}} times in RAM; cached to disk, the processes split the images. Cache latents to disk.',
  multi_gpu_windows_gloo:
    'On Windows sd-scripts synchronises the GPUs with the gloo backend (NCCL is Linux-only): gradients go through the CPU every step, so {{processes}} GPUs may be little faster than one. Linux trains several GPUs much faster.',
  multi_gpu_ddp_buckets:
    'With several GPUs each GPU keeps a second copy of all gradients for the exchange (about {{gib}} GiB here). Add --ddp_gradient_as_bucket_view to save it.',
  multi_gpu_workers:
    'Each of the {{processes}} processes keeps its own {{workers}} data loader workers ({{total}} in all); lower the worker count if RAM runs short.',
  multi_gpu_effective_batch:
    'Each of {{processes}} GPUs trains a batch of {{batch}}: {{effective}} images per optimizer step, and sd-scripts divides the steps per epoch by {{processes}}. Learning rates tuned for one GPU may need adjusting.',
  extra_blocks_to_swap:
    '--blocks_to_swap exists only for FLUX/SD3-type scripts, not for SDXL. sd-scripts would stop with "unrecognized arguments".',
  extra_fused_optimizer_groups:
    '--fused_optimizer_groups exists only in sdxl_train.py (Dreambooth), not in the LoRA script. sd-scripts would stop with "unrecognized arguments".',
  extra_text_encoder_lr_n:
    '--{{name}} does not exist (a mistake in sd-scripts\' docs); use the text encoder learning rate field. sd-scripts would stop with "unrecognized arguments".',
  extra_abbreviated:
    '--{{name}} is not a full option name of {{script}}.py; write it out ({{full}}). sd-scripts would stop with "unrecognized arguments".',
  extra_unknown:
    '{{script}}.py has no option --{{name}}. sd-scripts would stop with "unrecognized arguments".',
  extra_dashes: 'Write extra option names without dashes: "{{name}}", not "{{raw}}".',
  extra_bad_choice: '--{{name}} expects one of {{choices}}; got {{value}}.',
  extra_bad_type: '--{{name}} expects a value of type {{kind}}; got {{value}}.',
  bucket_steps: 'Bucket resolution steps must be a multiple of 32 for SDXL (now {{steps}}).',
  bucket_range:
    'Bucket sizes must include the training resolution: min {{min}} ≤ {{side}} and max {{max}} ≥ {{big}}.',
  resolution_64:
    'Resolution {{width}}×{{height}} is not a multiple of 64; images are cropped to the nearest bucket.',
  attention_none:
    'No attention backend: the U-Net uses plain attention, which needs far more memory and time. Use SDPA (built into PyTorch).',
  sampling_size:
    '{{count}} sample prompt(s) have no size: sd-scripts then renders 512×512, which looks poor for SDXL.',
  sampling_no_prompts: 'Sampling is on but there are no prompts. Add a prompt, or turn sampling off.',
  sampling_no_schedule: 'Sampling is on but no interval is set, so no sample images will be made.',
  package_missing:
    '{{what}} needs the Python package "{{pkg}}", which is not installed in the training environment. Install it, or choose another option.',
  package_needed: '{{what}} needs the Python package "{{pkg}}" in the training environment.',
  adaptive_lr: '{{optimizer}} finds its own step size; set the learning rates to about 1.0 (now {{lrs}}).',
  full_bf16: 'Full bf16 needs mixed precision bf16.',
  full_fp16: 'Full fp16 needs mixed precision fp16.',
  both_full: 'Choose full bf16 or full fp16, not both.',
  fp16_vae: "With fp16 the SDXL VAE can produce NaN (loss=nan). Keep the VAE in float32 with 'No half VAE'.",
  save_format:
    'A {{type}} network cannot be saved as {{format}}; the LoRA script accepts safetensors, ckpt or pt.',
  save_format_dreambooth:
    'Dreambooth (sdxl_train.py) cannot save as pt; use safetensors, ckpt or a Diffusers folder.',
  extra_overrides: '--{{name}} is also set by the form; the extra argument replaces the form value.',
  output_dir: 'Choose an output folder for the trained model.',
  output_name: 'The output name must be a plain file name without \\ / : * ? " < > |.',
  model_missing: 'Choose the SDXL base model (.safetensors file or Diffusers folder).',
  no_train_subset: 'Add at least one image folder that is not a regularization folder.',
  subset_no_folder: 'Image folder {{n}}: choose a folder.',
  dreambooth_prior_loss: 'sdxl_train.py (Dreambooth) has no prior loss weight option; the value is not used.',
  length_unset: 'Neither epochs nor steps are set: sd-scripts then trains 1600 steps.',
  conv_ignored:
    'Plain LoRA does not train conv layers, so conv dim/alpha are not used. Choose LoCon to use them.',
  alpha_above_dim:
    'Network alpha ({{alpha}}) is above dim ({{dim}}); this scales updates up and often makes training unstable.',
  te_lr_zero: 'Text encoder training is on with a learning rate of 0; it only costs memory.',
  warmup_constant: 'The "constant" scheduler has no warmup; use "constant_with_warmup".',
  warmup_ratio: 'Warmup is a whole number of steps, or a ratio below 1 (e.g. 0.05 for 5%).',
  captions_missing_tokens:
    '{{missing}} of {{total}} images in {{path}} have no {{ext}} caption file (e.g. {{examples}}); they are captioned "{{tokens}}".',
  captions_missing_empty:
    '{{missing}} of {{total}} images in {{path}} have no {{ext}} caption file (e.g. {{examples}}); they train with an empty caption. Add captions or class tokens.',
  repeats_name:
    'The folder name says {{named}} repeats but the setting is {{set}}; with a dataset config sd-scripts uses the setting, not the folder name.',
  gpu_count: '{{ids}} GPU id(s) are given for {{processes}} process(es); use one process per GPU.',
} as const

export const FIX_LABELS = {
  unet_only: 'Train the U-Net only',
  no_te_training: 'Do not train the text encoders',
  captions_off: 'Turn off caption shuffle, dropout and warmup',
  use_bf16: 'Use bf16 mixed precision',
  use_fp16: 'Use fp16 mixed precision',
  fp8_off: 'Turn off fp8 base',
  fused_off: 'Turn off fused backward pass',
  use_adafactor: 'Use Adafactor',
  grad_accum_1: 'Set gradient accumulation to 1',
  gpu_ids_unique: 'List each GPU once ({{ids}})',
  gpu_ids_present: 'Use GPU {{ids}}',
  one_gpu: 'Train on GPU {{index}} only',
  cache_to_disk: 'Cache latents to disk',
  bucket_view: 'Add --ddp_gradient_as_bucket_view',
  remove_arg: 'Remove {{name}}',
  remove_dashes: 'Remove the dashes',
  use_value: 'Use {{value}}',
  widen_buckets: 'Widen the bucket range',
  round_64: 'Round to multiples of 64',
  use_sdpa: 'Use SDPA',
  sample_size: 'Use the training resolution',
  sampling_off: 'Turn sampling off',
  sample_every_epoch: 'Sample every epoch',
  lr_one: 'Set learning rates to 1.0',
  keep_full_bf16: 'Keep full bf16',
  vae_float32: 'Keep the VAE in float32',
  save_safetensors: 'Save as safetensors',
  reset_one: 'Reset to 1',
  ten_epochs: 'Train 10 epochs',
  switch_locon: 'Switch to LoCon',
  alpha_dim: 'Set alpha = dim',
  constant_with_warmup: 'Use constant_with_warmup',
  round: 'Round',
  process_per_gpu: 'One process per GPU',
  use_repeats: 'Use {{value}} repeats',
} as const

export type MessageCode = keyof typeof ISSUE_MESSAGES
export type FixCode = keyof typeof FIX_LABELS
export type Params = Record<string, string | number>

export function interpolate(template: string, params: Params = {}): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => (k in params ? String(params[k]) : `{{${k}}}`))
}

/** The message fields of an issue: code, parameters, and the English text. */
export function msg(
  code: MessageCode,
  params: Params = {},
): { code: string; params: Params; message: string } {
  return { code, params, message: interpolate(ISSUE_MESSAGES[code], params) }
}

/** The label fields of a fix. */
export function label(code: FixCode, params: Params = {}): { code: string; params: Params; label: string } {
  return { code, params, label: interpolate(FIX_LABELS[code], params) }
}
