import { z } from 'zod'
import { ExtraArgValue, TrainingConfig, type TrainingConfig as Config } from './schema'
import { setPath } from './set-path'

/**
 * Options an import found that are not one of our mapped settings (a kohya_ss "additional
 * parameters" box, an sd-scripts TOML key we have no field for, an optimizer given as a class path).
 * None becomes part of the config until the user accepts it by name; options that write files or load
 * code are marked, so they are shown with their value and never accepted in bulk.
 */

export const ExtraRisk = z.enum(['option', 'path', 'writes_file', 'loads_code'])
export type ExtraRisk = z.infer<typeof ExtraRisk>

export const ExtraCandidate = z.object({
  /** The sd-scripts option name (what the user accepts). */
  name: z.string(),
  value: ExtraArgValue,
  risk: ExtraRisk,
  /** Where it goes when accepted: an extra option, or a config field (the optimizer class path). */
  target: z.object({ path: z.string(), value: z.unknown() }),
  /** Where the import found it (a kohya_ss key, a TOML key). */
  source: z.string(),
})
export type ExtraCandidate = z.infer<typeof ExtraCandidate>

/** Options that make sd-scripts write a file (outside the run's own output). */
const WRITES_FILE = new Set(['console_log_file', 'output_config', 'save_state_to_huggingface'])

/**
 * Options that make sd-scripts import a Python module, or load a file with pickle (torch.load runs
 * code from .pt/.ckpt/.bin files and from saved states).
 */
const LOADS_CODE = new Set([
  'network_module',
  'optimizer_type',
  'lr_scheduler_type',
  'resume',
  'network_weights',
  'base_weights',
  'dim_from_weights',
  'log_tracker_config',
  'wandb_api_key',
  'huggingface_token',
])

const PATHLIKE_NAME = /(_dir|_path|_file|_files|_weights|_config|_json|_metadata|_name_or_path)$|^vae$/
const PATHLIKE_VALUE = /[\\/]|^~|\.(toml|json|txt|safetensors|ckpt|pt|pth|bin|py|npz|yaml|yml)$/i

/** How dangerous an option is to accept without looking at it. */
export function optionRisk(name: string, value: ExtraArgValue): ExtraRisk {
  if (WRITES_FILE.has(name)) return 'writes_file'
  if (LOADS_CODE.has(name)) return 'loads_code'
  const values = Array.isArray(value) ? value : [value]
  if (PATHLIKE_NAME.test(name) || values.some((v) => typeof v === 'string' && PATHLIKE_VALUE.test(v)))
    return 'path'
  return 'option'
}

/** An option found by an import, as a candidate extra option. */
export function extraCandidate(name: string, value: ExtraArgValue, source: string): ExtraCandidate {
  return { name, value, risk: optionRisk(name, value), target: { path: `extra_args.${name}`, value }, source }
}

/** Options a plain "accept all" may take: never those that write files, load code or name paths. */
export function isPlainOption(c: ExtraCandidate): boolean {
  return c.risk === 'option'
}

/**
 * Applies the accepted candidates (by name) to the config. `acceptAllPlain` accepts every plain option
 * as well; risky ones still need their name. Names given that match no candidate are returned, so a
 * caller can tell the user about a typo.
 */
export function acceptExtras(
  config: Config,
  candidates: readonly ExtraCandidate[],
  accept: { names?: readonly string[]; allPlain?: boolean },
): { config: Config; accepted: string[]; unknown: string[] } {
  const names = new Set(accept.names ?? [])
  let next: unknown = config
  const accepted: string[] = []
  for (const c of candidates) {
    if (!names.has(c.name) && !(accept.allPlain && isPlainOption(c))) continue
    // Option names become keys of extra_args; a dotted name would be read as a path.
    if (c.target.path.startsWith('extra_args.'))
      next = { ...(next as Config), extra_args: { ...(next as Config).extra_args, [c.name]: c.value } }
    else next = setPath(next, c.target.path, c.target.value)
    accepted.push(c.name)
  }
  const known = new Set(candidates.map((c) => c.name))
  return {
    config: TrainingConfig.parse(next),
    accepted,
    unknown: [...names].filter((n) => !known.has(n)),
  }
}
