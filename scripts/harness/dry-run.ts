// npm run harness:dry-run -- --sd-scripts <path> [--venv <dir>] [--python python3]
//   [--only id,id] [--no-presets] [--cli-dir <checkout whose CLI exports the presets>]
//
// CPU check that real sd-scripts accepts every config we would measure and every preset as
// exported: creates (or reuses) a virtual environment with sd-scripts' requirements and a
// CPU-usable torch, generates the tokenizer folders, writes the jobs of the measurement plan
// plus every exported preset, and runs resources/harness/measure.py --dry-run on them. It stops
// each job after sd-scripts has parsed the files and prepared the dataset (no model, no GPU)
// and prints accepted/refused per job. Exit code 1 when any job is refused.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  defaultVenv,
  harnessDir,
  makeTokenizers,
  parseOptions,
  presetsFromOptions,
  repoRoot,
  run,
  venvPython,
  writePlanJobs,
} from './tools'

// torch is not in sd-scripts' requirements; 2.6.0 is the version it is tested with. PyPI's
// Linux wheel carries CUDA libraries (about 3 GB to download) and runs fine on a CPU.
const TORCH = ['torch==2.6.0', 'torchvision==0.21.0']
const EXTRA = ['lycoris-lora==3.4.0']

function ensureVenv(python: string, venv: string, sdScripts: string): string {
  const py = venvPython(venv)
  const stamp = path.join(venv, 'harness-requirements.txt')
  const requirements = readFileSync(path.join(sdScripts, 'requirements.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    // "-e ." installs sd-scripts' library package; the driver puts the source folder on sys.path instead.
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('-e'))
  const wanted = [...TORCH, ...requirements, ...EXTRA].join('\n') + '\n'
  if (existsSync(py) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return py
  if (!existsSync(py)) {
    console.log(`creating ${venv}`)
    run(python, ['-m', 'venv', venv])
  }
  const reqFile = path.join(venv, 'harness-requirements.in')
  writeFileSync(reqFile, wanted)
  console.log('installing torch (CPU use) and sd-scripts requirements; the first time downloads about 3 GB')
  run(py, ['-m', 'pip', 'install', '-q', '-r', reqFile])
  writeFileSync(stamp, wanted)
  return py
}

function main(): number {
  const opts = parseOptions(process.argv.slice(2))
  const sdScripts = opts.get('sd-scripts') ?? process.env.SD_SCRIPTS_DIR
  if (!sdScripts || !existsSync(path.join(sdScripts, 'sdxl_train_network.py'))) {
    console.error(
      `No sd-scripts source at ${sdScripts ?? '(not given)'}. Give the kohya-ss/sd-scripts v0.10.1 folder with --sd-scripts <path> or SD_SCRIPTS_DIR (docs/harness.md).`,
    )
    return 2
  }
  const python = opts.get('python') ?? 'python3'
  const venv = path.resolve(repoRoot, opts.get('venv') ?? defaultVenv())
  const py = ensureVenv(python, venv, sdScripts)

  const work = path.join(repoRoot, '.harness/dry-run')
  rmSync(work, { recursive: true, force: true })
  const tokenizers = path.join(work, 'tokenizers')
  makeTokenizers(py, py, tokenizers)

  const exported = presetsFromOptions(opts)
  console.log(exported.note)
  const jobs = writePlanJobs(exported.presets, {}, path.join(work, 'jobs'))
  for (const n of jobs.notes) console.log(`note: ${n}`)

  const args = [
    path.join(harnessDir, 'measure.py'),
    '--dry-run',
    '--jobs',
    path.join(work, 'jobs'),
    '--sd-scripts',
    path.resolve(sdScripts),
    '--tokenizers',
    tokenizers,
    '--work',
    path.join(work, 'work'),
    '--out',
    path.join(work, 'dry-run.json'),
  ]
  const only = opts.get('only')
  if (only) args.push('--only', only)
  const r = spawnSync(py, args, { stdio: 'inherit', cwd: repoRoot })
  console.log(`report: ${path.relative(repoRoot, path.join(work, 'dry-run.json'))}`)
  return r.status ?? 1
}

try {
  process.exitCode = main()
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e))
  process.exitCode = 1
}
