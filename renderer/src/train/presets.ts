import type { PresetSummary } from '../../../core/api/domains/configs'
import type { TrainingType } from '../../../core/config/schema'

/**
 * Does a preset made for `tier` GB fit a card that reports `gpuMib`? Cards are sold in GB but report a
 * little less (an "8 GB" RTX 2080 reports 7979 MiB), so 5 % below the nominal size still counts.
 */
export function presetFits(tierGb: number, gpuMib: number): boolean {
  return tierGb * 1024 * 0.95 <= gpuMib
}

export interface PresetGroups {
  fit: PresetSummary[]
  larger: PresetSummary[]
  user: PresetSummary[]
}

/** The type's presets: those that fit the GPU first (largest first: the most it can afford), then the rest. */
export function groupPresets(
  presets: PresetSummary[],
  type: TrainingType,
  gpuMib: number | null,
): PresetGroups {
  const ofType = presets.filter((p) => p.type === type)
  const tiered = ofType.filter((p) => p.vram_tier_gb !== null)
  const byTier = (a: PresetSummary, b: PresetSummary) => (b.vram_tier_gb ?? 0) - (a.vram_tier_gb ?? 0)
  const user = ofType.filter((p) => p.vram_tier_gb === null)
  if (gpuMib === null) return { fit: [], larger: [...tiered].sort((a, b) => -byTier(a, b)), user }
  return {
    fit: tiered.filter((p) => presetFits(p.vram_tier_gb!, gpuMib)).sort(byTier),
    larger: tiered.filter((p) => !presetFits(p.vram_tier_gb!, gpuMib)).sort((a, b) => -byTier(a, b)),
    user,
  }
}

/** The built-in preset a new form starts from on this GPU: the largest of the type that fits. */
export function suggestedPreset(presets: PresetSummary[], type: TrainingType, gpuMib: number | null) {
  return groupPresets(presets, type, gpuMib).fit.find((p) => p.builtin) ?? null
}
