// core/dataset against sd-scripts v0.10.1's own bucket code, run live: make_bucket_resolutions,
// BucketManager, make_buckets and the regularization balancing, read from its source and executed with
// numpy (tests/fixtures/dataset/sdscripts_buckets.py). sd-scripts is not in CI (it is git-ignored);
// there the committed golden data (tests/unit/dataset-buckets.test.ts) stands in for it.
import { describe, expect, it } from 'vitest'
import { makeBucketResolutions } from '../../core/dataset/buckets'
import { planDataset } from '../../core/dataset/plan'
import {
  caseSettings,
  caseSubsets,
  compareCase,
  makeCases,
  numpyPython,
  runSdScripts,
  sdScriptsDir,
} from '../helpers/dataset-cases'

const sd = sdScriptsDir()
const python = numpyPython()
if (!sd)
  console.warn(
    'SKIP live sd-scripts bucket comparison: no sd-scripts v0.10.1 (set SD_SCRIPTS_DIR or keep a git-ignored ./.sdscripts).',
  )
else if (!python) console.warn('SKIP live sd-scripts bucket comparison: python3 has no numpy.')

describe.skipIf(!sd || !python)('buckets and batches equal sd-scripts v0.10.1 (live)', () => {
  it('agrees on 400 new random datasets and bucket settings', () => {
    const input = makeCases(20_260_216, 400)
    const results = runSdScripts(python!, sd!, input)
    input.resolutions.forEach((c, i) =>
      expect(makeBucketResolutions(c.max_reso, c.min_size, c.max_size, c.divisible)).toEqual(
        results.resolutions[i],
      ),
    )
    const mismatches = input.cases.flatMap((c, i) =>
      compareCase(c, results.cases[i]!, planDataset(caseSubsets(c), caseSettings(c))).map(
        (m) => `case ${i}: ${m}`,
      ),
    )
    expect(mismatches.slice(0, 10)).toEqual([])
  }, 120_000)
})
