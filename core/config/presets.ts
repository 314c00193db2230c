import { z } from 'zod'
import { deepMerge, TrainingConfig, TrainingType, type TrainingConfigInput } from './schema'
import dreambooth12gb from '../../presets/builtin/dreambooth-12gb.json' with { type: 'json' }
import dreambooth16gb from '../../presets/builtin/dreambooth-16gb.json' with { type: 'json' }
import dreambooth24gb from '../../presets/builtin/dreambooth-24gb.json' with { type: 'json' }
import locon12gb from '../../presets/builtin/locon-12gb.json' with { type: 'json' }
import locon24gb from '../../presets/builtin/locon-24gb.json' with { type: 'json' }
import locon8gb from '../../presets/builtin/locon-8gb.json' with { type: 'json' }
import loha12gb from '../../presets/builtin/loha-12gb.json' with { type: 'json' }
import loha24gb from '../../presets/builtin/loha-24gb.json' with { type: 'json' }
import lokr12gb from '../../presets/builtin/lokr-12gb.json' with { type: 'json' }
import lokr24gb from '../../presets/builtin/lokr-24gb.json' with { type: 'json' }
import lora12gb from '../../presets/builtin/lora-12gb.json' with { type: 'json' }
import lora16gb from '../../presets/builtin/lora-16gb.json' with { type: 'json' }
import lora24gb from '../../presets/builtin/lora-24gb.json' with { type: 'json' }
import lora8gb from '../../presets/builtin/lora-8gb.json' with { type: 'json' }

/**
 * Presets: data in presets/builtin/*.json (one file each, reviewed by hand), a sparse overlay on the
 * config defaults with a rationale and the VRAM tier it targets. User presets use the same shape and
 * live in the app data folder (electron/services/configs/presets-store.ts).
 */

export const PresetMeta = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,80}$/, 'Preset ids are lower-case letters, digits and dashes'),
  name: z.string().min(1).max(120),
  type: TrainingType,
  /** The GPU memory this preset is made to fit, in GB; null for user presets that do not say. */
  vram_tier_gb: z.number().int().positive().nullable(),
  rationale: z.string().default(''),
})

export const PresetFile = PresetMeta.extend({
  /** A partial config; missing fields take the schema defaults. */
  config: z.record(z.string(), z.unknown()),
})
export type PresetFile = z.infer<typeof PresetFile>

export interface Preset extends z.infer<typeof PresetMeta> {
  builtin: boolean
  config: TrainingConfig
}

const BUILTIN_FILES: unknown[] = [
  dreambooth12gb,
  dreambooth16gb,
  dreambooth24gb,
  locon12gb,
  locon24gb,
  locon8gb,
  loha12gb,
  loha24gb,
  lokr12gb,
  lokr24gb,
  lora12gb,
  lora16gb,
  lora24gb,
  lora8gb,
]

/** Turns a preset file into a full preset; throws with the preset id when the data is wrong. */
export function presetFromFile(raw: unknown, builtin: boolean): Preset {
  const file = PresetFile.parse(raw)
  const parsed = TrainingConfig.safeParse(
    deepMerge<TrainingConfigInput>({ type: file.type }, { ...file.config, type: file.type }),
  )
  if (!parsed.success) throw new Error(`Preset ${file.id} has an invalid config: ${parsed.error.message}`)
  return {
    id: file.id,
    name: file.name,
    type: file.type,
    vram_tier_gb: file.vram_tier_gb,
    rationale: file.rationale,
    builtin,
    config: parsed.data,
  }
}

const TYPE_ORDER = ['lora', 'locon', 'loha', 'lokr', 'dreambooth']

export const BUILTIN_PRESETS: Preset[] = BUILTIN_FILES.map((f) => presetFromFile(f, true)).sort(
  (a, b) =>
    TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) || (a.vram_tier_gb ?? 0) - (b.vram_tier_gb ?? 0),
)

export function builtinPreset(id: string): Preset | undefined {
  return BUILTIN_PRESETS.find((p) => p.id === id)
}

/** Marked placeholder paths for a preset exported without a model or dataset. */
/** A preset's marked placeholder ("<<SET: …>>") that the user still has to replace. */
export function isPlaceholder(value: string): boolean {
  return /^<<SET: [^>]*>>$/.test(value)
}

export const PLACEHOLDERS = {
  base_model: '<<SET: path to the SDXL base model (.safetensors)>>',
  image_dir: '<<SET: folder with the training images>>',
  output_dir: '<<SET: output folder>>',
} as const

/** Fills missing paths with clearly marked placeholders, so the files show where to edit. */
export function withPlaceholders(config: TrainingConfig): TrainingConfig {
  return TrainingConfig.parse({
    ...config,
    base_model: config.base_model || PLACEHOLDERS.base_model,
    dataset: {
      ...config.dataset,
      subsets: config.dataset.subsets.length
        ? config.dataset.subsets
        : [{ image_dir: PLACEHOLDERS.image_dir, num_repeats: 10, class_tokens: 'sks person' }],
    },
    saving: { ...config.saving, output_dir: config.saving.output_dir || PLACEHOLDERS.output_dir },
  })
}
