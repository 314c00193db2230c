import { open, readFile } from 'node:fs/promises'
import { describeZodError } from '../../../core/api/errors'
import { parseLog } from '../../../core/runs/parse-log'
import {
  RunStartInput,
  StopGraceSeconds,
  type RunRecord,
  type StopAction,
  type UnreadableRun,
} from '../../../core/runs/record'
import { TRAINING_TYPES, type TrainingType } from '../../../core/config/schema'
import { CliUsageError, command, jsonOption, printJson, type CliCommand, type CliContext } from '../command'
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
  const state = r.state === 'queued' && r.paused ? 'paused' : r.state
  return `${r.id}  ${state.padEnd(8)}  steps ${steps.padEnd(11)} loss ${loss.padEnd(7)} ${r.name}${r.reason ? `\n    ${r.reason}` : ''}`
}

function formatUnreadable(u: UnreadableRun): string {
  return `${u.id}  damaged   ${u.message}`
}

/** One line per thing a stop did, in words. */
export function describeStopAction(a: StopAction): string {
  switch (a.kind) {
    case 'removed_from_queue':
      return 'Removed from the queue before it started.'
    case 'interrupted':
      return `Sent Ctrl-C (SIGINT) to the trainer's process group (pid ${a.pid}).`
    case 'asked_owner':
      return `Asked the SDXL Studio process that runs it (pid ${a.owner_pid}) to stop it.`
    case 'kill_scheduled':
      return `Everything of the run is killed if it is still running in ${a.after_s} s.`
    case 'waiting_for_checkpoint':
      return 'It stops after its next checkpoint is saved.'
    case 'ended':
      return `The trainer ended ${a.after_s} s after Ctrl-C.`
    case 'killed':
      return `Still running ${a.after_s} s after Ctrl-C: killed ${a.pids.length} process${a.pids.length === 1 ? '' : 'es'} (${a.pids.join(', ')}).`
    case 'nothing_alive':
      return 'No process of it was alive any more (the process that ran it is gone).'
  }
}

/** `--grace <seconds>`: a number from 0 to 600. */
function parseGrace(value: unknown): number | undefined {
  if (value === undefined) return undefined
  const text = String(value).trim()
  const parsed = StopGraceSeconds.safeParse(text === '' ? Number.NaN : Number(text))
  if (!parsed.success)
    throw new CliUsageError(
      `--grace takes the seconds to wait after Ctrl-C before killing, from 0 to 600 (e.g. --grace 30); got "${text}".`,
    )
  return parsed.data
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

/** Shows a run this process queued until it ends (Ctrl-C stops it); exit code 0 when it finished. */
async function followRun(ctx: CliContext, rec: RunRecord, json: boolean): Promise<number> {
  const service = ctx.services().runs.service
  if (!json) ctx.io.stderr(`Run ${rec.id} queued: ${rec.display_command}\n`)
  let sub: { close: () => void } | null = null
  const off = service.onUpdate((u) => {
    if (u.run.id !== rec.id || sub || json) return
    sub = service.subscribeOutput(rec.id, (data) => ctx.io.stdout(data))
  })
  void ctx.io.interrupted.then(() => service.stop(rec.id, 'now').catch(() => undefined))
  const done = await service.waitFor(rec.id)
  off()
  ;(sub as { close: () => void } | null)?.close()
  if (json) printJson(ctx.io, done)
  else ctx.io.stderr(`\n${formatRun(done)}\n`)
  return done.state === 'finished' ? 0 : 1
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
      return followRun(ctx, rec, values.json === true)
    },
  }),
  command({
    path: ['run', 'resume'],
    args: '<id>',
    summary:
      'Resume a stopped, failed or finished run from its newest saved state (or --state <folder>) as the next part of the same run, and show its terminal until it ends',
    options: { ...jsonOption, state: { type: 'string' } },
    async run({ values, positionals }, ctx) {
      const id = positionals[0]
      if (!id) throw new CliUsageError('Give the run to resume: run resume <id> [--state <folder>]')
      const state = values.state === undefined ? undefined : String(values.state)
      if (state !== undefined && state.trim() === '')
        throw new CliUsageError('--state takes a state folder the run saved (named …-state).')
      const rec = await ctx.call('run.resume', { id, ...(state ? { state } : {}) })
      if (!values.json) ctx.io.stderr(`Resuming from ${rec.resume_from ?? '?'}\n`)
      return followRun(ctx, rec, values.json === true)
    },
  }),
  command({
    path: ['run', 'list'],
    summary: 'List runs (newest first) and the queue',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const list = await ctx.call('run.list', {})
      if (values.json) printJson(ctx.io, list)
      else {
        const lines = [...list.runs.map(formatRun), ...list.unreadable.map(formatUnreadable)]
        ctx.io.stdout(lines.length ? `${lines.join('\n')}\n` : 'No runs yet.\n')
      }
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
    summary:
      'Stop a run, also one another SDXL Studio process runs: Ctrl-C, then after --grace seconds (the setting, 10 s by default) kill it and all it started; or --after-checkpoint',
    options: {
      ...jsonOption,
      'after-checkpoint': { type: 'boolean', default: false },
      grace: { type: 'string' },
    },
    async run({ values, positionals }, ctx) {
      const grace = parseGrace(values.grace)
      const result = await ctx.call('run.stop', {
        id: positionals[0] ?? '',
        mode: values['after-checkpoint'] ? 'after_checkpoint' : 'now',
        ...(grace === undefined ? {} : { grace_s: grace }),
      })
      if (values.json) printJson(ctx.io, result)
      else {
        const done = result.actions.length
          ? result.actions.map(describeStopAction)
          : ['It had already ended.']
        ctx.io.stdout(`${done.join('\n')}\n${formatRun(result.run)}\n`)
      }
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

/** `--command-json '["python", "train.py", …]'`: a new argument array for a queued run. */
function parseCommandJson(value: unknown): string[] | undefined {
  if (value === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(String(value))
  } catch {
    parsed = null
  }
  const command = RunStartInput.shape.command.safeParse(parsed)
  if (!command.success)
    throw new CliUsageError(
      `--command-json takes the command as a JSON array of strings, e.g. '["python", "train.py", "--lr", "1e-4"]'; got ${String(value)}.`,
    )
  return command.data
}

function parseOnOff(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined
  const text = String(value).trim().toLowerCase()
  if (['on', 'true', 'yes', '1'].includes(text)) return true
  if (['off', 'false', 'no', '0'].includes(text)) return false
  throw new CliUsageError(`--${name} takes on or off; got "${String(value)}".`)
}

function formatQueue(list: { runs: RunRecord[]; queue: string[]; held_by: string | null }): string {
  const byId = new Map(list.runs.map((r) => [r.id, r]))
  const lines = list.queue.map((id, i) => {
    const r = byId.get(id)
    const gpus = r?.gpus?.length ? `GPU ${r.gpus.join(',')}` : 'all GPUs'
    return `${String(i + 1).padStart(2)}. ${id}  ${r?.paused ? 'paused ' : 'waiting'}  ${gpus.padEnd(9)} ${r?.name ?? ''}`
  })
  if (list.held_by) lines.push(`The queue is held: run ${list.held_by} failed (queue resume lets it go on).`)
  return lines.length ? `${lines.join('\n')}\n` : 'The queue is empty.\n'
}

runsCommands.push(
  command({
    path: ['queue', 'list'],
    summary: 'The queued runs of this data folder in the order they start (paused ones keep their place)',
    options: { ...jsonOption },
    async run({ values }, ctx) {
      const list = await ctx.call('run.list', {})
      // Runs queued by other processes (the app, a server) wait in theirs: listed after ours.
      const others = list.runs
        .filter((r) => r.state === 'queued' && !list.queue.includes(r.id))
        .sort((a, b) => a.created_at.localeCompare(b.created_at))
        .map((r) => r.id)
      const queue = [...list.queue, ...others]
      if (values.json) printJson(ctx.io, { queue, held_by: list.held_by })
      else ctx.io.stdout(formatQueue({ ...list, queue }))
      return 0
    },
  }),
  command({
    path: ['queue', 'reorder'],
    args: '<id> <id> …',
    summary: 'Set the order of the queued runs (every queued id once, first to start first)',
    options: { ...jsonOption },
    async run({ values, positionals }, ctx) {
      if (positionals.length === 0)
        throw new CliUsageError('Give every queued run in the new order: queue reorder <id> <id> …')
      const result = await ctx.call('queue.reorder', { ids: positionals })
      if (values.json) printJson(ctx.io, result)
      else ctx.io.stdout(`${result.queue.map((id, i) => `${i + 1}. ${id}`).join('\n')}\n`)
      return 0
    },
  }),
  ...(['pause', 'unpause'] as const).map((verb) =>
    command({
      path: ['queue', verb],
      args: '<id>',
      summary:
        verb === 'pause'
          ? 'Hold a queued run: it keeps its place and holds no GPU; runs behind it may start'
          : 'Let a paused queued run start again when its GPUs are free',
      options: { ...jsonOption },
      async run({ values, positionals }, ctx) {
        const id = positionals[0]
        if (!id) throw new CliUsageError(`Give the queued run: queue ${verb} <id>`)
        const rec = await ctx.call('queue.pause', { id, paused: verb === 'pause' })
        if (values.json) printJson(ctx.io, rec)
        else ctx.io.stdout(`${rec.id}  ${rec.paused ? 'paused' : 'waiting'}  ${rec.name}\n`)
        return 0
      },
    }),
  ),
  command({
    path: ['queue', 'edit'],
    args: '<id>',
    summary:
      'Change a queued run before it starts: --name, --gpus 0,1, --stop-on-failure on|off, --command-json \'["python", …]\'',
    options: {
      ...jsonOption,
      name: { type: 'string' },
      gpus: { type: 'string' },
      'stop-on-failure': { type: 'string' },
      'command-json': { type: 'string' },
    },
    async run({ values, positionals }, ctx) {
      const id = positionals[0]
      if (!id) throw new CliUsageError('Give the queued run: queue edit <id> [--name …] [--gpus …]')
      const change = {
        id,
        ...(values.name !== undefined ? { name: String(values.name) } : {}),
        ...(values.gpus !== undefined ? { gpus: gpusOption(values.gpus) } : {}),
        ...(values['stop-on-failure'] !== undefined
          ? { stop_on_failure: parseOnOff(values['stop-on-failure'], 'stop-on-failure') }
          : {}),
        ...(values['command-json'] !== undefined
          ? { command: parseCommandJson(values['command-json']) }
          : {}),
      }
      if (Object.keys(change).length === 1)
        throw new CliUsageError('Say what to change: --name, --gpus, --stop-on-failure or --command-json.')
      const rec = await ctx.call('queue.edit', change)
      if (values.json) printJson(ctx.io, rec)
      else ctx.io.stdout(`${formatRun(rec)}\n${rec.display_command}\n`)
      return 0
    },
  }),
)
