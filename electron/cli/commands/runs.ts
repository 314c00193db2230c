import { open, readFile } from 'node:fs/promises'
import { describeZodError } from '../../../core/api/errors'
import { parseLog } from '../../../core/runs/parse-log'
import { RunStartInput, type RunRecord } from '../../../core/runs/record'
import { TRAINING_TYPES, type TrainingType } from '../../../core/config/schema'
import { command, jsonOption, printJson, type CliCommand } from '../command'
import { gpusOption } from './gpu'

export const runsCommands: CliCommand[] = [
  command({
    path: ['run', 'parse-log'],
    args: '<file>',
    summary:
      'Read a saved sd-scripts console log: summary (steps, epochs, loss, error, checkpoints) and events',
    options: { ...jsonOption },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file) throw new Error('Give the log file to read: run parse-log <file> [--json]')
      let content: Buffer
      try {
        content = await readFile(file)
      } catch (error) {
        throw new Error(`Cannot read the log file ${file}: ${(error as Error).message}. Check the path.`)
      }
      const result = parseLog(content)
      if (values.json) {
        printJson(ctx.io, result)
        return 0
      }
      const s = result.summary
      const lines = [
        `steps: ${s.last_step ?? '?'} / ${s.total_steps ?? '?'}`,
        `epoch: ${s.last_epoch ?? '?'} / ${s.epochs_total ?? '?'}`,
        `last avr_loss: ${s.last_avr_loss ?? 'n/a'}`,
        `error: ${s.error ?? 'none'}`,
        `saved checkpoints: ${s.saved_checkpoints.length ? s.saved_checkpoints.join(', ') : 'none'}`,
      ]
      for (const f of result.events) if (f.type === 'failure') lines.push(`  ${f.kind}: ${f.message}`)
      ctx.io.stdout(`${lines.join('\n')}\n`)
      return 0
    },
  }),
]

function formatRun(r: RunRecord): string {
  const s = r.summary
  const steps = s.last_step !== null ? `${s.last_step}/${s.total_steps ?? '?'}` : '-'
  const loss = s.last_avr_loss !== null ? s.last_avr_loss.toFixed(4) : '-'
  return `${r.id}  ${r.state.padEnd(8)}  steps ${steps.padEnd(11)} loss ${loss.padEnd(7)} ${r.name}${r.reason ? `\n    ${r.reason}` : ''}`
}

/**
 * A start file is either a run description ({"command": [...], "cwd": ...}) or one of our training
 * configs (docs/configs.md), told apart by schema; a config goes through train.start.
 */
type StartFile = { kind: 'run'; input: RunStartInput } | { kind: 'config'; config: unknown }

async function readStartFile(file: string): Promise<StartFile> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new Error(`Cannot read ${file} as JSON: ${(error as Error).message}`)
  }
  const parsed = RunStartInput.safeParse(raw)
  if (parsed.success) return { kind: 'run', input: parsed.data }
  const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {}
  if (!('command' in o) && TRAINING_TYPES.includes(o.type as TrainingType))
    return { kind: 'config', config: raw }
  throw new Error(
    `${file} is not a run description: ${describeZodError(parsed.error)}. It needs {"command": ["program", "arg", …], "cwd": "folder"} and may have env, gpus, name, config, dataset_toml, output_dir, or it is a training config with "type": ${TRAINING_TYPES.join(' | ')}.`,
  )
}

const ended = (state: string) => state === 'finished' || state === 'failed' || state === 'stopped'

runsCommands.push(
  command({
    path: ['run', 'start'],
    args: '<run.json | config.json>',
    summary:
      'Start a run from {"command": [...], "cwd": ...} or a training config (--gpus 0,1) and show its terminal until it ends (Ctrl-C stops it)',
    options: { ...jsonOption, gpus: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const file = positionals[0]
      if (!file)
        throw new Error('Give the run description or config file: run start <run.json | config.json>')
      const start = await readStartFile(file)
      const gpus = gpusOption(values.gpus)
      const service = ctx.services().runs.service
      const rec =
        start.kind === 'config'
          ? await ctx.call('train.start', { config: start.config, ...(gpus ? { gpus } : {}) })
          : await service.start(gpus ? { ...start.input, gpus } : start.input)
      if (!values.json) ctx.io.stderr(`Run ${rec.id} queued: ${rec.display_command}\n`)
      let sub: { close: () => void } | null = null
      const off = service.onUpdate((u) => {
        if (u.run.id !== rec.id || sub || values.json) return
        sub = service.subscribeOutput(rec.id, (data) => ctx.io.stdout(data))
      })
      void ctx.io.interrupted.then(() => service.stop(rec.id, 'now').catch(() => undefined))
      const done = await service.waitFor(rec.id)
      off()
      ;(sub as { close: () => void } | null)?.close()
      if (values.json) printJson(ctx.io, done)
      else ctx.io.stderr(`\n${formatRun(done)}\n`)
      return done.state === 'finished' ? 0 : 1
    },
  }),
  command({
    path: ['run', 'list'],
    summary: 'List runs (newest first) and the queue',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const list = await ctx.call('run.list', {})
      if (values.json) printJson(ctx.io, list)
      else ctx.io.stdout(list.runs.length ? `${list.runs.map(formatRun).join('\n')}\n` : 'No runs yet.\n')
      return 0
    },
  }),
  command({
    path: ['run', 'get'],
    args: '<id>',
    summary: 'Show one run record',
    options: { ...jsonOption },
    async run({ values, positionals }, ctx) {
      const rec = await ctx.call('run.get', { id: positionals[0] ?? '' })
      if (values.json) printJson(ctx.io, rec)
      else ctx.io.stdout(`${formatRun(rec)}\n${rec.display_command}\n`)
      return 0
    },
  }),
  command({
    path: ['run', 'stop'],
    args: '<id>',
    summary: 'Stop a run now (sd-scripts saves nothing), or --after-checkpoint',
    options: { ...jsonOption, 'after-checkpoint': { type: 'boolean', default: false } },
    async run({ values, positionals }, ctx) {
      const rec = await ctx.call('run.stop', {
        id: positionals[0] ?? '',
        mode: values['after-checkpoint'] ? 'after_checkpoint' : 'now',
      })
      if (values.json) printJson(ctx.io, rec)
      else ctx.io.stdout(`${formatRun(rec)}\n`)
      return 0
    },
  }),
  command({
    path: ['run', 'log'],
    args: '<id>',
    summary: "Print a run's console log; --follow keeps printing until the run ends or Ctrl-C",
    options: { follow: { type: 'boolean', default: false } },
    async run({ values, positionals }, ctx) {
      const id = positionals[0] ?? ''
      const service = ctx.services().runs.service
      await service.get(id)
      const file = service.store.file(id, 'log')
      let offset = 0
      const printNew = async () => {
        let handle
        try {
          handle = await open(file, 'r')
        } catch {
          return
        }
        try {
          const { size } = await handle.stat()
          if (size < offset) offset = 0 // rotated
          if (size === offset) return
          const buf = Buffer.alloc(size - offset)
          await handle.read(buf, 0, buf.length, offset)
          offset = size
          ctx.io.stdout(buf.toString('utf8'))
        } finally {
          await handle.close()
        }
      }
      await printNew()
      if (!values.follow) return 0
      let stop = false
      void ctx.io.interrupted.then(() => (stop = true))
      while (!stop) {
        await new Promise((r) => setTimeout(r, 250))
        await printNew()
        const rec = await service.store.load(id)
        if (!rec || ended(rec.state)) {
          await printNew()
          break
        }
      }
      return 0
    },
  }),
)
