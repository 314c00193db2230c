/**
 * What sd-scripts v0.10.1 accepts as --optimizer_type (library/train_util.py get_optimizer; sd-scripts.md
 * §2.3): its own names, matched case-insensitively; otherwise a torch.optim class name (case-sensitive),
 * or a dotted class path, which sd-scripts imports (so it runs that module's code).
 */

/** sd-scripts' own optimizer names, in the order the form offers them. */
export const SD_SCRIPTS_OPTIMIZERS = [
  'AdamW8bit',
  'AdamW',
  'Adafactor',
  'Prodigy',
  'PagedAdamW8bit',
  'PagedAdamW',
  'PagedAdamW32bit',
  'Lion',
  'Lion8bit',
  'PagedLion8bit',
  'SGDNesterov',
  'SGDNesterov8bit',
  'DAdaptation',
  'DAdaptAdaGrad',
  'DAdaptAdam',
  'DAdaptAdan',
  'DAdaptAdanIP',
  'DAdaptLion',
  'DAdaptSGD',
  'AdamWScheduleFree',
  'RAdamScheduleFree',
  'SGDScheduleFree',
] as const

/** torch.optim classes (torch 2.6+), which sd-scripts looks up by exact name when it has no own match. */
export const TORCH_OPTIMIZERS = [
  'Adadelta',
  'Adafactor',
  'Adagrad',
  'Adam',
  'AdamW',
  'Adamax',
  'ASGD',
  'LBFGS',
  'NAdam',
  'RAdam',
  'RMSprop',
  'Rprop',
  'SGD',
  'SparseAdam',
] as const

/** The sd-scripts name a typed name selects (case-insensitive), or null. */
export function builtinOptimizer(name: string): string | null {
  const lower = name.trim().toLowerCase()
  if (lower === 'dadaptadampreprint') return 'DAdaptation'
  return SD_SCRIPTS_OPTIMIZERS.find((o) => o.toLowerCase() === lower) ?? null
}

/** A dotted class path (module.Class): sd-scripts imports the module, i.e. runs its code. */
export function isOptimizerClassPath(name: string): boolean {
  return /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/.test(name.trim())
}

export type OptimizerKind = 'builtin' | 'torch' | 'class_path' | 'unknown'

/** How sd-scripts would resolve an --optimizer_type value. */
export function optimizerKind(name: string): OptimizerKind {
  if (builtinOptimizer(name)) return 'builtin'
  if ((TORCH_OPTIMIZERS as readonly string[]).includes(name.trim())) return 'torch'
  if (isOptimizerClassPath(name)) return 'class_path'
  return 'unknown'
}
