import { createContext, useContext, useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { adviseFor, type AdviceId } from '../../../core/vram/advice'
import type { VramScenario } from '../../../core/vram/scenario'
import { useSubscription } from '../api/hooks'

/*
 * What the VRAM gauge compares against: a GPU of this machine (from gpu.watch) or a planning target.
 * One provider per page, so the full gauge, the compact bar and the preset picker agree on the GPU and
 * on the target the user chose.
 */

const GPU = 'gpu'

interface Shared {
  data: ReturnType<typeof useSubscription<'gpu.watch'>>['data']
  error: unknown
  choice: string | null
  setChoice: (choice: string | null) => void
}

const VramTargetContext = createContext<Shared | null>(null)

export function VramTargetProvider({ children }: { children: ReactNode }) {
  const { data, error } = useSubscription('gpu.watch', {})
  const [choice, setChoice] = useState<string | null>(null)
  return (
    <VramTargetContext.Provider value={{ data, error, choice, setChoice }}>
      {children}
    </VramTargetContext.Provider>
  )
}

export interface VramTotal {
  /** The first gpu.watch answer arrived (or failed): the default target is known. */
  ready: boolean
  gpu: { name: string | null; memory_total_mib: number | null } | null
  /** The first GPU's memory in GiB, or null without one. */
  gpuTotal: number | null
  /** 'gpu' or a target in GiB as a string ('8'). */
  selected: string
  /** GiB the prediction is compared with. */
  total: number
  setChoice: (choice: string | null) => void
}

export const GPU_TARGET = GPU

export function useVramTotal(): VramTotal {
  const shared = useContext(VramTargetContext)
  // Without a provider (a gauge on its own) it watches the GPUs itself.
  const own = useSubscription('gpu.watch', {}, { enabled: shared === null })
  const [ownChoice, setOwnChoice] = useState<string | null>(null)
  const data = shared ? shared.data : own.data
  const error = shared ? shared.error : own.error
  const choice = shared ? shared.choice : ownChoice
  const setChoice = shared ? shared.setChoice : setOwnChoice
  // Until the first reading, the default (GPU or 8 GB) is unknown: the target control waits for it, so a
  // click on "8" is never overridden by a GPU that shows up a moment later.
  const ready = data !== undefined || error !== undefined
  const gpus = data?.ok ? data.snapshot.gpus.filter((g) => g.memory_total_mib !== null) : []
  const gpuTotal = gpus[0]?.memory_total_mib != null ? gpus[0].memory_total_mib / 1024 : null
  const selected = choice ?? (gpuTotal !== null ? GPU : '8')
  const total = selected === GPU ? gpuTotal : Number(selected)
  return {
    ready,
    gpu: gpus[0] ?? null,
    gpuTotal,
    selected: total === null ? '8' : selected,
    total: total ?? 8,
    setChoice,
  }
}

/**
 * The prediction for a scenario against the current target, and a one-decimal GiB formatter in the UI
 * language: what the full gauge and the compact bar both show.
 */
export function useVramAssessment(scenario: VramScenario, unavailable: readonly AdviceId[] | undefined) {
  const { i18n } = useTranslation('vram')
  const target = useVramTotal()
  const { total } = target
  const assessment = useMemo(
    () => adviseFor(scenario, { totalGib: total, exclude: unavailable }),
    [scenario, total, unavailable],
  )
  const num = useMemo(
    () => new Intl.NumberFormat(i18n.language, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    [i18n.language],
  )
  return { ...target, a: assessment, num }
}
