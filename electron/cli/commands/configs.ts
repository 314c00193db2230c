import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Issue, KohyaImportResult } from '../../../core/api/domains/configs'
import { acceptExtras, type ExtraCandidate } from '../../../core/config/extras'
import { withPlaceholders } from '../../../core/config/presets'
import { parseConfig, type TrainingConfig } from '../../../core/config/schema'
import { render } from '../../../core/sdscripts/render'
import type { ShellFlavor } from '../../../core/sdscripts/quote'
import { validateConfig } from '../../../core/sdscripts/validate'
import { ApiError } from '../../../core/api/errors'
import { writeFileAtomic, writeJsonAtomic } from '../../services/store/atomic'
import { CliUsageError, command, jsonOption, printJson, type CliIo } from '../command'
import { gpusOption } from './gpu'

const SD_SCRIPTS_PLACEHOLDER = '<<SET: sd-scripts folder>>'

const exportOptions = {
  out: { type: 'string' },
  'sd-scripts': { type: 'string' },
  flavor: { type: 'string' },
  accelerate: { type: 'string' },
  ...jsonOption,
} as const

function flavorOf(value: unknown): ShellFlavor {
  if (value === undefined) return process.platform === 'win32' ? 'windows' : 'posix'
  if (value === 'windows' || value === 'posix') return value
  throw new CliUsageError(`--flavor must be "windows" or "posix", not "${String(value)}".`)
}

async function readConfigFile(file: string): Promise<TrainingConfig> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch {
    throw new Error(`Config file not found: ${file}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new Error(`Config file is not valid JSON: ${file} (${(error as Error).message})`)
  }
  const parsed = parseConfig(raw)
  if (!parsed.ok)
    throw new Error(`Config file ${file} is not a valid training config:\n  ${parsed.errors.join('\n  ')}`)
  return parsed.config
}

/**
 * Reads a JSON file named on the command line, unvalidated (the service checks it).
 * Errors: `<missing>: <file>` when it does not exist, else `<invalid>: <file>`.
 */
async function readJsonArgument(file: string, say: { missing: string; invalid: string }): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown
  } catch (error) {
    throw new Error(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${say.missing}: ${file}`
        : `${say.invalid}: ${file}`,
    )
  }
}

function formatIssue(i: Issue): string {
  const fix = i.fix ? ` [fix: ${i.fix.label}]` : ''
  return `${i.severity.toUpperCase().padEnd(7)} ${i.rule}: ${i.message}${fix}`
}

/** Writes config.toml, dataset.toml, prompts.txt (when sampling) and command.txt into `out`. */
async function writeExport(
  config: TrainingConfig,
  values: Record<string, unknown>,
  io: CliIo,
): Promise<{ dir: string; files: string[]; script: string; command: string }> {
  if (typeof values.out !== 'string' || !values.out)
    throw new CliUsageError('Give the output folder with --out <dir>.')
  const dir = path.resolve(values.out)
  const flavor = flavorOf(values.flavor)
  const sdScripts =
    typeof values['sd-scripts'] === 'string'
      ? path.resolve(values['sd-scripts'])
      : (process.env.SDXL_STUDIO_SD_SCRIPTS ?? SD_SCRIPTS_PLACEHOLDER)
  const r = render(config, {
    filesDir: dir,
    sdScriptsDir: sdScripts,
    flavor,
    accelerate: typeof values.accelerate === 'string' ? values.accelerate : undefined,
  })
  const written: string[] = []
  for (const [name, content] of Object.entries(r.files)) {
    await writeFileAtomic(path.join(dir, name), content)
    written.push(name)
  }
  await writeFileAtomic(path.join(dir, 'command.txt'), `${r.display}\n`)
  written.push('command.txt')
  if (r.skippedExtraArgs.length)
    io.stderr(`Left out unknown extra arguments: ${r.skippedExtraArgs.join(', ')} (see: config validate)\n`)
  return { dir, files: written, script: r.script, command: r.display }
}

function placeholdersIn(config: TrainingConfig, command: string): string[] {
  const found = new Set<string>()
  for (const m of `${JSON.stringify(config)} ${command}`.matchAll(/<<SET: [^>]*>>/g)) found.add(m[0])
  return [...found]
}

const importOptions = {
  ...jsonOption,
  out: { type: 'string' },
  accept: { type: 'string', multiple: true },
  'accept-all-extras': { type: 'boolean', default: false },
} as const

export const configsCommands = [
  command({
    path: ['preset', 'list'],
    summary: 'List built-in and user presets (id, type, VRAM tier)',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const list = await ctx.call('presets.list', {})
      if (values.json) printJson(ctx.io, list)
      else
        for (const p of list)
          ctx.io.stdout(
            `${p.id.padEnd(24)} ${p.type.padEnd(10)} ${p.vram_tier_gb ? `${p.vram_tier_gb} GB` : '-'}\t${p.name}${p.builtin ? '' : ' (user)'}\n`,
          )
      return 0
    },
  }),
  command({
    path: ['preset', 'export'],
    summary:
      'Write a preset as sd-scripts files (config.toml, dataset.toml, command.txt) with marked placeholder paths',
    args: '<id> --out <dir> [--sd-scripts <dir>] [--flavor windows|posix]',
    options: exportOptions,
    async run({ values, positionals }, ctx) {
      const id = positionals[0]
      if (!id) throw new CliUsageError('Name the preset: preset export <id> --out <dir> (ids: preset list)')
      const preset = await ctx.call('presets.get', { id })
      const config = withPlaceholders(preset.config)
      const result = await writeExport(config, values, ctx.io)
      const placeholders = placeholdersIn(config, result.command)
      if (values.json) printJson(ctx.io, { ...result, placeholders })
      else {
        ctx.io.stdout(`Wrote ${result.files.join(', ')} to ${result.dir} (${result.script})\n`)
        if (placeholders.length)
          ctx.io.stdout(`Replace these placeholders before running:\n  ${placeholders.join('\n  ')}\n`)
      }
      return 0
    },
  }),
  command({
    path: ['config', 'export'],
    summary:
      'Write what "run start" runs for a config (JSON): its files, command.txt and a launcher (train.sh; Windows: train.ps1, train.cmd) with the active environment\'s command, folder and variables',
    args: '<config file> --out <dir> [--gpus 0,1] | portable: [--sd-scripts <dir>] [--flavor windows|posix]',
    options: { ...exportOptions, gpus: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file) throw new CliUsageError('Name the config file: config export <config file> --out <dir>')
      const config = await readConfigFile(file)
      const portable = ['sd-scripts', 'flavor', 'accelerate'].some((k) => values[k] !== undefined)
      if (!portable) {
        if (typeof values.out !== 'string' || !values.out)
          throw new CliUsageError('Give the output folder with --out <dir>.')
        const gpus = gpusOption(values.gpus)
        try {
          const r = await ctx.services().training.exportRun({ config, ...(gpus ? { gpus } : {}) }, values.out)
          if (values.json) printJson(ctx.io, r)
          else
            ctx.io.stdout(
              `Wrote ${r.files.join(', ')} to ${r.dir} (${r.script}, environment "${r.environment}")\nRun it by hand: ${r.launcher}\n`,
            )
          if (r.warnings.length)
            ctx.io.stderr(
              `run start would refuse this run now:\n${r.warnings.map((w) => `- ${w}`).join('\n')}\n`,
            )
          return 0
        } catch (error) {
          if (!(
            error instanceof ApiError &&
            (error.details as { kind?: string } | undefined)?.kind === 'no_environment'
          ))
            throw error
          ctx.io.stderr(
            'No sd-scripts environment is active, so the command is the portable one (accelerate launch, sd-scripts folder to fill in). Install or choose an environment for the exact command run start uses.\n',
          )
        }
      }
      const errors = validateConfig(config).filter((i) => i.severity === 'error')
      const result = await writeExport(config, values, ctx.io)
      if (values.json) printJson(ctx.io, { ...result, errors })
      else ctx.io.stdout(`Wrote ${result.files.join(', ')} to ${result.dir} (${result.script})\n`)
      if (errors.length)
        ctx.io.stderr(
          `The config has problems sd-scripts will stop on (see: config validate):\n${errors.map(formatIssue).join('\n')}\n`,
        )
      return 0
    },
  }),
  command({
    path: ['config', 'validate'],
    summary: 'Check a config file before launch (exit 0 when valid)',
    args: '<config file> [--no-files] [--json]',
    options: { ...jsonOption, 'no-files': { type: 'boolean', default: false } },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file) throw new CliUsageError('Name the config file: config validate <config file>')
      const raw = await readJsonArgument(file, {
        missing: 'Config file not found',
        invalid: 'Config file is not valid JSON',
      })
      const result = await ctx.call('config.validate', { config: raw, checkFiles: !values['no-files'] })
      if (values.json)
        printJson(ctx.io, {
          valid: result.valid,
          issues: result.issues,
          dataset: result.dataset,
          model: result.model,
        })
      else {
        const lines = result.issues.map(formatIssue)
        if (result.dataset) {
          const s = result.dataset.steps
          lines.push(
            `Dataset: ${result.dataset.subsets.reduce((n, x) => n + x.images, 0)} images, ${s.images_per_epoch} per epoch with repeats, ~${s.steps_per_epoch} steps/epoch, ~${s.total_steps} steps in ${s.epochs} epochs (estimate).`,
          )
        }
        const out = `${lines.join('\n')}${lines.length ? '\n' : ''}${result.valid ? 'Valid.' : 'Not valid.'}\n`
        if (result.valid) ctx.io.stdout(out)
        else ctx.io.stderr(out)
      }
      return result.valid ? 0 : 1
    },
  }),
  command({
    path: ['config', 'import-kohya'],
    summary:
      'Convert a kohya_ss GUI config (JSON) into our config file; extra sd-scripts options are added only when accepted',
    args: '<kohya_ss json> --out <config file> [--accept <option>]... [--accept-all-extras]',
    options: importOptions,
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file || typeof values.out !== 'string' || !values.out)
        throw new CliUsageError(
          'Usage: config import-kohya <kohya_ss json> --out <config file> [--accept <option>]... [--accept-all-extras]',
        )
      const raw = await readJsonArgument(file, { missing: 'File not found', invalid: 'Not valid JSON' })
      const r = await ctx.call('config.importKohya', { json: raw })
      return writeImport(r, values, ctx.io)
    },
  }),
  command({
    path: ['config', 'import-toml'],
    summary:
      "Open sd-scripts' config.toml (and its dataset.toml) as our config file; extra options are added only when accepted",
    args: '<config.toml> [--dataset <dataset.toml>] [--prompts <prompts.txt>] --out <config file> [--accept <option>]... [--accept-all-extras]',
    options: { ...importOptions, dataset: { type: 'string' }, prompts: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file || typeof values.out !== 'string' || !values.out)
        throw new CliUsageError(
          'Usage: config import-toml <config.toml> [--dataset <dataset.toml>] --out <config file> [--accept <option>]... [--accept-all-extras]',
        )
      const read = async (p: string, what: string) => {
        try {
          return await fs.readFile(p, 'utf8')
        } catch {
          throw new Error(`${what} not found: ${p}`)
        }
      }
      const r = await ctx.call('config.importToml', {
        config: await read(file, 'config.toml'),
        ...(typeof values.dataset === 'string'
          ? { dataset: await read(values.dataset, 'Dataset config') }
          : {}),
        ...(typeof values.prompts === 'string'
          ? { prompts: await read(values.prompts, 'Prompts file') }
          : {}),
      })
      return writeImport(r, values, ctx.io)
    },
  }),
]

const RISK_WORDS: Record<ExtraCandidate['risk'], string> = {
  option: 'option',
  path: 'names a path',
  writes_file: 'WRITES A FILE',
  loads_code: 'LOADS CODE',
}

/**
 * Writes an imported config, with the extra options the user accepted by name (--accept), or every
 * plain one (--accept-all-extras; options that write files, load code or name paths still need their
 * name). Lists what was left out and how to accept it.
 */
async function writeImport(
  r: KohyaImportResult,
  values: Record<string, unknown>,
  io: CliIo,
): Promise<number> {
  const names = (Array.isArray(values.accept) ? values.accept : []).map(String)
  const { config, accepted, unknown } = acceptExtras(r.config, r.extras, {
    names,
    allPlain: values['accept-all-extras'] === true,
  })
  if (unknown.length)
    throw new CliUsageError(
      `--accept names options the file does not have: ${unknown.join(', ')}. Offered: ${r.extras.map((x) => x.name).join(', ') || 'none'}.`,
    )
  const out = path.resolve(String(values.out))
  await writeJsonAtomic(out, config)
  const left = r.extras.filter((x) => !accepted.includes(x.name))
  const unmapped = r.keys.filter((k) => k.status === 'unmapped')
  if (values.json)
    printJson(io, {
      out,
      type: config.type,
      unmapped: r.unmapped,
      warnings: r.warnings,
      keys: r.keys,
      extras: r.extras,
      accepted,
    })
  else {
    io.stdout(`Wrote ${out} (${config.type})\n`)
    for (const w of r.warnings) io.stdout(`Note: ${w.message}\n`)
    if (unmapped.length)
      io.stdout(
        `Keys not mapped (${unmapped.length}):\n${unmapped.map((k) => `  ${k.key}${k.note ? `: ${k.note}` : ''}`).join('\n')}\n`,
      )
    else io.stdout('Every key was mapped, is a GUI-only setting, or is offered below.\n')
    if (accepted.length) io.stdout(`Extra options added: ${accepted.join(', ')}\n`)
    if (left.length)
      io.stdout(
        `Extra sd-scripts options NOT added (accept each with --accept <name>; --accept-all-extras takes the plain ones):\n${left
          .map((x) => `  ${x.name} = ${JSON.stringify(x.value)}  [${RISK_WORDS[x.risk]}]`)
          .join('\n')}\n`,
      )
  }
  return 0
}
