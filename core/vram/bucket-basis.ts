import type { VramScenario } from './scenario'

/**
 * Activation memory grows with the pixels of the biggest batch, and sd-scripts batches by bucket: the
 * largest bucket of the dataset scan (core/dataset, `dataset.scan`) is what the run really trains at,
 * not the nominal resolution. This maps a scan onto the gauge's scenario and says which basis it used.
 */

/** The part of a dataset scan (core/api/domains/dataset.ts: DatasetScan) the gauge needs. */
export interface ScanBuckets {
  settings: { resolution: readonly [number, number] }
  largest_bucket: readonly [number, number] | null
}

export type ActivationBasis =
  | {
      kind: 'largest_bucket'
      width: number
      height: number
      /** The config's resolution, which the bucket replaces. */
      nominal: { width: number; height: number }
    }
  | {
      kind: 'nominal'
      width: number
      height: number
      /** no_scan: no folder scanned yet; no_images: the scan found no image; stale: scanned at another resolution. */
      reason: 'no_scan' | 'no_images' | 'stale'
    }

/**
 * The scenario with its resolution set to the scan's largest bucket, when the scan was made at the
 * scenario's resolution (a scan still running for an edit keeps the nominal size until it answers).
 */
export function withLargestBucket(
  scenario: VramScenario,
  scan: ScanBuckets | null,
): { scenario: VramScenario; basis: ActivationBasis } {
  const { width, height } = scenario.resolution
  const nominal = (reason: 'no_scan' | 'no_images' | 'stale') => ({
    scenario,
    basis: { kind: 'nominal' as const, width, height, reason },
  })
  if (!scan) return nominal('no_scan')
  const [scanW, scanH] = scan.settings.resolution
  if (scanW !== width || scanH !== height) return nominal('stale')
  const bucket = scan.largest_bucket
  if (!bucket || !valid(bucket[0]) || !valid(bucket[1])) return nominal('no_images')
  const [bw, bh] = bucket
  return {
    scenario: { ...scenario, resolution: { width: bw, height: bh } },
    basis: { kind: 'largest_bucket', width: bw, height: bh, nominal: { width, height } },
  }
}

/** A size the scenario accepts (core/vram/scenario.ts: 64–8192 px, whole pixels). */
const valid = (px: number) => Number.isInteger(px) && px >= 64 && px <= 8192
