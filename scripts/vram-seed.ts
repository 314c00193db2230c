/**
 * Seed scenarios: predictions for table cells given as rows (used to check held-out published cells).
 * Usage: npm run -s vram:seed -- rows.json
 * Input:  {"rows":[{"id":"a","type":"lora","network_dim":32,"conv_dim":0,"batch_size":1,
 *          "gradient_checkpointing":true,"full_bf16":false,"fp8_base":false}]}
 * Output (stdout, nothing else): {"rows":[{"id":"a","predicted_gib":9.4}]}
 * Rows map to scenarios with the same assumptions as the published table (resources/vram/...json).
 */
import { readFileSync } from 'node:fs'
import { runSeed } from '../core/vram/seed'

function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(2)
}

const file = process.argv[2]
if (!file) fail('Usage: npm run -s vram:seed -- <rows.json>   (a JSON file {"rows":[...]})')
let text: string
try {
  text = readFileSync(file, 'utf8')
} catch (error) {
  fail(`Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`)
}
let json: unknown
try {
  json = JSON.parse(text)
} catch (error) {
  fail(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
}
const result = runSeed(json)
if (!result.ok) fail(`${file}: ${result.error}`)
process.stdout.write(`${JSON.stringify(result.output)}\n`)
