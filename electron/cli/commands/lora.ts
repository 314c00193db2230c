import path from 'node:path'
import type { LoraInspection, LoraJob } from '../../../core/api/domains/lora'
import { ApiError } from '../../../core/api/errors'
import type { LoraInfo } from '../../../core/lora/inspect'
import type { ToolInputRaw } from '../../../core/lora/tools'
import { CliUsageError, command, jsonOption, printJson, type CliCommand, type CliContext } from '../command'

function formatInfo(info: LoraInfo): string[] {
  const w = info.weights
  const rank = w.uniform_rank
    ? `${info.rank ?? '?'}`
    : `${info.rank ?? '?'} (weights ${w.rank_min}–${w.rank_max})`
  const lines = [
    `network: ${info.network}  base: ${info.base}`,
    `rank: ${rank}  alpha: ${info.alpha ?? '?'}${info.conv_rank !== null ? `  conv rank: ${info.conv_rank}  conv alpha: ${info.conv_alpha ?? '?'}` : ''}`,
    `modules: ${info.modules} (U-Net ${info.unet_modules}, text encoders ${info.text_encoder_modules})  dtype: ${w.dtype ?? '?'}`,
  ]
  if (info.blocks.length) {
    lines.push('rank per block:')
    for (const b of info.blocks)
      lines.push(
        `  ${b.block.padEnd(6)} ${String(b.modules).padStart(4)} modules  rank ${b.rank_min === b.rank_max ? b.rank_max : `${b.rank_min}–${b.rank_max}`}  alpha ${b.alpha_min === b.alpha_max ? (b.alpha_max ?? '?') : `${b.alpha_min}–${b.alpha_max}`}`,
      )
  }
  for (const p of info.problems) lines.push(`note: ${p.message}`)
  return lines
}

function formatInspection(r: LoraInspection): string {
  const lines = [`${r.file} (${(r.size_bytes / 1024 / 1024).toFixed(1)} MiB)`, ...formatInfo(r)]
  const ss = Object.entries(r.metadata).filter(
    ([k]) => k.startsWith('ss_') && !/tag_frequency|bucket_info|dataset_dirs|datasets/.test(k),
  )
  if (ss.length) {
    lines.push('training metadata:')
    for (const [k, v] of ss.sort()) lines.push(`  ${k} = ${v.length > 120 ? `${v.slice(0, 117)}...` : v}`)
  }
  for (const n of r.training.notes) lines.push(`note: ${n.message}`)
  return `${lines.join('\n')}\n`
}

function number(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  const t = String(value).trim()
  if (!/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(t))
    throw new CliUsageError(`--${name} takes a number; got "${t}".`)
  return Number(t)
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** Starts the tool, prints its console while it runs, stops it on Ctrl-C; exit 0 when it finished. */
async function runTool(input: ToolInputRaw, json: boolean, ctx: CliContext): Promise<number> {
  const jobs = ctx.services().lora.jobs
  let id: string | null = null
  const early: Array<{ id: string; output: string }> = []
  const off = jobs.onUpdate((u) => {
    if (json || !u.output) return
    if (id === null) early.push({ id: u.job.id, output: u.output })
    else if (u.job.id === id) ctx.io.stdout(u.output)
  })
  try {
    const job = await ctx.call('lora.run', input)
    id = job.id
    if (!json) {
      ctx.io.stderr(`${job.tool}: ${job.display_command}\n`)
      for (const e of early) if (e.id === id) ctx.io.stdout(e.output)
    }
    const stopOnCtrlC = ctx.io.interrupted.then(() => jobs.stop(job.id).catch(() => undefined))
    void stopOnCtrlC
    const done: LoraJob = await jobs.waitFor(job.id)
    if (json) printJson(ctx.io, done)
    else {
      ctx.io.stdout('\n')
      if (done.state === 'finished') {
        ctx.io.stdout(`Wrote ${done.output}\n`)
        if (done.result) ctx.io.stdout(`${formatInfo(done.result).join('\n')}\n`)
      } else ctx.io.stderr(`${done.state}: ${done.reason ?? ''}\n`)
    }
    return done.state === 'finished' ? 0 : 1
  } catch (error) {
    if (error instanceof ApiError && json) printJson(ctx.io, { error: error.toJSON() })
    throw error
  } finally {
    off()
  }
}

const common = {
  ...jsonOption,
  to: { type: 'string' },
  device: { type: 'string' },
  precision: { type: 'string' },
  overwrite: { type: 'boolean', default: false },
} as const

function output(values: Record<string, unknown>, fallback: string): string {
  return path.resolve(text(values.to) ?? fallback)
}

function outputName(file: string, suffix: string): string {
  const dir = path.dirname(path.resolve(file))
  return path.join(dir, `${path.basename(file, path.extname(file))}${suffix}.safetensors`)
}

export const loraCommands: CliCommand[] = [
  command({
    path: ['lora', 'inspect'],
    args: '<file.safetensors>',
    summary: 'Inspect a LoRA file: network kind, rank, alpha, modules, rank per block, training metadata',
    options: { ...jsonOption },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file) throw new CliUsageError('Give the LoRA file: lora inspect <file.safetensors> [--json]')
      const r = await ctx.call('lora.inspect', { file: path.resolve(file) })
      if (values.json) printJson(ctx.io, r)
      else ctx.io.stdout(formatInspection(r))
      return 0
    },
  }),
  command({
    path: ['lora', 'resize'],
    args: '<file.safetensors> --rank N [--to out.safetensors] [--dynamic sv_fro --param 0.9]',
    summary:
      "Resize a LoRA to a lower rank with sd-scripts' resize_lora.py (fixed, or per module with --dynamic)",
    options: {
      ...common,
      rank: { type: 'string' },
      'conv-rank': { type: 'string' },
      dynamic: { type: 'string' },
      param: { type: 'string' },
    },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      const rank = number('rank', values.rank)
      if (!file || rank === undefined)
        throw new CliUsageError(
          'Give the LoRA file and the new rank: lora resize <file.safetensors> --rank 8',
        )
      const input = {
        tool: 'resize' as const,
        model: path.resolve(file),
        save_to: output(values, outputName(file, `-r${rank}`)),
        new_rank: rank,
        ...(values['conv-rank'] !== undefined
          ? { new_conv_rank: number('conv-rank', values['conv-rank']) }
          : {}),
        ...(values.dynamic !== undefined ? { dynamic_method: text(values.dynamic) } : {}),
        ...(values.param !== undefined ? { dynamic_param: number('param', values.param) } : {}),
        ...(values.device !== undefined ? { device: text(values.device) } : {}),
        ...(values.precision !== undefined ? { save_precision: text(values.precision) } : {}),
        overwrite: values.overwrite === true,
      }
      return runTool(input as ToolInputRaw, values.json === true, ctx)
    },
  }),
  command({
    path: ['lora', 'merge'],
    args: '<a.safetensors> <b.safetensors>… --to out.safetensors [--ratios 1,0.5] [--mode sum|concat|svd|checkpoint]',
    summary:
      "Merge LoRAs with sd-scripts' sdxl_merge_lora.py (sum, concat, into a checkpoint with --model) or svd_merge_lora.py (--mode svd --rank N)",
    options: {
      ...common,
      ratios: { type: 'string' },
      mode: { type: 'string' },
      rank: { type: 'string' },
      'conv-rank': { type: 'string' },
      model: { type: 'string' },
    },
    async run({ values, positionals }, ctx) {
      if (positionals.length === 0 || !values.to)
        throw new CliUsageError(
          'Give the LoRA files and the output: lora merge a.safetensors b.safetensors --to out.safetensors',
        )
      const ratios =
        values.ratios === undefined
          ? []
          : String(values.ratios)
              .split(',')
              .map((r) => number('ratios', r) as number)
      if (ratios.length > 0 && ratios.length !== positionals.length)
        throw new CliUsageError(
          `Give one ratio per file: ${positionals.length} files, ${ratios.length} ratios.`,
        )
      const input = {
        tool: 'merge' as const,
        mode: text(values.mode) ?? (values.model ? 'checkpoint' : 'sum'),
        models: positionals.map((f, i) => ({ file: path.resolve(f), ratio: ratios[i] ?? 1 })),
        save_to: output(values, ''),
        ...(values.rank !== undefined ? { new_rank: number('rank', values.rank) } : {}),
        ...(values['conv-rank'] !== undefined
          ? { new_conv_rank: number('conv-rank', values['conv-rank']) }
          : {}),
        ...(values.model !== undefined ? { sd_model: path.resolve(String(values.model)) } : {}),
        ...(values.device !== undefined ? { device: text(values.device) } : {}),
        ...(values.precision !== undefined ? { save_precision: text(values.precision) } : {}),
        overwrite: values.overwrite === true,
      }
      return runTool(input as ToolInputRaw, values.json === true, ctx)
    },
  }),
  command({
    path: ['lora', 'extract'],
    args: '--base <sdxl.safetensors> --tuned <finetuned.safetensors> --rank N --to out.safetensors',
    summary:
      "Extract a LoRA from a fine-tuned SDXL checkpoint with sd-scripts' extract_lora_from_models.py --sdxl",
    options: {
      ...common,
      base: { type: 'string' },
      tuned: { type: 'string' },
      rank: { type: 'string' },
      'conv-rank': { type: 'string' },
      'clamp-quantile': { type: 'string' },
      'min-diff': { type: 'string' },
    },
    async run({ values }, ctx) {
      const rank = number('rank', values.rank)
      if (!values.base || !values.tuned || rank === undefined || !values.to)
        throw new CliUsageError(
          'Give both models, the rank and the output: lora extract --base sdxl.safetensors --tuned tuned.safetensors --rank 32 --to out.safetensors',
        )
      const input = {
        tool: 'extract' as const,
        model_org: path.resolve(String(values.base)),
        model_tuned: path.resolve(String(values.tuned)),
        save_to: output(values, ''),
        dim: rank,
        ...(values['conv-rank'] !== undefined ? { conv_dim: number('conv-rank', values['conv-rank']) } : {}),
        ...(values['clamp-quantile'] !== undefined
          ? { clamp_quantile: number('clamp-quantile', values['clamp-quantile']) }
          : {}),
        ...(values['min-diff'] !== undefined ? { min_diff: number('min-diff', values['min-diff']) } : {}),
        ...(values.device !== undefined ? { device: text(values.device) } : {}),
        ...(values.precision !== undefined ? { save_precision: text(values.precision) } : {}),
        overwrite: values.overwrite === true,
      }
      return runTool(input as ToolInputRaw, values.json === true, ctx)
    },
  }),
  command({
    path: ['lora', 'jobs'],
    summary: 'LoRA tool jobs (resize, merge, extract), newest first',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const jobs = await ctx.call('lora.jobs', {})
      if (values.json) printJson(ctx.io, jobs)
      else
        for (const j of jobs)
          ctx.io.stdout(
            `${j.id}  ${j.tool.padEnd(7)} ${j.state.padEnd(8)} ${j.output}${j.reason ? `\n    ${j.reason}` : ''}\n`,
          )
      return 0
    },
  }),
]
