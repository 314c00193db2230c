import { readFile } from 'node:fs/promises'
import { parseLog } from '../../../core/runs/parse-log'
import { command, jsonOption, printJson, type CliCommand } from '../command'

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
