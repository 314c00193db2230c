import type { ProgressEvent, RunEvent } from './events'

/**
 * Save state and resume, as sd-scripts does it. With `--save_state` it saves the whole training state
 * (network, optimizer, scheduler, random states, and `train_state.json` with the step) into a folder
 * next to the checkpoints, named like the checkpoints:
 *   each N epochs: `<output_name>-<epoch:06d>-state`       (no output_name: `epoch-…`)
 *   each N steps:  `<output_name>-step<step:08d>-state`    (no output_name: `at-step…`)
 *   at the end:    `<output_name>-state`                  (no output_name: `last-state`)
 * and `--resume <folder>` continues from one. sd-scripts counts the resumed run's steps from 0 again.
 */

/** A state folder's name from what the log said (`saving state at epoch 2` / `at step 500` / `saving last state.`). */
export function stateFolderName(
  outputName: string | null,
  at: { epoch: number | null; step: number | null },
): string {
  if (at.epoch !== null) return `${outputName ?? 'epoch'}-${String(at.epoch).padStart(6, '0')}-state`
  if (at.step !== null) return `${outputName ?? 'at'}-step${String(at.step).padStart(8, '0')}-state`
  return `${outputName ?? 'last'}-state`
}

/** Whether a folder name looks like one of sd-scripts' state folders. */
export function isStateFolderName(name: string): boolean {
  return /-(\d{6}-|step\d{8}-)?state$/.test(name)
}

/**
 * The state folder a `state_saved` event names. The save hook's line (`save train state to
 * <folder>/train_state.json at epoch E step S`) names it exactly; the line before it only says what
 * was saved, which gives the name under the output folder.
 */
export function stateFolderOf(
  event: Extract<RunEvent, { type: 'state_saved' }>,
  outputDir: string | null,
  outputName: string | null,
): string | null {
  if (event.path) {
    // The log prints the path the trainer's OS uses; either separator may be there.
    const cut = Math.max(event.path.lastIndexOf('/'), event.path.lastIndexOf('\\'))
    return cut > 0 ? event.path.slice(0, cut) : null
  }
  if (!outputDir) return null
  const sep = outputDir.includes('\\') && !outputDir.includes('/') ? '\\' : '/'
  return `${outputDir.replace(/[\\/]+$/, '')}${sep}${stateFolderName(outputName, event)}`
}

/** The command of a resumed part: the same arguments, any earlier `--resume` replaced by this state. */
export function resumeCommand(command: readonly string[], stateFolder: string): string[] {
  const out: string[] = []
  for (let i = 0; i < command.length; i++) {
    const a = command[i] as string
    if (a === '--resume') {
      i++
      continue
    }
    if (a.startsWith('--resume=')) continue
    out.push(a)
  }
  return [...out, '--resume', stateFolder]
}

/**
 * A training progress frame of a resumed part, counted from the start of the run: the step moves on by
 * the steps done before, and the percentage is of the run's total (`total`, from its start-up block).
 */
export function joinProgress(e: ProgressEvent, offset: number, total: number | null): ProgressEvent {
  if (offset <= 0 || e.bar !== 'train') return e
  const step = e.step + offset
  const whole = total ?? (e.total === null ? null : e.total + offset)
  return {
    ...e,
    step,
    total: whole,
    percent: whole ? Math.min(100, Math.round((step / whole) * 1000) / 10) : e.percent,
  }
}
