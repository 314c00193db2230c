import { z } from 'zod'
import { CaptionOp } from '../../dataset/caption-ops'
import { TrainingConfig, TrainingType } from '../../config/schema'
import { event, request } from '../define'

// The Dataset page, the CLI's `dataset scan` and the Train page's dataset summary (docs/dataset.md).

const Size = z.tuple([z.number(), z.number()])

/** A training config as the dataset requests take it: the training type does not matter to a scan. */
export const ScanConfig = TrainingConfig.extend({ type: TrainingType.default('lora') })

export const PROBLEM_KINDS = [
  // sd-scripts stops, or cannot use the file
  'folder_missing',
  'not_a_folder',
  'no_images',
  'no_train_images',
  'bucket_settings',
  'image_unreadable',
  'image_truncated',
  'image_too_large',
  'bucket_failure',
  'caption_empty_file',
  'caption_not_utf8',
  // trains, but not as the user likely wants
  'caption_missing',
  'caption_blank',
  'caption_multiline',
  'caption_bom',
  'caption_too_long',
  'image_maybe_truncated',
  'image_exif_rotated',
  'image_duplicate',
  'image_upscaled',
  'image_below_min_bucket',
  'image_heavy_crop',
  'bucket_smaller_than_batch',
  'subset_duplicate',
  'reg_excess',
  'reg_short',
  // worth knowing
  'caption_orphan',
  'file_not_read',
  'webp_size_read_smaller',
  'bucket_reso_adjusted',
] as const
export const ProblemKind = z.enum(PROBLEM_KINDS)
export type ProblemKind = z.infer<typeof ProblemKind>

export const DatasetProblem = z.object({
  kind: ProblemKind,
  /** error: sd-scripts stops (or skips the file); warning: it trains, likely not as meant; info. */
  severity: z.enum(['error', 'warning', 'info']),
  /** The file (image or caption) or folder it is about; null for the dataset as a whole. */
  file: z.string().nullable(),
  subset: z.number().nullable(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
})
export type DatasetProblem = z.infer<typeof DatasetProblem>

export const SubsetScan = z.object({
  image_dir: z.string(),
  is_reg: z.boolean(),
  num_repeats: z.number(),
  class_tokens: z.string().nullable(),
  caption_extension: z.string(),
  state: z.enum(['ok', 'missing', 'not_a_folder']),
  /** null: used; otherwise why sd-scripts ignores the folder. */
  ignored: z.enum(['no_images', 'duplicate']).nullable(),
  images: z.number(),
  formats: z.record(z.string(), z.number()),
  captioned: z.number(),
  missing_captions: z.number(),
  empty_captions: z.number(),
  orphan_captions: z.number(),
  unreadable: z.number(),
  duplicates: z.number(),
  rotated: z.number(),
  below_range: z.number(),
  smallest: z.object({ width: z.number(), height: z.number(), file: z.string() }).nullable(),
  largest: z.object({ width: z.number(), height: z.number(), file: z.string() }).nullable(),
  /** Images by shorter side: [label lower bound in px, count]. */
  size_histogram: z.array(z.object({ from: z.number(), to: z.number().nullable(), count: z.number() })),
  tags: z.array(z.object({ tag: z.string(), count: z.number() })),
  distinct_tags: z.number(),
  tokens: z.object({ max: z.number(), mean: z.number(), over_limit: z.number(), limit: z.number() }),
  images_with_repeats: z.number(),
  /** Reg folders: images seen per epoch after balancing (0 when not used). */
  used_with_repeats: z.number(),
})
export type SubsetScan = z.infer<typeof SubsetScan>

export const BucketScan = z.object({
  width: z.number(),
  height: z.number(),
  /** Images in the bucket counting repeats (and balanced reg images). */
  count: z.number(),
  images: z.number(),
  batches: z.number(),
  /** Fewer images than the batch size: its one batch is partly empty. */
  under_batch: z.boolean(),
  /** Images in this bucket that lose more than 10% to the crop. */
  heavy_crop: z.number(),
})

export const DatasetScan = z.object({
  settings: z.object({
    resolution: Size,
    enable_bucket: z.boolean(),
    min_bucket_reso: z.number(),
    max_bucket_reso: z.number(),
    bucket_reso_steps: z.number(),
    bucket_no_upscale: z.boolean(),
    batch_size: z.number(),
    gradient_accumulation_steps: z.number(),
    num_processes: z.number(),
    max_train_epochs: z.number().nullable(),
    max_train_steps: z.number().nullable(),
    max_token_length: z.number(),
  }),
  subsets: z.array(SubsetScan),
  images: z.number(),
  captioned: z.number(),
  buckets: z.array(BucketScan),
  train_images_with_repeats: z.number(),
  reg_images_with_repeats: z.number(),
  reg_images_used: z.number(),
  batches_per_epoch: z.number(),
  steps_per_epoch: z.number(),
  total_steps: z.number(),
  epochs: z.number(),
  /** The largest bucket's width × height: what activation memory depends on (VRAM gauge). */
  largest_bucket_area: z.number(),
  largest_bucket: Size.nullable(),
  mean_ar_error: z.number(),
  balance: z.enum(['no_reg', 'balanced', 'reg_short', 'reg_excess']),
  problems: z.array(DatasetProblem),
  /** Problems left out of `problems` (at most 5000 are listed). */
  problems_omitted: z.number(),
  /** How caption tokens were counted: CLIP's tokenizer, or an estimate without its vocabulary. */
  tokenizer: z.enum(['clip', 'estimate']),
  scanned_ms: z.number(),
  /** Files whose facts came from the cache (unchanged size and modification time). */
  cached_files: z.number(),
})
export type DatasetScan = z.infer<typeof DatasetScan>

export const DatasetImage = z.object({
  name: z.string(),
  path: z.string(),
  width: z.number(),
  height: z.number(),
  format: z.string().nullable(),
  caption_file: z.string().nullable(),
  /** The caption file's text as the editor shows it (null: no caption file). */
  caption: z.string().nullable(),
  tokens: z.number().nullable(),
  bucket: Size.nullable(),
  problems: z.array(ProblemKind),
})
export type DatasetImage = z.infer<typeof DatasetImage>

export const CaptionWrite = z.object({
  image: z.string().min(1),
  /** The text the editor loaded (null: there was no caption file); a different file on disk is a conflict. */
  expected: z.string().nullable(),
  text: z.string().max(20_000),
})

export const CaptionChange = z.object({
  image: z.string(),
  caption_file: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
})

export const CaptionHistoryEntry = z.object({
  id: z.string(),
  at: z.number(),
  label: z.string(),
  files: z.number(),
  undone: z.boolean(),
})

export const TaggerOptions = z.object({
  dir: z.string().min(1),
  /** Hugging Face repository of a WD14 tagger with model.onnx and selected_tags.csv. */
  repo_id: z
    .string()
    .trim()
    .regex(/^[\w.-]+\/[\w.-]+(\/[\w.-]+)*$/, 'A Hugging Face repository: owner/name')
    .refine(
      (r) => r.split('/').every((part) => part !== '.' && part !== '..'),
      'A Hugging Face repository: owner/name',
    )
    .default('SmilingWolf/wd-v1-4-convnext-tagger-v2'),
  threshold: z.number().min(0.01).max(1).default(0.35),
  /** missing: tag only images without a caption; append: add new tags to existing captions; overwrite. */
  mode: z.enum(['missing', 'append', 'overwrite']).default('missing'),
  caption_extension: z
    .string()
    .regex(/^\.[\w.-]{1,20}$/)
    .default('.txt'),
  batch_size: z.number().int().min(1).max(64).default(4),
  /** Tags left out (comma-separated), e.g. "solo, simple background". */
  undesired_tags: z.string().max(2000).default(''),
  remove_underscore: z.boolean().default(true),
})

export const TaggerCheck = z.object({
  ready: z.boolean(),
  environment: z.string().nullable(),
  python: z.string().nullable(),
  script: z.string().nullable(),
  /** Python packages the script needs that the environment lacks (onnx, onnxruntime). */
  missing: z.array(z.string()),
  hf_endpoint: z.string().nullable(),
  problem: z.string().nullable(),
  /** What is wrong, for the UI to say in the user's language: no environment, a broken one, no script. */
  problem_kind: z.enum(['no_environment', 'environment_broken', 'no_script']).nullable(),
})

export const TaggerProgress = z.object({
  job: z.string(),
  phase: z.enum(['installing', 'downloading', 'tagging', 'writing', 'done', 'failed', 'cancelled']),
  done: z.number(),
  total: z.number().nullable(),
  /** The last line the script printed. */
  line: z.string(),
  written: z.number(),
  error: z.string().nullable(),
  /** Undo id of the caption write (when captions were written). */
  history_id: z.string().nullable(),
})
export type TaggerProgress = z.infer<typeof TaggerProgress>

const dirInput = {
  dir: z.string().min(1),
  caption_extension: z
    .string()
    .regex(/^\.[\w.-]{1,20}$/)
    .default('.txt'),
}

export const requests = {
  'dataset.scan': request(
    z.object({ config: ScanConfig }).strict(),
    DatasetScan,
    'Scan every image folder of a config: images, captions, problems, buckets and steps as sd-scripts computes them',
  ),
  'dataset.images': request(
    z
      .object({
        ...dirInput,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(60),
        /** Only images whose caption or file name contains this text. */
        query: z.string().max(500).default(''),
        /** Only images with this problem. */
        problem: ProblemKind.optional(),
        config: ScanConfig.optional(),
      })
      .strict(),
    z.object({
      total: z.number(),
      items: z.array(DatasetImage),
      tokenizer: z.enum(['clip', 'estimate']),
      max_tokens: z.number(),
    }),
    "One page of a folder's images with their captions, for the caption editor",
  ),
  'dataset.thumbnails': request(
    z
      .object({
        paths: z.array(z.string().min(1)).min(1).max(60),
        size: z.number().int().min(32).max(256).default(160),
      })
      .strict(),
    z.object({
      items: z.array(
        z.object({
          path: z.string(),
          mime: z.string().nullable(),
          data: z.string().nullable(),
          error: z.string().nullable(),
        }),
      ),
    }),
    'Small JPEG previews of images (base64), cached',
  ),
  'dataset.captions.write': request(
    z
      .object({
        ...dirInput,
        writes: z.array(CaptionWrite).min(1).max(10_000),
        label: z.string().max(200).default('Edit'),
      })
      .strict(),
    z.object({
      history_id: z.string().nullable(),
      written: z.number(),
      conflicts: z.array(z.object({ image: z.string(), current: z.string().nullable() })),
    }),
    'Write captions atomically (the previous text is kept for undo); files changed on disk since loading are refused',
  ),
  'dataset.captions.apply': request(
    z.object({ ...dirInput, op: CaptionOp, preview: z.boolean().default(false) }).strict(),
    z.object({
      history_id: z.string().nullable(),
      changed: z.number(),
      examples: z.array(CaptionChange),
    }),
    'Apply one edit (replace, add/remove tag, trigger word first) to every caption of a folder, or preview it',
  ),
  'dataset.captions.history': request(
    z.object({ dir: z.string().min(1) }).strict(),
    z.array(CaptionHistoryEntry),
    'Caption changes made in the app for a folder, newest first',
  ),
  'dataset.captions.undo': request(
    z.object({ dir: z.string().min(1), id: z.string().min(1) }).strict(),
    z.object({
      restored: z.number(),
      skipped: z.array(
        z.object({ caption_file: z.string(), reason: z.enum(['changed_since', 'unreadable']) }),
      ),
    }),
    'Put back the captions one change replaced (files edited since are left alone and listed)',
  ),
  'dataset.tagger.check': request(
    z.object({}).strict(),
    TaggerCheck,
    'Can the active environment run the WD14 tagger?',
  ),
  'dataset.tagger.start': request(
    TaggerOptions.strict(),
    z.object({ job: z.string() }),
    'Tag a folder with WD14 (installs onnx/onnxruntime into the environment first if missing)',
  ),
  'dataset.tagger.cancel': request(
    z.object({ job: z.string() }).strict(),
    z.object({ cancelled: z.boolean() }),
    'Stop a tagging job',
  ),
}

export const events = {
  'dataset.tagger.progress': event(
    z.object({ job: z.string() }).strict(),
    TaggerProgress,
    'Progress of a tagging job, until it ends',
  ),
}
