import table from './args-v0.10.1.json' with { type: 'json' }

/**
 * The options of sd-scripts v0.10.1's two SDXL scripts, derived from their argument parsers
 * (names, value kinds, defaults, choices). Ground truth for what may appear in a --config_file TOML.
 */

export type ScriptKey = 'sdxl_train' | 'sdxl_train_network'
export type OptionKind = 'flag' | 'str' | 'int' | 'float' | 'int_or_float' | 'str[]' | 'float[]'

export interface OptionInfo {
  kind: OptionKind
  default?: unknown
  choices?: unknown[]
}

const scripts = table.scripts as unknown as Record<ScriptKey, Record<string, OptionInfo>>

export const SCRIPT_FILE: Record<ScriptKey, string> = {
  sdxl_train: 'sdxl_train.py',
  sdxl_train_network: 'sdxl_train_network.py',
}

export function optionInfo(script: ScriptKey, name: string): OptionInfo | undefined {
  return Object.prototype.hasOwnProperty.call(scripts[script], name) ? scripts[script][name] : undefined
}

export function optionNames(script: ScriptKey): string[] {
  return Object.keys(scripts[script])
}

/**
 * argparse accepts unambiguous prefixes; we never emit them, and refuse them in raw arguments.
 * Returns the full names an abbreviation would expand to.
 */
export function expansionsOf(script: ScriptKey, prefix: string): string[] {
  return optionNames(script).filter((n) => n.startsWith(prefix) && n !== prefix)
}
