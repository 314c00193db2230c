import { useEffect, useState } from 'react'
import type { DatasetScan } from '../../../core/api/domains/dataset'
import type { TrainingConfig } from '../../../core/config/schema'
import { scanConfigFor } from '../../../core/dataset/train-summary'
import { getApiClient, toApiError } from '../api/client'

export interface ScanState {
  /** The latest answer; kept while a newer scan runs, so the summary and the gauge do not flicker. */
  scan: DatasetScan | null
  scanning: boolean
  error: string | null
}

const IDLE: ScanState = { scan: null, scanning: false, error: null }

/**
 * Scans the form's image folders as sd-scripts will see them (`dataset.scan`: images, captions,
 * buckets, steps), debounced while the user types; answers to older forms are dropped.
 */
export function useDatasetScan(config: TrainingConfig): ScanState {
  const target = scanConfigFor(config)
  const json = target ? JSON.stringify(target) : null
  const [result, setResult] = useState<{
    key: string
    scan: DatasetScan | null
    error: string | null
  } | null>(null)
  useEffect(() => {
    if (json === null) return
    let live = true
    const timer = setTimeout(() => {
      getApiClient()
        .call('dataset.scan', { config: JSON.parse(json) as TrainingConfig })
        .then(
          (scan) => live && setResult({ key: json, scan, error: null }),
          (e: unknown) => live && setResult({ key: json, scan: null, error: toApiError(e).message }),
        )
    }, 500)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [json])
  if (json === null) return IDLE
  const current = result?.key === json
  return { scan: result?.scan ?? null, scanning: !current, error: current ? result.error : null }
}
