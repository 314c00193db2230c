import { readFile } from 'node:fs/promises'
import type { TrainPreview } from '../../../core/api/domains/training'
import { CliUsageError, command, jsonOption, printJson } from '../command'
import { gpusOption } from './gpu'

function formatPreview(p: TrainPreview): string {
  const lines: string[] = [p.ready ? 'Ready to start.' : 'Cannot start yet:']
  for (const b of p.blocking) lines.push(`  - ${b}`)
  for (const i of p.validation.issues) if (i.severity !== 'error') lines.push(`  ${i.severity}: ${i.message}`)
  if (p.environment) {
    const e = p.environment
    lines.push(
      '',
      `environment: ${e.name} (${e.kind}) ${e.sd_scripts_dir}`,
      `tokenizer cache: ${e.tokenizer_cache_dir ?? 'none'}${e.offline ? ' (filled: offline)' : ''}`,
    )
  }
  if (p.display) {
    lines.push('', `command (in ${p.cwd}):`, `  ${p.display}`)
    const env = Object.entries(p.env ?? {})
    if (env.length) lines.push(`env: ${env.map(([k, v]) => `${k}=${v}`).join(' ')}`)
    lines.push(`files (written at start): ${p.inputs_dir}`)
    for (const name of Object.keys(p.files ?? {})) lines.push(`  ${name}`)
  }
  if (p.predicted_peak_mib !== null)
    lines.push(`predicted peak: ${(p.predicted_peak_mib / 1024).toFixed(1)} GiB per GPU`)
  for (const n of p.prediction_notes) lines.push(`note: ${n}`)
  return `${lines.join('\n')}\n`
}

export const trainingCommands = [
  command({
    path: ['train', 'preview'],
    summary:
      'What "run start <config.json>" would do: checks, environment, command, files, predicted peak (starts nothing)',
    args: '<config.json> [--gpus 0,1]',
    options: { ...jsonOption, gpus: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file) throw new CliUsageError('Give the training config file: train preview <config.json>')
      let config: unknown
      try {
        config = JSON.parse(await readFile(file, 'utf8'))
      } catch (error) {
        throw new CliUsageError(`Cannot read ${file} as JSON: ${(error as Error).message}`)
      }
      const gpus = gpusOption(values.gpus)
      const preview = await ctx.call('train.preview', { config, ...(gpus ? { gpus } : {}) })
      if (values.json) printJson(ctx.io, preview)
      else ctx.io.stdout(formatPreview(preview))
      return preview.ready ? 0 : 1
    },
  }),
]
