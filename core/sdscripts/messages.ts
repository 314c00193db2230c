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
  optimizer_unknown:
    'sd-scripts has no optimizer "{{name}}" (names are sd-scripts\' own, torch.optim classes, or a full class path such as bitsandbytes.optim.AdEMAMix8bit). Choose one from the list.',
  // File checks (services): the model file, the image folders, the output folder.
  model_not_found: 'Model file not found: {{path}}. Choose the SDXL base .safetensors file.',
  model_folder_not_diffusers:
    '{{path}} is a folder without model_index.json. Choose an SDXL .safetensors file or a Diffusers folder.',
  model_header_too_short: 'The file is too short to be a safetensors file. ({{path}})',
  model_header_bad_length: 'The file does not start with a valid safetensors header length. ({{path}})',
  model_header_truncated_in_header:
    'The file is truncated: it ends inside its header. Download it again. ({{path}})',
  model_header_not_json:
    'The safetensors header is not valid JSON; the file is damaged or not safetensors. ({{path}})',
  model_header_not_object: 'The safetensors header is not a JSON object. ({{path}})',
  model_header_bad_tensor: 'Tensor "{{name}}" has a malformed entry in the header. ({{path}})',
  model_header_truncated:
    'The file is truncated: its header describes {{expected}} bytes but it has {{actual}}. Download it again. ({{path}})',
  model_kind_sdxl_refiner:
    'An SDXL refiner checkpoint; train on the SDXL base model instead. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  model_kind_sd1:
    'A Stable Diffusion 1.x checkpoint, not SDXL. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  model_kind_sd2:
    'A Stable Diffusion 2.x checkpoint, not SDXL. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  model_kind_lora:
    'A LoRA network file, not a base model. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  model_kind_lycoris:
    'A LyCORIS network file (LoHa/LoKr/LoCon), not a base model. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  model_kind_vae:
    'A VAE only, not a full model. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  model_kind_unet_only:
    'A U-Net only (no text encoders or VAE); sd-scripts needs a full SDXL checkpoint. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  model_kind_unknown:
    'A safetensors file that is not a recognised Stable Diffusion checkpoint. Training needs an SDXL base checkpoint such as sd_xl_base_1.0.safetensors.',
  dataset_not_found: 'Dataset folder not found: {{path}}. Choose an existing folder.',
  dataset_not_folder: 'Not a folder: {{path}}. Choose the folder that holds the images.',
  dataset_no_images:
    'Dataset folder has no images: {{path}}. Put .png/.jpg/.webp files there, or choose another folder.',
  output_cannot_create: 'Output folder cannot be created: {{path}}. Choose another folder.',
  output_not_writable: 'Output folder is not writable: {{path}}. Choose a folder you can write to.',
  output_low_space:
    'Only {{free}} GB free for the output folder {{path}}; about {{need}} GB are needed. Free space or choose another drive.',
  // The input is not a config at all (zod issues, one per field).
  schema_expected_text: '{{path}}: expected text.',
  schema_expected_number: '{{path}}: expected a number.',
  schema_expected_boolean: '{{path}}: expected true or false.',
  schema_expected_object: '{{path}}: expected a group of settings.',
  schema_expected_list: '{{path}}: expected a list.',
  schema_too_small: '{{path}}: must be at least {{minimum}}.',
  schema_too_small_exclusive: '{{path}}: must be more than {{minimum}}.',
  schema_too_big: '{{path}}: must be at most {{maximum}}.',
  schema_too_big_exclusive: '{{path}}: must be less than {{maximum}}.',
  schema_invalid_value: '{{path}}: must be one of {{values}}.',
  schema_invalid_format: '{{path}}: has the wrong format.',
  schema_not_integer: '{{path}}: must be a whole number.',
  schema_invalid: '{{path}}: not a valid value.',
  log_dir_needed:
    'Logging with {{with}} needs a logging folder; sd-scripts stops without one. Choose a folder, or log with wandb only.',
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

/**
 * Everything else core says to the user that is not a check: what a model file is, what an import
 * did with each key, what an export could not say. Translated in train.json under notes.*.
 */
export const NOTE_MESSAGES = {
  // kohya_ss import: what happened to a key
  kohya_sd2_setting: 'SD 2.x setting; SDXL does not use it',
  kohya_bad_resolution: 'cannot read resolution "{{value}}"',
  kohya_kept_extra: 'kept as an extra argument',
  kohya_epochs_win: 'epochs are set; kohya_ss also lets epochs win',
  kohya_multires_only: 'kohya_ss passes only the multires noise settings for "Multires"',
  kohya_original_only: 'kohya_ss passes only noise_offset for "Original"',
  kohya_vpred_only: 'v-prediction only; SDXL base is not v-pred',
  kohya_clip_skip: 'sd-scripts warns that clip_skip gives unexpected results with SDXL',
  kohya_clip_skip_default: '1 means no clip skip',
  kohya_default_value: '{{value}} is the default',
  kohya_lokr_only: 'LoKr only',
  kohya_no_setting: 'no matching setting for {{value}}',
  kohya_offered:
    'an sd-scripts option without a field here: offered as an extra option, added only if you accept it',
  kohya_gui_model_picker: 'GUI model picker',
  kohya_sdxl_implied: 'SDXL is implied',
  kohya_wandb_unsupported: 'Weights & Biases logging is set in the Logging section',
  kohya_secret: 'secrets are never imported',
  kohya_tensorboard_when_dir: 'TensorBoard is used when a logging folder is set',
  kohya_gui_field: 'GUI field',
  kohya_ia3_only: 'iA3 only',
  kohya_weights_unsupported: 'resuming from network weights is not supported yet',
  kohya_resume_at_start: 'resuming is chosen when starting a run',
  kohya_sd1_dreambooth: 'Dreambooth tab setting for SD1.x',
  kohya_not_sdxl_option: 'not an sd-scripts SDXL option',
  kohya_finetune_metadata: 'finetune tab metadata preparation',
  kohya_finetune_batch: 'finetune tab caption batch size',
  // kohya_ss import: about the whole file
  kohya_lycoris_locon:
    "LyCORIS LoCon is imported as LoCon built with sd-scripts' networks.lora (conv_dim/conv_alpha): same layers, no extra package.",
  kohya_not_sdxl: 'This config was made for SD 1.x/2.x, not SDXL; check the base model and resolution.',
  kohya_optimizer_class:
    'The optimizer "{{name}}" is a Python class path: sd-scripts would import its module. It is used only if you accept it; until then the optimizer is AdamW.',
  kohya_folder_no_subfolders: '{{dir}} has no <repeats>_<name> sub-folders; add the image folders by hand.',
  kohya_folder_missing: '{{dir}} was not found on this computer; add the image folders by hand.',
  kohya_not_object: 'A kohya_ss config is a JSON object of settings; this file is not.',
  kohya_lora_type: 'kohya_ss LoRA type "{{type}}" is not supported. Supported: {{supported}}.',
  kohya_out_of_range: 'The kohya_ss config has values out of range: {{fields}}.',
  kohya_not_json: '{{name}} is not a JSON file.',
  // kohya_ss export
  kohya_export_one_dir:
    'kohya_ss takes one {{key}}; the subsets live under {{count}} folders, only {{first}} is exported.',
  kohya_export_repeats:
    'kohya_ss reads repeats from folder names: {{dir}} should be named {{repeats}}_<name> for {{repeats}} repeats.',
  kohya_export_captions:
    "kohya_ss has one set of caption settings for all folders; the first folder's settings are exported.",
  // sd-scripts TOML import
  toml_bad_file: '{{file}} is not a valid TOML file: {{detail}}',
  toml_dataset_missing:
    'config.toml names a dataset config ({{path}}); open it together with config.toml to import the image folders.',
  toml_prompts_missing:
    'config.toml names a prompts file ({{path}}); open it together with config.toml to import the sample prompts.',
  toml_network_unsupported:
    'The network module "{{module}}" is not one SDXL Studio trains (networks.lora, lycoris.kohya with algo locon, loha or lokr).',
  toml_lycoris_locon:
    "LyCORIS LoCon (algo=locon) is imported as LoCon built with sd-scripts' networks.lora: same layers, no extra package.",
  toml_several_datasets: 'The dataset config has {{count}} datasets; only the first one is imported.',
  toml_dataset_key: 'dataset.toml key {{key}} has no setting here and is left out.',
  toml_metadata_subset:
    'Image folder {{n}} is a fine-tuning subset (metadata_file); only folders of images with captions are supported.',
  toml_no_network_module: 'config.toml has network settings but no network_module; it is imported as LoRA.',
  toml_not_imported: 'left out: {{why}}',
  toml_mapped: 'mapped to a setting',
  // what a model file is
  model_desc_sdxl_base: 'An SDXL base checkpoint (U-Net, two text encoders, VAE).',
  model_desc_diffusers: 'A Diffusers model folder.',
  model_desc_hub:
    '"{{path}}" looks like a Hugging Face model id; sd-scripts downloads it at start (needs network access).',
  model_desc_not_safetensors:
    'Not a .safetensors file; its contents cannot be checked before training (a .ckpt file can run code when loaded).',
} as const

export type MessageCode = keyof typeof ISSUE_MESSAGES
export type FixCode = keyof typeof FIX_LABELS
export type NoteCode = keyof typeof NOTE_MESSAGES
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

/** A note: its code, parameters and English text. */
export function note(code: NoteCode, params: Params = {}): { code: string; params: Params; message: string } {
  return { code, params, message: interpolate(NOTE_MESSAGES[code], params) }
}

/** An error whose message is a note: thrown by imports, turned into an API error with its code. */
export class NoteError extends Error {
  readonly code: NoteCode
  readonly params: Params
  constructor(code: NoteCode, params: Params = {}) {
    super(note(code, params).message)
    this.code = code
    this.params = params
  }
}
