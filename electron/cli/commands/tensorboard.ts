import { CliUsageError, command, jsonOption, printJson, type CliCommand } from '../command'

export const tensorboardCommands: CliCommand[] = [
  command({
    path: ['tensorboard', 'scalars'],
    args: '<run id>',
    summary: "A run's TensorBoard scalars (loss, learning rates, loss per epoch) from its event files",
    options: { ...jsonOption },
    async run({ values, positionals }, ctx) {
      const id = positionals[0]
      if (!id) throw new CliUsageError('Give the run id (see "run list"): tensorboard scalars <run id>')
      const r = await ctx.call('tensorboard.scalars', { id })
      if (values.json) {
        printJson(ctx.io, r)
        return 0
      }
      if (!r.logging_dir) {
        ctx.io.stdout('This run does not log to TensorBoard.\n')
        return 0
      }
      const lines = [`${r.logging_dir} (${r.files} event file${r.files === 1 ? '' : 's'})`]
      for (const [tag, points] of Object.entries(r.scalars)) {
        const last = points[points.length - 1]
        lines.push(
          `  ${tag.padEnd(28)} ${String(points.length).padStart(6)} points  last ${last ? `${last[1]} at ${last[0]}` : '-'}`,
        )
      }
      for (const p of r.problems) lines.push(`problem: ${p.message}`)
      ctx.io.stdout(`${lines.join('\n')}\n`)
      return 0
    },
  }),
  command({
    path: ['tensorboard', 'open'],
    args: '<run id>',
    summary: "Start TensorBoard for a run's logs on a free local port; runs until Ctrl-C",
    options: { ...jsonOption },
    async run({ values, positionals }, ctx) {
      const id = positionals[0]
      if (!id) throw new CliUsageError('Give the run id (see "run list"): tensorboard open <run id>')
      const s = await ctx.call('tensorboard.open', { id })
      if (values.json) printJson(ctx.io, s)
      else ctx.io.stdout(`TensorBoard: ${s.url} (logs: ${s.logdir}). Press Ctrl-C to stop it.\n`)
      await ctx.io.interrupted
      return 0
    },
  }),
]
