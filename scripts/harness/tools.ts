// Process helpers shared by the harness scripts (bundle builder, CPU dry run).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashExport, materializeJobs, readPlan, type ExportedPreset } from './bundle-lib'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const harnessDir = path.join(repoRoot, 'resources/harness')
/** The tokenizer builder ships with the app (the install's offline tokenizer step uses it too). */
export const makeTokenizersScript = path.join(repoRoot, 'resources/env/make_tokenizers.py')
export const cacheDir = path.join(repoRoot, '.harness/cache')
export const OPEN_CLIP_SPEC = 'open-clip-torch==3.3.0'

/**
 * The dry run's virtual environment, outside the repository: a venv holds .js files (tensorboard,
 * torch) that `eslint .` would lint. HARNESS_VENV overrides it; the integration tests look there too.
 */
export function defaultVenv(): string {
  return process.env.HARNESS_VENV ?? path.join(homedir(), '.cache', 'sdxl-studio', 'harness-venv')
}

export function venvPython(venv: string): string {
  return process.platform === 'win32'
    ? path.join(venv, 'Scripts', 'python.exe')
    : path.join(venv, 'bin', 'python')
}

export function run(cmd: string, args: string[], opts: { cwd?: string; quiet?: boolean } = {}): string {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  })
  if (r.error) throw new Error(`Could not start ${cmd}: ${r.error.message}`)
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')
    throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}:\n${tail}`)
  }
  if (!opts.quiet && r.stdout.trim()) process.stdout.write(r.stdout)
  return r.stdout
}

/**
 * pip's arguments that download the binary wheel of one pinned `spec` (no dependencies) into `dest`.
 * `target`: extra pip options that pick another interpreter/platform (--python-version, --platform...).
 */
export function pipDownloadWheelArgs(spec: string, dest: string, target: string[] = []): string[] {
  return ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', ...target, '-d', dest, spec]
}

/** Download the binary wheel of one pinned `spec` into `dest` with pip (see pipDownloadWheelArgs). */
export function pipDownloadWheel(python: string, spec: string, dest: string, target: string[] = []): void {
  run(python, pipDownloadWheelArgs(spec, dest, target))
}

/** Parse `--name value` and `--flag` options. */
export function parseOptions(argv: string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ''
    if (a === '--') continue
    if (!a.startsWith('--')) throw new Error(`Unexpected argument ${a}; options are --name value.`)
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) out.set(a.slice(2), 'true')
    else {
      out.set(a.slice(2), next)
      i++
    }
  }
  return out
}

/** The open-clip-torch wheel (OPEN_CLIP_SPEC) already downloaded into `dir`, or null. */
export function findOpenClipWheel(dir: string): string | null {
  const wheel = readdirSync(dir).find((f) => /^open_clip_torch-3\.3\.0-.*\.whl$/.test(f))
  return wheel ? path.join(dir, wheel) : null
}

/** The open-clip-torch wheel that carries CLIP's BPE vocabulary (downloaded once, cached). */
export function openClipWheel(python: string): string {
  mkdirSync(cacheDir, { recursive: true })
  if (!findOpenClipWheel(cacheDir)) pipDownloadWheel(python, OPEN_CLIP_SPEC, cacheDir)
  const wheel = findOpenClipWheel(cacheDir)
  if (!wheel) throw new Error(`pip did not leave an open-clip-torch wheel in ${cacheDir}.`)
  return wheel
}

/** Generate the two tokenizer folders and check them (with transformers when `checkPython` has it). */
export function makeTokenizers(python: string, checkPython: string, out: string): void {
  const wheel = openClipWheel(python)
  run(python, [makeTokenizersScript, '--source', wheel, '--out', out])
  run(checkPython, [makeTokenizersScript, '--check-only', '--out', out])
}

/**
 * Export every preset through the configs CLI (`preset list --json`, `preset export <id> --out`).
 * Returns null when that CLI is not there yet (the configs work is merged separately).
 */
/** `cliDir`: the checkout whose CLI exports them (default: this one). */
export function exportPresets(
  outDir: string,
  cliDir: string = repoRoot,
): { presets: ExportedPreset[] | null; note: string } {
  let listed: unknown
  try {
    listed = JSON.parse(
      run('npm', ['run', '-s', 'cli', '--', 'preset', 'list', '--json'], { quiet: true, cwd: cliDir }),
    )
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0]
    return { presets: null, note: `presets not exported: \`preset list --json\` is not available (${first})` }
  }
  const items: unknown[] = Array.isArray(listed)
    ? listed
    : typeof listed === 'object' &&
        listed !== null &&
        Array.isArray((listed as { presets?: unknown[] }).presets)
      ? ((listed as { presets: unknown[] }).presets ?? [])
      : []
  const ids = items
    .map((p) =>
      typeof p === 'string'
        ? p
        : typeof p === 'object' && p !== null
          ? (p as { id?: unknown }).id
          : undefined,
    )
    .filter((id): id is string => typeof id === 'string')
  const presets: ExportedPreset[] = []
  for (const id of ids) {
    const dir = path.join(outDir, id)
    mkdirSync(dir, { recursive: true })
    run('npm', ['run', '-s', 'cli', '--', 'preset', 'export', id, '--out', dir], { quiet: true, cwd: cliDir })
    if (!existsSync(path.join(dir, 'config.toml')))
      throw new Error(`preset export ${id} wrote no config.toml in ${dir}.`)
    presets.push({ id, dir, hash: hashExport(dir) })
  }
  return { presets, note: `${presets.length} presets exported` }
}

/** The presets the jobs include: none with `--no-presets`, else exported with the CLI of `--cli-dir` (default: this checkout). */
export function presetsFromOptions(opts: Map<string, string>): {
  presets: ExportedPreset[] | null
  note: string
} {
  return opts.get('no-presets')
    ? { presets: null, note: 'presets skipped (--no-presets)' }
    : exportPresets(path.join(cacheDir, 'presets'), path.resolve(opts.get('cli-dir') ?? repoRoot))
}

/** Write the jobs of the measurement plan (resources/harness/plan.json) plus `presets` into `outDir`. */
export function writePlanJobs(
  presets: ExportedPreset[] | null,
  predictions: Record<string, unknown>,
  outDir: string,
): { ids: string[]; notes: string[] } {
  const plan = readPlan(path.join(harnessDir, 'plan.json'))
  return materializeJobs(plan, path.join(harnessDir, 'configs'), presets, predictions, outDir)
}
