import type { LogSummary, RunEvent } from './events'

/**
 * Folds parser events into the facts a run record and `run parse-log` report. Incremental, so the
 * runner keeps one per run; `summarizeEvents` does a whole list at once.
 */
export class SummaryReducer {
  private startupTotal: number | null = null
  private barTotal: number | null = null
  private lastStep: number | null = null
  private startupEpochs: number | null = null
  private epochTotal: number | null = null
  private lastEpoch: number | null = null
  private lastLoss: number | null = null
  private oom = false
  private traceback = false
  private checkpoints: string[] = []

  /** Goes on from an earlier part of the run (a resumed run): its figures and checkpoints stay. */
  static from(summary: LogSummary): SummaryReducer {
    const r = new SummaryReducer()
    r.startupTotal = summary.total_steps
    r.lastStep = summary.last_step
    r.epochTotal = summary.epochs_total
    r.lastEpoch = summary.last_epoch
    r.lastLoss = summary.last_avr_loss
    r.checkpoints = [...summary.saved_checkpoints]
    return r
  }

  add(event: RunEvent): void {
    switch (event.type) {
      case 'startup':
        if (event.total_steps !== null) this.startupTotal = event.total_steps
        if (event.epochs !== null) this.startupEpochs = event.epochs
        break
      case 'progress':
        if (event.bar !== 'train') break
        this.lastStep = event.step
        if (event.total !== null) this.barTotal = event.total
        if (event.avr_loss !== null) this.lastLoss = event.avr_loss
        break
      case 'epoch':
        this.lastEpoch = event.epoch
        this.epochTotal = event.total
        break
      case 'checkpoint':
        if (event.action === 'saved' && !this.checkpoints.includes(event.file))
          this.checkpoints.push(event.file)
        break
      case 'failure':
        if (event.kind === 'oom') this.oom = true
        if (event.kind === 'traceback' || event.kind === 'exception') this.traceback = true
        break
    }
  }

  get(): LogSummary {
    return {
      // The start-up block is the run's own statement; a resumed run's bar counts only what is left.
      total_steps: this.startupTotal ?? this.barTotal,
      last_step: this.lastStep,
      epochs_total: this.epochTotal ?? this.startupEpochs,
      last_epoch: this.lastEpoch,
      last_avr_loss: this.lastLoss,
      error: this.oom ? 'oom' : this.traceback ? 'traceback' : null,
      saved_checkpoints: [...this.checkpoints],
    }
  }
}

/**
 * The loss chart: [step, avr_loss] per training step, from the LAST progress frame of each step. tqdm
 * redraws a step's bar when the step is counted (still showing the previous step's average) and again
 * when the new average is set, so the first frame of a step is one step late; the last one is right,
 * and the final step's loss comes with it.
 */
export function lossSeries(events: Iterable<RunEvent>): Array<[number, number]> {
  const byStep = new Map<number, number>()
  for (const e of events)
    if (e.type === 'progress' && e.bar === 'train' && e.avr_loss !== null) byStep.set(e.step, e.avr_loss)
  return [...byStep.entries()].sort((a, b) => a[0] - b[0])
}

export function summarizeEvents(events: Iterable<RunEvent>): LogSummary {
  const r = new SummaryReducer()
  for (const e of events) r.add(e)
  return r.get()
}
