import { z } from 'zod'
import { setPath } from './set-path'
import { defaultConfig, isPlainObject, TRAINING_TYPES, TrainingConfig, type TrainingType } from './schema'

/**
 * The Train page's unsaved work, kept on disk so a reload, a crash or a restart never loses it: the
 * config, what the user typed into fields that did not (yet) read as a valid value, and whether they
 * touched the form. Stored by the configs service (draft.get / draft.save).
 */
export const TrainDraft = z.object({
  version: z.literal(1).default(1),
  /** The config as the form holds it; read back with repairConfig (never trusted to be valid). */
  config: z.unknown(),
  /** Typed text by field path, e.g. {"training.batch_size": "1.5"}. */
  texts: z.record(z.string().max(300), z.string().max(20_000)).default({}),
  touched: z.boolean().default(false),
  preset_id: z.string().max(200).nullable().default(null),
})
export type TrainDraft = z.infer<typeof TrainDraft>

/** A draft file is small; this bounds what one save may write (10,000-character fields included). */
export const MAX_DRAFT_BYTES = 2_000_000

/**
 * Reads anything that was once a config into a valid one, keeping every field that is still valid:
 * fields the schema rejects are dropped (back to their defaults) one by one, and named in `dropped`.
 */
export function repairConfig(input: unknown): { config: TrainingConfig; dropped: string[] } {
  const dropped: string[] = []
  let current: unknown = isPlainObject(input) ? input : {}
  const type = (isPlainObject(current) ? current.type : undefined) as TrainingType | undefined
  if (!TRAINING_TYPES.includes(type as TrainingType)) {
    if (type !== undefined) dropped.push('type')
    current = { ...(current as object), type: 'lora' }
  }
  for (let round = 0; round < 200; round++) {
    const r = TrainingConfig.safeParse(current)
    if (r.success) return { config: r.data, dropped }
    const issue = r.error.issues[0]
    if (!issue || issue.path.length === 0) break
    const path = issue.path.map(String).join('.')
    dropped.push(path)
    current = setPath(current, path, undefined)
  }
  return { config: defaultConfig(type && TRAINING_TYPES.includes(type) ? type : 'lora'), dropped: ['*'] }
}
