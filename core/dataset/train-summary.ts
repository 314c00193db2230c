import type { DatasetProblem, ProblemKind } from '../api/domains/dataset'
import type { TrainingConfig } from '../config/schema'

/**
 * The Train page's view of a dataset scan: which config to scan, and the problems in short.
 */

/**
 * The config to scan for the Train page: its folders that have a path (a folder row the user has just
 * added is still empty), or null when there is none, so nothing is scanned.
 */
export function scanConfigFor(config: TrainingConfig): TrainingConfig | null {
  const subsets = config.dataset.subsets.filter((s) => s.image_dir.trim() !== '')
  if (subsets.length === 0) return null
  return { ...config, dataset: { ...config.dataset, subsets } }
}

/** Problems of one kind, for a short list (the Train page's dataset summary). */
export interface ProblemGroup {
  kind: ProblemKind
  severity: 'error' | 'warning'
  /** How many problems of this kind the scan listed. */
  count: number
  /** The first one, whose parameters fill the sentence (core/api/domains/dataset.ts: DatasetProblem). */
  first: DatasetProblem
}

const ORDER = { error: 0, warning: 1 } as const

/**
 * What stops sd-scripts (errors) and what trains but likely not as meant (warnings), one line per kind:
 * errors first, then the most frequent. Info (worth knowing) stays on the Dataset page.
 */
export function groupProblems(problems: readonly DatasetProblem[]): ProblemGroup[] {
  const groups = new Map<ProblemKind, ProblemGroup>()
  for (const p of problems) {
    if (p.severity === 'info') continue
    const g = groups.get(p.kind)
    if (g) g.count++
    else groups.set(p.kind, { kind: p.kind, severity: p.severity, count: 1, first: p })
  }
  return [...groups.values()].sort(
    (a, b) => ORDER[a.severity] - ORDER[b.severity] || b.count - a.count || a.kind.localeCompare(b.kind),
  )
}
