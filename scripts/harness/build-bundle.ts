// npm run harness:bundle -- --sd-scripts <path> [--out .bundle] [--python python3]
//   [--check-python <python with transformers>] [--predictions <file.json>] [--no-presets] [--cli-dir <checkout>]
//   [--trace-python <python with torch and sd-scripts' requirements>]  (each job's trace figure, CPU only)
//
// Builds the offline bundle the GPU machine needs to run real sd-scripts on our configs
// (see docs/harness.md): sd-scripts' SDXL sources, wheels for its pinned requirements and
// LyCORIS (Python 3.12, manylinux x86_64), the two CLIP tokenizer folders, the measurement jobs
// and the harness scripts. Checks that bundle + working tree stay under what can travel.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  copyFileSync,
  statSync,
} from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { addPredictions, addTraces } from './predict'
import {
  DEVICE_LIMIT_BYTES,
  copyEntries,
  formatSizeTable,
  selectSdScriptsFiles,
  sizeRows,
  type SizeRow,
} from './bundle-lib'
import {
  cacheDir,
  defaultVenv,
  harnessDir,
  makeTokenizers,
  parseOptions,
  pipDownloadWheel,
  presetsFromOptions,
  repoRoot,
  run,
  venvPython,
  writePlanJobs,
} from './tools'

const WheelList = z.object({
  python_version: z.string(),
  platforms: z.array(z.string()).min(1),
  wheels: z.array(
    z.object({
      spec: z.string(),
      why: z.string(),
      build_from_sdist: z.boolean().optional(),
      /** platform tags for this wheel only (pip matches manylinux_2_N exactly) */
      platforms: z.array(z.string()).optional(),
      /** members to drop from the wheel (slim_wheel.py), e.g. native libraries for other CUDA versions */
      slim_drop: z.string().optional(),
    }),
  ),
  left_out: z.array(z.object({ name: z.string(), why: z.string() })),
})

const HARNESS_FILES = [
  'measure.py',
  'sd_driver.py',
  'progress_log.py',
  'make_checkpoint.py',
  'run_on_device.sh',
]
const SD_SCRIPTS_VERSION = 'v0.10.1'

function wheelFileFor(dir: string, spec: string): string | undefined {
  const [name = '', version = ''] = spec.split('==')
  const norm = name.toLowerCase().replace(/[-_.]+/g, '_')
  return readdirSync(dir).find((f) => {
    const [fname = '', fversion = ''] = f.split('-')
    return f.endsWith('.whl') && fname.toLowerCase().replace(/[-_.]+/g, '_') === norm && fversion === version
  })
}

function downloadWheels(python: string, list: z.infer<typeof WheelList>, dest: string): void {
  const cache = path.join(cacheDir, `wheels-py${list.python_version}`)
  mkdirSync(cache, { recursive: true })
  mkdirSync(dest, { recursive: true })
  for (const w of list.wheels) {
    if (!wheelFileFor(cache, w.spec)) {
      if (w.build_from_sdist) {
        // Pure-Python sdist: a wheel built here installs the same on the device.
        run(python, ['-m', 'pip', 'wheel', '-q', '--no-deps', '-w', cache, w.spec])
      } else {
        const platforms = [...list.platforms, ...(w.platforms ?? [])].flatMap((p) => ['--platform', p])
        pipDownloadWheel(python, w.spec, cache, [
          '--python-version',
          list.python_version,
          '--implementation',
          'cp',
          ...platforms,
        ])
      }
    }
    const file = wheelFileFor(cache, w.spec)
    if (!file)
      throw new Error(
        `No wheel for ${w.spec} in ${cache} after pip ran; check the spec in resources/harness/wheels.json.`,
      )
    if (w.slim_drop) {
      run(python, [
        path.join(harnessDir, 'slim_wheel.py'),
        path.join(cache, file),
        path.join(dest, file),
        '--drop',
        w.slim_drop,
      ])
    } else {
      copyFileSync(path.join(cache, file), path.join(dest, file))
    }
  }
}

/** Bytes of the repository files that travel with every device call (tracked + untracked, not ignored). */
function workingTreeBytes(): SizeRow {
  const files = run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { quiet: true })
    .split('\0')
    .filter(Boolean)
  let bytes = 0
  let count = 0
  for (const f of files) {
    const p = path.join(repoRoot, f)
    try {
      const st = lstatSync(p)
      if (st.isFile()) {
        bytes += st.size
        count++
      }
    } catch {
      // deleted in the working tree
    }
  }
  return { part: 'repository working tree', files: count, bytes }
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2))
  const sdScripts = opts.get('sd-scripts')
  if (!sdScripts) {
    console.error(
      'Give the sd-scripts v0.10.1 source folder: npm run harness:bundle -- --sd-scripts <path> (see docs/harness.md).',
    )
    return 2
  }
  const out = path.resolve(repoRoot, opts.get('out') ?? '.bundle')
  const python = opts.get('python') ?? 'python3'
  // transformers' CLIPTokenizer checks the tokenizers when the dry-run venv exists; else our own BPE check.
  const venvPy = venvPython(defaultVenv())
  const checkPython = opts.get('check-python') ?? (existsSync(venvPy) ? venvPy : python)
  const limit = Number(opts.get('limit-mib') ?? 64) * 1024 * 1024 || DEVICE_LIMIT_BYTES

  const sdFiles = selectSdScriptsFiles(path.resolve(sdScripts))
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const notes: string[] = []

  console.log(`sd-scripts: ${sdFiles.length} files from ${sdScripts}`)
  const fingerprint = copyEntries(path.resolve(sdScripts), sdFiles, path.join(out, 'sd-scripts'))
  writeFileSync(
    path.join(out, 'sd-scripts/HARNESS_VERSION'),
    `${SD_SCRIPTS_VERSION} (files sha256 ${fingerprint.slice(0, 16)})\n`,
  )

  const wheels = WheelList.parse(JSON.parse(readFileSync(path.join(harnessDir, 'wheels.json'), 'utf8')))
  console.log(`wheels: ${wheels.wheels.length} for Python ${wheels.python_version}`)
  downloadWheels(python, wheels, path.join(out, 'wheels'))
  for (const l of wheels.left_out) notes.push(`left out ${l.name}: ${l.why}`)

  console.log('tokenizers:')
  makeTokenizers(python, checkPython, path.join(out, 'tokenizers'))

  const predictionsFile = opts.get('predictions')
  const predictions: Record<string, unknown> = predictionsFile
    ? (z.record(z.string(), z.unknown()).parse(JSON.parse(readFileSync(predictionsFile, 'utf8'))) as Record<
        string,
        unknown
      >)
    : {}
  const exported = presetsFromOptions(opts)
  notes.push(exported.note)
  const jobs = writePlanJobs(exported.presets, predictions, path.join(out, 'jobs'))
  notes.push(...jobs.notes)
  // What the gauge predicts for each job now; measured records carry it (and its scenario).
  notes.push(...addPredictions(path.join(out, 'jobs'), jobs.ids))
  // And, when asked, what the trace of sd-scripts' model code says (about 1 to 3 minutes per job).
  const tracePython = opts.get('trace-python')
  if (tracePython) {
    console.log('traces (sd-scripts model code on the meta device):')
    notes.push(
      ...(await addTraces(path.join(out, 'jobs'), jobs.ids, {
        python: tracePython,
        sdScriptsDir: sdScripts,
      })),
    )
  }
  console.log(`jobs: ${jobs.ids.length} (${jobs.ids.join(', ')})`)

  mkdirSync(path.join(out, 'harness'), { recursive: true })
  for (const f of HARNESS_FILES) copyFileSync(path.join(harnessDir, f), path.join(out, 'harness', f))

  writeFileSync(
    path.join(out, 'MANIFEST.json'),
    JSON.stringify(
      {
        sd_scripts: { version: SD_SCRIPTS_VERSION, files: sdFiles.length, sha256: fingerprint },
        wheels: readdirSync(path.join(out, 'wheels')).sort(),
        jobs: jobs.ids,
        notes,
      },
      null,
      2,
    ) + '\n',
  )

  const rows = sizeRows(out, ['sd-scripts', 'wheels', 'tokenizers', 'jobs', 'harness'])
  const manifest = { part: 'MANIFEST.json', files: 1, bytes: statSync(path.join(out, 'MANIFEST.json')).size }
  const table = formatSizeTable([...rows, manifest], [workingTreeBytes()], limit)
  console.log('\n' + table.text)
  for (const n of notes) console.log(`note: ${n}`)
  if (!table.fits) {
    console.error(
      `The bundle and the working tree exceed ${limit / 1024 / 1024} MiB: leave out wheels or jobs.`,
    )
    return 1
  }
  if (!existsSync(path.join(out, 'jobs/order.txt'))) return 1
  console.log(
    `\nbundle ready in ${path.relative(repoRoot, out) || out}; the device command is in docs/harness.md`,
  )
  return 0
}

try {
  process.exitCode = await main()
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e))
  process.exitCode = 1
}
