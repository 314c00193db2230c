import { z } from 'zod'
import { deepMerge, defaultConfig, isPlainObject, TrainingConfig, type TrainingType } from '../config/schema'
import { SD_SCRIPTS_OPTIMIZERS } from '../sdscripts/optimizers'
import { metadataNumber, networkArgs, type LoraInfo, type LoraProblem } from './inspect'

/*
 * A LoRA's training settings, read back from the `ss_*` metadata sd-scripts writes into every network
 * it saves (train_network.py: every value is str()-ed, so "None", "True", "1e-04", "(1024, 1024)").
 * The result is a partial training config (our schema) the Train page can start from, the keys it
 * came from, and a note for what could not be carried over.
 */

export const TrainingFromLora = z.object({
  /** A complete config (defaults where the metadata says nothing), ready to save as a preset. */
  config: TrainingConfig,
  /** Only what the metadata set, as a partial config. */
  partial: z.record(z.string(), z.unknown()),
  /** ss_* keys that were carried over. */
  used: z.array(z.string()),
  notes: z.array(
    z.object({
      code: z.string(),
      params: z.record(z.string(), z.union([z.string(), z.number()])),
      message: z.string(),
    }),
  ),
})
export type TrainingFromLora = z.infer<typeof TrainingFromLora>

const TRAINABLE: readonly TrainingType[] = ['lora', 'locon', 'loha', 'lokr']

function bool(v: string | undefined): boolean | null {
  if (v === undefined) return null
  const t = v.trim().toLowerCase()
  if (t === 'true') return true
  if (t === 'false') return false
  return null
}

function text(v: string | undefined): string | null {
  if (v === undefined) return null
  const t = v.trim()
  return t === '' || t === 'None' ? null : t
}

/** "(1024, 1024)", "[1024, 768]", "1024,768" or "1024" → width and height. */
export function parseResolution(v: string | undefined): { width: number; height: number } | null {
  const t = text(v)
  if (!t) return null
  const nums = t
    .replace(/[()[\]\s]/g, '')
    .split(',')
    .filter(Boolean)
    .map(Number)
  if (nums.length === 0 || nums.length > 2 || nums.some((n) => !Number.isInteger(n) || n <= 0)) return null
  return { width: nums[0] as number, height: (nums[1] ?? nums[0]) as number }
}

/** Splits "a=1,betas=(0.9, 0.99),b=x" at the top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(' || ch === '[' || ch === '{') depth++
    if (ch === ')' || ch === ']' || ch === '}') depth = Math.max(0, depth - 1)
    if (ch === ',' && depth === 0) {
      if (cur.trim()) out.push(cur.trim())
      cur = ''
    } else cur += ch
  }
  if (cur.trim()) out.push(cur.trim())
  return out
}

/**
 * ss_optimizer is the class path plus its arguments: "bitsandbytes.optim.adamw.AdamW8bit(weight_decay=0.01)".
 * The class name becomes sd-scripts' --optimizer_type when it is one of its names; otherwise the
 * dotted path is kept (sd-scripts imports such a path itself).
 */
export function parseOptimizer(v: string | undefined): { type: string; args: string[] } | null {
  const t = text(v)
  if (!t) return null
  const open = t.indexOf('(')
  const path = (open >= 0 ? t.slice(0, open) : t).trim()
  const inner = open >= 0 && t.endsWith(')') ? t.slice(open + 1, -1) : ''
  let args = splitArgs(inner).map((a) => a.replace(/\s*=\s*/, '='))
  const cls = path.split('.').pop() ?? path
  // sd-scripts' own names (not the VRAM model's list, which also names state layouts like CAME).
  const known: readonly string[] = SD_SCRIPTS_OPTIMIZERS
  let type = known.includes(cls) ? cls : path
  if (cls === 'SGD' && args.some((a) => /^nesterov=True$/i.test(a))) {
    type = 'SGDNesterov'
    args = args.filter((a) => !/^nesterov=/i.test(a) && !/^momentum=0\.9$/.test(a))
  } else if (cls === 'SGD8bit') type = 'SGDNesterov8bit'
  if (!/^[A-Za-z_][\w.]*$/.test(type)) return null
  return { type, args }
}

type Setter = [key: string, path: string, read: (v: string | undefined) => unknown]

const num = (v: string | undefined) => metadataNumber(v)
const int = (v: string | undefined) => {
  const n = metadataNumber(v)
  return n !== null && Number.isInteger(n) ? n : null
}
/** ss_text_encoder_lr may be a number or a list ("[1e-05, 1e-05]"): the first value. */
const firstNumber = (v: string | undefined) => {
  const t = text(v)
  if (!t) return null
  return metadataNumber(t.replace(/^\[|\]$/g, '').split(',')[0])
}

const SETTERS: Setter[] = [
  ['ss_network_dim', 'network.dim', int],
  ['ss_network_alpha', 'network.alpha', num],
  ['ss_network_dropout', 'network.dropout', num],
  ['ss_learning_rate', 'optimizer.learning_rate', num],
  ['ss_unet_lr', 'optimizer.unet_lr', num],
  ['ss_text_encoder_lr', 'optimizer.text_encoder_lr', firstNumber],
  ['ss_lr_scheduler', 'optimizer.lr_scheduler', text],
  ['ss_lr_warmup_steps', 'optimizer.lr_warmup_steps', num],
  ['ss_max_grad_norm', 'optimizer.max_grad_norm', num],
  ['ss_num_epochs', 'training.max_train_epochs', int],
  ['ss_max_train_steps', 'training.max_train_steps', int],
  ['ss_batch_size_per_device', 'training.batch_size', int],
  ['ss_gradient_accumulation_steps', 'training.gradient_accumulation_steps', int],
  ['ss_seed', 'training.seed', int],
  ['ss_max_token_length', 'training.max_token_length', int],
  ['ss_mixed_precision', 'memory.mixed_precision', text],
  ['ss_full_fp16', 'memory.full_fp16', bool],
  ['ss_gradient_checkpointing', 'memory.gradient_checkpointing', bool],
  ['ss_cache_latents', 'memory.cache_latents', bool],
  ['ss_fp8_base', 'memory.fp8_base', bool],
  ['ss_lowram', 'memory.lowram', bool],
  ['ss_min_snr_gamma', 'loss.min_snr_gamma', num],
  ['ss_noise_offset', 'loss.noise_offset', num],
  ['ss_multires_noise_iterations', 'loss.multires_noise_iterations', int],
  ['ss_multires_noise_discount', 'loss.multires_noise_discount', num],
  ['ss_loss_type', 'loss.loss_type', text],
  ['ss_huber_c', 'loss.huber_c', num],
  ['ss_prior_loss_weight', 'loss.prior_loss_weight', num],
  ['ss_resolution', 'dataset.resolution', parseResolution],
  ['ss_enable_bucket', 'dataset.enable_bucket', bool],
  ['ss_min_bucket_reso', 'dataset.min_bucket_reso', int],
  ['ss_max_bucket_reso', 'dataset.max_bucket_reso', int],
  ['ss_bucket_no_upscale', 'dataset.bucket_no_upscale', bool],
  ['ss_output_name', 'saving.output_name', text],
  ['ss_training_comment', 'saving.comment', text],
]

function setAt(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.')
  let cur = obj
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(cur[p])) cur[p] = {}
    cur = cur[p] as Record<string, unknown>
  }
  cur[parts[parts.length - 1] as string] = value
}

function deleteAt(obj: Record<string, unknown>, parts: readonly PropertyKey[]): boolean {
  let cur: unknown = obj
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(cur)) return false
    cur = cur[p as string]
  }
  const last = parts[parts.length - 1] as string
  if (!isPlainObject(cur) || !(last in cur)) return false
  delete cur[last]
  return true
}

const note = (code: string, params: Record<string, string | number>, message: string): LoraProblem => ({
  code,
  params,
  message,
})

/** The training settings a LoRA was made with, as a config for the Train page. */
export function trainingFromLora(info: Pick<LoraInfo, 'network' | 'metadata'>): TrainingFromLora {
  const md = info.metadata
  const partial: Record<string, unknown> = {}
  const used: string[] = []
  const notes: LoraProblem[] = []
  const type: TrainingType = (TRAINABLE as readonly string[]).includes(info.network)
    ? (info.network as TrainingType)
    : 'lora'
  if (!(TRAINABLE as readonly string[]).includes(info.network))
    notes.push(
      note(
        'network_not_trainable',
        { network: info.network },
        `This file is a ${info.network} network; the Train page trains LoRA, LoCon, LoHa and LoKr, so LoRA is assumed.`,
      ),
    )
  partial.type = type
  const keyOf = new Map<string, string>()
  for (const [key, p, read] of SETTERS) {
    const v = read(md[key])
    if (v === null || v === undefined) continue
    setAt(partial, p, v)
    keyOf.set(p, key)
    used.push(key)
  }
  const optimizer = parseOptimizer(md.ss_optimizer)
  if (optimizer) {
    setAt(partial, 'optimizer.type', optimizer.type)
    setAt(partial, 'optimizer.args', optimizer.args)
    keyOf.set('optimizer.type', 'ss_optimizer')
    keyOf.set('optimizer.args', 'ss_optimizer')
    used.push('ss_optimizer')
  }
  const args = networkArgs(md)
  const argSetters: Array<[string, string, (v: string | undefined) => unknown]> = [
    ['conv_dim', 'network.conv_dim', int],
    ['conv_alpha', 'network.conv_alpha', num],
    ['factor', 'network.factor', int],
    ['preset', 'network.preset', text],
    ['use_tucker', 'network.use_tucker', bool],
    ['use_cp', 'network.use_tucker', bool],
    ['use_scalar', 'network.use_scalar', bool],
    ['decompose_both', 'network.decompose_both', bool],
    ['rank_dropout', 'network.rank_dropout', num],
    ['module_dropout', 'network.module_dropout', num],
  ]
  let usedArgs = false
  for (const [key, p, read] of argSetters) {
    const v = read(args[key])
    if (v === null || v === undefined) continue
    setAt(partial, p, v)
    keyOf.set(p, 'ss_network_args')
    usedArgs = true
  }
  if (usedArgs) used.push('ss_network_args')
  const model = text(md.ss_sd_model_name)
  if (model)
    notes.push(
      note(
        'base_model_name',
        { name: model },
        `It was trained on ${model} (sd-scripts keeps only the file name); choose that base model on the Train page.`,
      ),
    )
  if (md.ss_dataset_dirs || md.ss_datasets)
    notes.push(
      note(
        'dataset_not_carried',
        {},
        'The image folders are not carried over (the metadata keeps only folder names); choose the dataset on the Train page.',
      ),
    )
  // Values our schema does not accept (an unknown scheduler, a dim above the limit) are dropped, each named.
  let config: TrainingConfig | null = null
  for (let i = 0; i < 50 && !config; i++) {
    const r = TrainingConfig.safeParse(deepMerge(defaultConfig(type), partial))
    if (r.success) {
      config = r.data
      break
    }
    let dropped = false
    for (const issue of r.error.issues) {
      const p = issue.path.join('.')
      const path = [...keyOf.keys()].find((k) => p === k || p.startsWith(`${k}.`))
      if (path && deleteAt(partial, path.split('.'))) {
        dropped = true
        notes.push(
          note(
            'value_dropped',
            { key: keyOf.get(path) as string, value: md[keyOf.get(path) as string] ?? '' },
            `${keyOf.get(path)} = ${md[keyOf.get(path) as string] ?? ''} is not a value the training form takes; the default is kept.`,
          ),
        )
        const k = keyOf.get(path) as string
        keyOf.delete(path)
        if (![...keyOf.values()].includes(k)) used.splice(used.indexOf(k), 1)
      }
    }
    if (!dropped) break
  }
  if (!config) config = defaultConfig(type)
  if (used.length === 0)
    notes.push(
      note(
        'no_training_metadata',
        {},
        'The file has no sd-scripts training metadata (ss_*); only the network type is known.',
      ),
    )
  return { config, partial, used, notes }
}
