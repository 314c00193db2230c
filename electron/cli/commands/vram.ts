import { readFile } from 'node:fs/promises'
import { CliUsageError, command, jsonOption, printJson } from '../command'
import type { VramAssessmentWire, VramTraceWire } from '../../../core/api/domains/vram'
import { loadTraceConfig } from '../../../core/vram/trace-compare'
import en from '../../../renderer/src/i18n/locales/en/vram.json'
import { measurementFromRecord } from '../../services/training/measurement'

/** English labels from the renderer's 'vram' namespace, so the CLI and the gauge say the same thing. */
function label(key: string, values: Record<string, string | number> = {}): string {
  let node: unknown = en
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part]
  const text = typeof node === 'string' ? node : key
  return text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(values[k] ?? `{{${k}}}`))
}

async function readJsonArg(file: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new CliUsageError(`Cannot read the ${what} file ${file}: ${(error as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new CliUsageError(
      `${file} is not JSON (${(error as Error).message}). Give a VRAM scenario or a training config as JSON.`,
    )
  }
}

function isConfig(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const o = value as Record<string, unknown>
  return (
    typeof o.type === 'string' &&
    ['network', 'memory', 'training', 'optimizer', 'dataset'].some((k) => k in o)
  )
}

function positiveNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new CliUsageError(`${option} must be a positive number of GB, got "${String(value)}".`)
  return n
}

function speed(slowdown: number): string {
  if (Math.abs(slowdown - 1) < 0.005) return label('gauge.same_speed')
  const pct = Math.round(Math.abs(slowdown - 1) * 100)
  return label(slowdown > 1 ? 'gauge.slower' : 'gauge.faster', { pct })
}

export function formatAssessment(a: VramAssessmentWire): string {
  const p = a.prediction
  const lines: string[] = []
  const head = `${label('gauge.predicted')}: ${p.peak_gib.toFixed(1)} GiB (${label('gauge.allocated', { gib: p.allocated_gib.toFixed(1) })})`
  lines.push(head)
  if (a.total_gib !== null && a.state) {
    lines.push(
      `${label(`state.${a.state}`)}: ${label('gauge.of_total', { peak: p.peak_gib.toFixed(1), total: a.total_gib })}`,
    )
  }
  lines.push(label('gauge.peak_at', { phase: label(`phase.${p.phase}`) }), '', `${label('gauge.breakdown')}:`)
  for (const b of p.breakdown)
    lines.push(`  ${b.gib.toFixed(2).padStart(7)} GiB  ${label(b.label_key.replace(/^terms\./, 'terms.'))}`)
  if (a.advice.length > 0) {
    lines.push('', `${label('gauge.best_changes')}:`)
    for (const x of a.advice) {
      const note = x.changes_result ? `, ${label('gauge.changes_result')}` : ''
      lines.push(
        `  ${label(x.label_key, x.values)}: −${x.saving_gib.toFixed(1)} GiB, ${speed(x.slowdown)}${note}`,
      )
    }
  }
  if (a.total_gib !== null && a.state !== 'fits') {
    lines.push('')
    if (a.make_it_fit) {
      const m = a.make_it_fit
      lines.push(
        `${label('gauge.make_it_fit')}: ${m.items.map((i) => label(i.label_key, i.values)).join(' + ')} → ` +
          `${m.peak_gib.toFixed(1)} GiB (${label(`state.${m.state}`)}), ${speed(m.slowdown)}`,
      )
    } else lines.push(`${label('gauge.make_it_fit')}: ${label('gauge.nothing_fits')}`)
  }
  if (a.warnings.length > 0) {
    lines.push('', `${label('gauge.warnings')}:`)
    for (const w of a.warnings) lines.push(`  ! ${label(w.label_key)}`)
  }
  for (const n of a.notes) lines.push(`note: ${n}`)
  return `${lines.join('\n')}\n`
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`

/** The trace next to the gauge, in the gauge's words (shared by `vram trace` and `npm run vram:trace`). */
export function formatTrace(
  r: Pick<VramTraceWire, 'trace' | 'gauge' | 'difference_pct'> & {
    environment?: VramTraceWire['environment']
  },
): string {
  const t = r.trace
  const phase = (p: string) => label(`phase.${p}`)
  const lines = [
    label('trace.result_trace', { gib: t.allocated_peak_gib.toFixed(2), phase: phase(t.phase) }),
    label('trace.result_gauge', {
      gib: r.gauge.allocated_gib.toFixed(2),
      peak: r.gauge.peak_gib.toFixed(1),
      diff: pct(r.difference_pct),
    }),
    '',
    `${label('trace.breakdown')}:`,
    ...Object.entries(t.breakdown).map(
      ([id, gib]) => `  ${gib.toFixed(2).padStart(7)} GiB  ${label(`terms.${id}`)}`,
    ),
    '',
    `${label('trace.by_phase')}:`,
    ...Object.entries(t.phases).map(([p, v]) => `  ${v.gib.toFixed(2).padStart(7)} GiB  ${phase(p)}`),
    '',
    label('trace.footer', {
      params: t.trainable_params.toLocaleString('en-US'),
      seconds: Math.round(t.seconds),
      torch: t.versions?.torch ?? '?',
    }),
  ]
  if (r.environment) lines.push(label('trace.environment', { name: r.environment.name }))
  lines.push(label('trace.explain'))
  return `${lines.join('\n')}\n`
}

function resolutionOption(value: unknown): { width: number; height: number } | undefined {
  if (value === undefined) return undefined
  const m = /^(\d{2,5})x(\d{2,5})$/.exec(String(value))
  if (!m)
    throw new CliUsageError(`--resolution is WIDTHxHEIGHT in pixels, e.g. 1024x1024; got "${String(value)}".`)
  return { width: Number(m[1]), height: Number(m[2]) }
}

export const vramCommands = [
  command({
    path: ['vram', 'trace'],
    summary:
      "Trace one training step of a config with the active environment's sd-scripts model code (CPU, no GPU): allocated peak by category, next to the gauge",
    args: '<config .json> [--resolution WxH] [--kernel flash|efficient]',
    options: { ...jsonOption, resolution: { type: 'string' }, kernel: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file) throw new CliUsageError('Give the JSON file of a training config (or a preset file).')
      const kernel = values.kernel
      if (kernel !== undefined && kernel !== 'flash' && kernel !== 'efficient')
        throw new CliUsageError('--kernel is flash (RTX 30xx and newer) or efficient (older cards).')
      const resolution = resolutionOption(values.resolution)
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        throw new CliUsageError(`Cannot read the config file ${file}: ${(error as Error).message}`)
      }
      const loaded = loadTraceConfig(text, file)
      if (!loaded.ok) throw new CliUsageError(loaded.error)
      ctx.io.stderr(`${label('trace.running')}\n`)
      const result = await ctx.call('vram.trace', {
        config: loaded.config,
        ...(resolution ? { resolution } : {}),
        ...(kernel ? { kernel } : {}),
      })
      if (values.json) printJson(ctx.io, result)
      else ctx.io.stdout(formatTrace(result))
      return 0
    },
  }),
  command({
    path: ['vram', 'predict'],
    summary: 'Predict peak GPU memory for a training config or VRAM scenario (JSON file)',
    args: '<config or scenario .json>',
    options: { ...jsonOption, 'target-gb': { type: 'string' }, os: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file) throw new CliUsageError('Give the JSON file of a training config or a VRAM scenario.')
      const target = positiveNumber(values['target-gb'], '--target-gb')
      const os = values.os
      if (os !== undefined && os !== 'windows' && os !== 'linux')
        throw new CliUsageError('--os is windows or linux.')
      const json = await readJsonArg(file, 'config or scenario')
      const input = {
        ...(isConfig(json) ? { config: json } : { scenario: json }),
        ...(target !== undefined ? { target_gib: target } : {}),
        ...(os !== undefined ? { os } : {}),
      }
      const result = await ctx.call('vram.predict', input)
      if (values.json) printJson(ctx.io, result)
      else ctx.io.stdout(formatAssessment(result))
      return 0
    },
  }),
  command({
    path: ['vram', 'record'],
    summary:
      "Append a measured peak (nvidia-smi, per process) to your VRAM measurements, or a finished run's (--run <id>)",
    args: '--run <id> | --scenario <json> --measured-gib N --source <text>',
    options: {
      ...jsonOption,
      run: { type: 'string' },
      scenario: { type: 'string' },
      'measured-gib': { type: 'string' },
      source: { type: 'string' },
      gpu: { type: 'string' },
      reading: { type: 'string' },
      'sd-scripts': { type: 'string' },
    },
    async run({ values }, ctx) {
      const fromRun =
        typeof values.run === 'string'
          ? measurementFromRecord(await ctx.call('run.get', { id: values.run }))
          : null
      if (fromRun) {
        const result = await ctx.call('vram.record', {
          scenario: fromRun.config,
          measured_gib: fromRun.measured_gib,
          source: typeof values.source === 'string' ? values.source : fromRun.source,
          ...(typeof values.gpu === 'string' ? { gpu: values.gpu } : {}),
          ...(typeof values['sd-scripts'] === 'string' ? { sd_scripts: values['sd-scripts'] } : {}),
        })
        if (values.json) printJson(ctx.io, result)
        else
          ctx.io.stdout(
            `Recorded ${result.point.id}: measured ${result.point.measured_gib} GiB, predicted ${result.point.predicted_gib ?? '?'} GiB (${result.count} points in ${result.file}).\n`,
          )
        return 0
      }
      if (typeof values.scenario !== 'string')
        throw new CliUsageError('--scenario <file.json> (or --run <id>) is required.')
      if (typeof values.source !== 'string' || values.source.trim() === '') {
        throw new CliUsageError(
          '--source is required: say where the number comes from (e.g. "my 4090, run 12").',
        )
      }
      const measured = Number(values['measured-gib'])
      if (!Number.isFinite(measured) || measured <= 0) {
        throw new CliUsageError('--measured-gib must be the measured peak in GiB, e.g. 9.4.')
      }
      const reading = values.reading
      if (reading !== undefined && !['process', 'max_reserved', 'max_allocated'].includes(String(reading))) {
        throw new CliUsageError('--reading is process, max_reserved or max_allocated.')
      }
      const scenario = await readJsonArg(values.scenario, 'scenario')
      const result = await ctx.call('vram.record', {
        scenario,
        measured_gib: measured,
        source: values.source,
        ...(reading !== undefined ? { reading } : {}),
        ...(typeof values.gpu === 'string' ? { gpu: values.gpu } : {}),
        ...(typeof values['sd-scripts'] === 'string' ? { sd_scripts: values['sd-scripts'] } : {}),
      })
      if (values.json) printJson(ctx.io, result)
      else {
        const p = result.point
        ctx.io.stdout(
          `Recorded ${p.id}: measured ${p.measured_gib} GiB, predicted ${p.predicted_gib ?? '?'} GiB ` +
            `(${result.count} points in ${result.file}).\n`,
        )
      }
      return 0
    },
  }),
  command({
    path: ['vram', 'report'],
    summary: 'Measured vs predicted peak for every known measurement, with median and largest error',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const r = await ctx.call('vram.report', {})
      if (values.json) printJson(ctx.io, r)
      else {
        for (const p of r.points) {
          const err = `${p.error_pct >= 0 ? '+' : ''}${p.error_pct.toFixed(1)} %`
          ctx.io.stdout(
            `${p.id.padEnd(24)} ${p.measured_gib.toFixed(1).padStart(6)} ${p.predicted_gib.toFixed(2).padStart(7)} ${err.padStart(8)}  ${p.source}\n`,
          )
        }
        ctx.io.stdout(
          `median |error| ${r.median_abs_error_pct.toFixed(2)} %, largest ${r.max_abs_error_pct.toFixed(2)} %\n`,
        )
      }
      return 0
    },
  }),
]
