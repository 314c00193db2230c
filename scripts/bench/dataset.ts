// npm run bench:dataset [-- --images 10000]: lays out a dataset folder of header-valid PNG and JPEG
// files (sparse, 0.2–3 MB each, many sizes and aspect ratios, captions beside most), then times a
// complete scan through the API three ways: cold (empty cache), warm in the same process (memory
// cache), and warm in a new process (cache read from disk). Prints numbers; asserts nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createServices } from '../../electron/services'
import { writeHeaderOnly } from '../../tests/helpers/dataset-images'

const arg = process.argv.indexOf('--images')
const count = arg > 0 ? Number(process.argv[arg + 1]) : 10_000
const root = mkdtempSync(path.join(os.tmpdir(), 'bench-dataset-'))
const dir = path.join(root, '10_bench')
mkdirSync(dir)
let seed = 42
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
const t0 = performance.now()
for (let i = 0; i < count; i++) {
  const w = 512 + Math.floor(rand() * 3500)
  const h = Math.round(w * (0.4 + rand() * 2))
  const jpeg = rand() < 0.6
  const name = `img_${String(i).padStart(6, '0')}`
  writeHeaderOnly(
    path.join(dir, `${name}.${jpeg ? 'jpg' : 'png'}`),
    jpeg ? 'jpeg' : 'png',
    w,
    h,
    200_000 + Math.floor(rand() * 2_800_000),
  )
  if (rand() < 0.9)
    writeFileSync(path.join(dir, `${name}.txt`), `sks person, photo, tag${i % 50}, outdoors, smile\n`)
}
console.log(`laid out ${count} images in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`)

const config = {
  dataset: { subsets: [{ image_dir: dir, num_repeats: 10 }] },
  training: { batch_size: 4, max_train_epochs: 10 },
}

async function timedScan(dataDir: string, label: string) {
  const services = createServices({
    dataDir,
    mode: 'cli',
    env: { ...process.env, HOME: root },
    version: 'bench',
  })
  try {
    for (const pass of [label, `${label}, again in the same process`]) {
      const started = performance.now()
      const r = await services.router.call('dataset.scan', { config }, { transport: 'cli' })
      const ms = performance.now() - started
      if (!r.ok) throw new Error(r.error.message)
      console.log(
        `${pass.padEnd(44)} ${(ms / 1000).toFixed(2)} s  (${r.result.images} images, ${r.result.buckets.length} buckets, ${r.result.problems.length} problems, ${r.result.cached_files} files from cache)`,
      )
    }
  } finally {
    await services.dispose()
  }
}

const dataDir = path.join(root, 'data')
try {
  await timedScan(dataDir, 'cold scan (empty cache)')
  await timedScan(dataDir, 'warm scan (new process, cache on disk)')
} finally {
  rmSync(root, { recursive: true, force: true })
}
