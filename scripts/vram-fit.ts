/**
 * Refits the VRAM model's constants on every shipped measurement and writes resources/vram/constants.json.
 * Usage: npm run vram:fit   (deterministic; tests/unit/vram-fit.test.ts fails when the file is stale)
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { shippedPoints } from '../core/vram/data'
import { fitConstants, fittedFileFor } from '../core/vram/fit'
import { writeJsonAtomic } from '../electron/services/store/atomic'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const points = shippedPoints()
const result = fitConstants(points)
const file = fittedFileFor(points, result)
await writeJsonAtomic(path.join(root, 'resources/vram/constants.json'), file)
console.log(JSON.stringify(result.constants, null, 2))
console.log(
  `fitted on ${points.length} points: median |error| ${result.median_abs_error_pct.toFixed(2)} %, ` +
    `max ${result.max_abs_error_pct.toFixed(2)} %`,
)
