import { RunRecord } from '../../core/runs/record'

/** A valid run record (an ended run of `python` in /) with the given fields changed. */
export function runRecord(fields: Partial<RunRecord> & { id: string }): RunRecord {
  const command = fields.command ?? ['python']
  const cwd = fields.cwd ?? '/'
  return RunRecord.parse({
    name: `run ${fields.id}`,
    state: 'finished',
    reason: null,
    exit_code: 0,
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: null,
    ended_at: '2026-01-01T01:00:00.000Z',
    display_command: command.join(' '),
    env: {},
    gpus: null,
    output_dir: null,
    save_configured: false,
    stop_on_failure: false,
    stop_requested: null,
    pid: null,
    owner_pid: null,
    owner_start_time: null,
    summary: {
      total_steps: null,
      last_step: null,
      epochs_total: null,
      last_epoch: null,
      last_avr_loss: null,
      error: null,
      saved_checkpoints: [],
    },
    it_per_s: null,
    remaining_s: null,
    failure: null,
    samples: [],
    peak_gpu_memory_mib: null,
    predicted_peak_mib: null,
    rerun_of: null,
    input: { command, cwd },
    ...fields,
    command,
    cwd,
  })
}
