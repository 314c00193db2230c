import { z } from 'zod'
import { TrainDraft } from '../../config/draft'
import { ExtraCandidate } from '../../config/extras'
import { TrainingConfig, TrainingType } from '../../config/schema'
import { request } from '../define'

// Requests and events of this domain are added here; core/api/contract.ts merges every domain.

export const PresetSummary = z.object({
  id: z.string(),
  name: z.string(),
  type: TrainingType,
  vram_tier_gb: z.number().nullable(),
  rationale: z.string(),
  builtin: z.boolean(),
})
export type PresetSummary = z.infer<typeof PresetSummary>

export const PresetDetail = PresetSummary.extend({ config: TrainingConfig })
export type PresetDetail = z.infer<typeof PresetDetail>

export const FixOp = z.object({ path: z.string().min(1), value: z.unknown().optional() })
const Params = z.record(z.string(), z.union([z.string(), z.number()]))
/** `code`/`params` name the text in core/sdscripts/messages.ts, so the UI can translate it. */
export const Fix = z.object({
  label: z.string(),
  code: z.string().optional(),
  params: Params.optional(),
  set: z.array(FixOp),
})

export const Issue = z.object({
  rule: z.string(),
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
  code: z.string().optional(),
  params: Params.optional(),
  field: z.string().optional(),
  fix: Fix.optional(),
})
export type Issue = z.infer<typeof Issue>

export const ModelInspection = z.object({
  path: z.string(),
  exists: z.boolean(),
  format: z.enum(['file', 'diffusers', 'hub', 'missing', 'other']),
  kind: z
    .enum(['sdxl_base', 'sdxl_refiner', 'sd1', 'sd2', 'lora', 'lycoris', 'vae', 'unet_only', 'unknown'])
    .nullable(),
  sizeBytes: z.number().nullable(),
  problem: z.string().nullable(),
  problem_code: z.string().nullable().optional(),
  problem_params: Params.nullable().optional(),
  description: z.string(),
  /** The description's code and parameters (notes.* in train.json), for the UI's language. */
  description_code: z.string().nullable().optional(),
  description_params: Params.nullable().optional(),
})
export type ModelInspection = z.infer<typeof ModelInspection>

export const SubsetInspection = z.object({
  path: z.string(),
  exists: z.boolean(),
  images: z.number(),
  captioned: z.number(),
  missingCaptionExamples: z.array(z.string()),
  fromName: z.object({ num_repeats: z.number(), class_tokens: z.string() }).nullable(),
  problem: z.string().nullable(),
  problem_code: z.string().nullable().optional(),
  num_repeats: z.number(),
  is_reg: z.boolean(),
  images_with_repeats: z.number(),
})

export const StepsEstimate = z.object({
  train_images_with_repeats: z.number(),
  reg_images_with_repeats: z.number(),
  images_per_epoch: z.number(),
  batches_per_epoch: z.number(),
  steps_per_epoch: z.number(),
  total_steps: z.number(),
  epochs: z.number(),
  approximate: z.literal(true),
})

export const DatasetSummary = z.object({
  subsets: z.array(SubsetInspection),
  steps: StepsEstimate,
  /** How the step count is approximated. */
  note: z.string(),
})
export type DatasetSummary = z.infer<typeof DatasetSummary>

export const OutputCheck = z.object({
  path: z.string(),
  writable: z.boolean(),
  freeBytes: z.number().nullable(),
  problem: z.string().nullable(),
  problem_code: z.string().nullable().optional(),
  problem_params: Params.nullable().optional(),
})

export const ValidationResult = z.object({
  valid: z.boolean(),
  issues: z.array(Issue),
  /** The parsed config (defaults filled in) when the input was a config at all. */
  config: TrainingConfig.nullable(),
  model: ModelInspection.nullable(),
  dataset: DatasetSummary.nullable(),
  output: OutputCheck.nullable(),
})
export type ValidationResult = z.infer<typeof ValidationResult>

export const RenderResult = z.object({
  script: z.string(),
  files: z.record(z.string(), z.string()),
  argv: z.array(z.string()),
  display: z.string(),
})
export type RenderResult = z.infer<typeof RenderResult>

export const KeyReport = z.object({
  key: z.string(),
  /** offered: an sd-scripts option without a field here, listed in `extras` for the user to accept. */
  status: z.enum(['mapped', 'empty', 'ignored', 'unmapped', 'offered']),
  note: z.string().optional(),
  code: z.string().optional(),
  params: Params.optional(),
})

/** A message with its code (notes.* in train.json), parameters and English text. */
export const CodedNote = z.object({ code: z.string(), params: Params, message: z.string() })
export type CodedNote = z.infer<typeof CodedNote>

export const KohyaImportResult = z.object({
  config: TrainingConfig,
  keys: z.array(KeyReport),
  unmapped: z.array(z.string()),
  warnings: z.array(CodedNote),
  /** Options found that are not our settings: none is in `config` until accepted (core/config/extras.ts). */
  extras: z.array(ExtraCandidate),
})
export type KohyaImportResult = z.infer<typeof KohyaImportResult>

const presetName = z.string().trim().min(1).max(120)

export const requests = {
  'presets.list': request(z.object({}).strict(), z.array(PresetSummary), 'Built-in and user presets'),
  'presets.get': request(
    z.object({ id: z.string() }).strict(),
    PresetDetail,
    'One preset with its full config',
  ),
  'presets.save': request(
    z
      .object({
        /** Overwrites this user preset; without it a new one is made. */
        id: z.string().optional(),
        name: presetName,
        config: TrainingConfig,
        vram_tier_gb: z.number().int().positive().nullable().optional(),
        rationale: z.string().max(2000).optional(),
      })
      .strict(),
    PresetSummary,
    'Save the current config as a user preset',
  ),
  'presets.rename': request(
    z.object({ id: z.string(), name: presetName }).strict(),
    PresetSummary,
    'Rename a user preset',
  ),
  'presets.delete': request(
    z.object({ id: z.string() }).strict(),
    z.object({ deleted: z.string() }),
    'Delete a user preset',
  ),
  'presets.duplicate': request(
    z.object({ id: z.string(), name: presetName.optional() }).strict(),
    PresetSummary,
    'Copy any preset (built-in or user) into a new user preset',
  ),
  'config.validate': request(
    z
      .object({
        config: z.unknown(),
        /** Also check the model file, dataset folders and output folder (default true). */
        checkFiles: z.boolean().default(true),
        /** Installed Python packages of the training environment, when known. */
        packages: z.array(z.string()).optional(),
      })
      .strict(),
    ValidationResult,
    'Check a config before launch: rules, model file, dataset, output folder',
  ),
  'config.applyFix': request(
    z.object({ config: TrainingConfig, fix: Fix }).strict(),
    TrainingConfig,
    'Apply a fix offered by validation',
  ),
  'config.render': request(
    z
      .object({
        config: TrainingConfig,
        filesDir: z.string().min(1),
        sdScriptsDir: z.string().min(1),
        flavor: z.enum(['windows', 'posix']).optional(),
        accelerate: z.string().optional(),
      })
      .strict(),
    RenderResult,
    'The sd-scripts files and the exact command line for a config',
  ),
  'config.importKohya': request(
    z.object({ json: z.unknown() }).strict(),
    KohyaImportResult,
    'Import a kohya_ss GUI config (reports keys it could not map)',
  ),
  'config.exportKohya': request(
    z.object({ config: TrainingConfig }).strict(),
    z.object({ json: z.record(z.string(), z.unknown()), warnings: z.array(CodedNote) }),
    'Export a config in the kohya_ss GUI JSON format',
  ),
  'config.importToml': request(
    z
      .object({
        /** The --config_file TOML text. */
        config: z.string().max(2_000_000),
        /** The --dataset_config TOML text, when the user has it. */
        dataset: z.string().max(2_000_000).optional(),
        /** The sample prompts file (--sample_prompts), when the user has it. */
        prompts: z.string().max(2_000_000).optional(),
      })
      .strict(),
    KohyaImportResult,
    "Open sd-scripts' config.toml (+ dataset.toml, prompts) as a config; reports every key",
  ),
  'dataset.inspect': request(
    z.object({ config: TrainingConfig }).strict(),
    DatasetSummary,
    'Count images and captions per folder; steps per epoch and total',
  ),
  'paths.browse': request(
    z
      .object({ path: z.string().optional(), mode: z.enum(['folders', 'models']).default('folders') })
      .strict(),
    z.object({
      path: z.string(),
      parent: z.string().nullable(),
      entries: z.array(
        z.object({
          name: z.string(),
          path: z.string(),
          kind: z.enum(['dir', 'file']),
          size: z.number().nullable(),
        }),
      ),
      images: z.number(),
      roots: z.array(z.string()),
    }),
    'List one folder (sub-folders, and model files in models mode) for the path pickers',
  ),
  'paths.pick': request(
    z
      .object({
        kind: z.enum(['file', 'folder']),
        title: z.string().max(200).optional(),
        /** File kinds offered in file mode, e.g. { name: 'Models', extensions: ['safetensors'] }. */
        filters: z
          .array(
            z.object({
              name: z.string().min(1).max(100),
              extensions: z.array(z.string().regex(/^[A-Za-z0-9*]+$/)).min(1),
            }),
          )
          .max(10)
          .optional(),
        defaultPath: z.string().optional(),
      })
      .strict(),
    /** null when the user cancelled. */
    z.object({ path: z.string().nullable() }),
    'Pick a file or folder with the native dialog (desktop app only; headless answers unavailable)',
  ),
  'draft.get': request(
    z.object({}).strict(),
    z.object({ draft: TrainDraft.nullable(), saved_at: z.string().nullable() }),
    "The Train page's unsaved form (null when there is none)",
  ),
  'draft.save': request(
    z.object({ draft: TrainDraft }).strict(),
    z.object({ saved_at: z.string() }),
    "Keep the Train page's unsaved form on disk (replaced atomically)",
  ),
  'draft.clear': request(z.object({}).strict(), z.object({ cleared: z.boolean() }), 'Forget the saved draft'),
  'model.inspect': request(
    z.object({ path: z.string().min(1) }).strict(),
    ModelInspection,
    'Is this file an SDXL base model?',
  ),
}

export const events = {}
