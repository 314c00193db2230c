// Regenerates tests/fixtures/dataset/buckets-golden.json: the bucket cases of seed 16 run through
// sd-scripts' own code (tests/fixtures/dataset/sdscripts_buckets.py). Needs sd-scripts v0.10.1
// (SD_SCRIPTS_DIR or ./.sdscripts) and python3 with numpy. Usage: npx tsx scripts/dataset/make-golden.ts
import { writeFileSync } from 'node:fs'
import {
  goldenFile,
  makeCases,
  numpyPython,
  runSdScripts,
  sdScriptsDir,
} from '../../tests/helpers/dataset-cases'

const sd = sdScriptsDir()
const python = numpyPython()
if (!sd || !python) {
  console.error('Needs sd-scripts v0.10.1 (SD_SCRIPTS_DIR=<folder> or ./.sdscripts) and python3 with numpy.')
  process.exit(1)
}
const input = makeCases(16, 90)
const results = runSdScripts(python, sd, input)
writeFileSync(goldenFile, `${JSON.stringify({ ...input, results })}\n`)
console.log(
  `Wrote ${input.cases.length} cases and ${input.resolutions.length} resolution lists to ${goldenFile}`,
)
