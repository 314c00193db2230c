import publishedJson from '../../resources/vram/published-sd-scripts-0.8.3.json' with { type: 'json' }
import measuredJson from '../../resources/vram/measured.json' with { type: 'json' }
import checksJson from '../../resources/vram/checks-other-published.json' with { type: 'json' }
import {
  ChecksFile,
  MeasurementsFile,
  PublishedTableFile,
  resolvePublished,
  resolveRecorded,
  rowToScenario,
  type CheckPoint,
  type ResolvedPoint,
  type SeedRow,
} from './measurements'
import type { VramScenario } from './scenario'

/** The measured points the app ships (resources/vram), validated at load. */
export const PUBLISHED_TABLE: PublishedTableFile = PublishedTableFile.parse(publishedJson)
export const SHIPPED_MEASUREMENTS: MeasurementsFile = MeasurementsFile.parse(measuredJson)

/** Every shipped point: what the fit uses and the report prints. */
export function shippedPoints(): ResolvedPoint[] {
  return [...resolvePublished(PUBLISHED_TABLE), ...resolveRecorded(SHIPPED_MEASUREMENTS)]
}

/** A seed-CLI row → scenario, with the same assumptions as the published table. */
export function seedRowToScenario(row: Omit<SeedRow, 'id'>): VramScenario {
  return rowToScenario(row, PUBLISHED_TABLE.assumptions)
}

/** Other published figures: checks of generalisation, not fitted (resources/vram/checks-other-published.json). */
export const GENERALISATION_CHECKS: CheckPoint[] = ChecksFile.parse(checksJson).points
