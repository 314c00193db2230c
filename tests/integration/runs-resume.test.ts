import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../core/api/errors'
import type { RunNotice } from '../../core/runs/notice'
import type { RunStartInput } from '../../core/runs/record'
import { RunService } from '../../electron/services/runs/run-service'
import { runCliCaptured as cli } from '../helpers/cli'
import { trainerScript } from '../helpers/services'

const services: RunService[] = []
afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose(500)
})

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-resume кошка-'))
  const service = new RunService({ dataDir: dir, env: process.env, samplePollMs: 200, graceMs: 3000 })
  services.push(service)
  return { dir, service }
}

/** 4 epochs of 5 steps, a checkpoint and a saved state after each epoch. */
function fake(dir: string, args: string[] = []): RunStartInput {
  return {
    command: [
      'python3',
      trainerScript,
      '--output_dir',
      path.join(dir, 'out'),
      '--output_name',
      'cat',
      '--steps',
      '20',
      '--epochs',
      '4',
      '--save_every_n_epochs',
      '1',
      '--save_state',
      '--delay',
      '0.08',
      ...args,
    ],
    cwd: dir,
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('save state and resume (stand-in trainer)', () => {
  it('a run stopped after a save resumes from that state: --resume <state>, one record with both parts, steps and loss joined', async () => {
    const { dir, service } = setup()
    const notices: RunNotice[] = []
    service.onNotice((n) => notices.push(n))
    const rec = await service.start(fake(dir))
    while ((await service.get(rec.id)).state !== 'running') await sleep(50)
    // "Stop at the next save": it stops once the checkpoint and state of epoch 1 are written.
    await service.stop(rec.id, 'after_checkpoint')
    const stopped = await service.waitFor(rec.id)
    expect(stopped.state).toBe('stopped')
    const state1 = path.join(dir, 'out', 'cat-000001-state')
    expect(stopped.saved_states).toEqual([state1])
    expect(existsSync(path.join(state1, 'train_state.json'))).toBe(true)
    expect(stopped.summary.last_step).toBeLessThan(20)
    // A user stop is no "finished or failed" notice.
    expect(notices).toEqual([])

    const resumed = await service.resume(rec.id)
    expect(resumed.id).toBe(rec.id)
    expect(resumed.command.slice(-2)).toEqual(['--resume', state1])
    expect(resumed.command.filter((a) => a === '--resume')).toHaveLength(1)
    expect(resumed.step_offset).toBe(5)
    expect(resumed.segments).toHaveLength(1)
    expect(resumed.segments[0]?.state).toBe('stopped')
    expect(resumed.segments[0]?.command).not.toContain('--resume')
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('finished')
    expect(done.resume_from).toBe(state1)
    // The trainer really read that state (its log says so) and counted its own steps from 0 again.
    const log = readFileSync(service.store.file(rec.id, 'log'), 'utf8')
    expect(log).toContain(`resume training from local state: ${state1}`)
    expect(log).toContain('15/20')
    expect(log).not.toContain('20/20 [')
    // Joined: the record goes to step 20 of 20, the loss chart runs 1..20 without a restart.
    expect(done.summary.last_step).toBe(20)
    expect(done.summary.total_steps).toBe(20)
    expect(done.summary.saved_checkpoints).toEqual(
      expect.arrayContaining(['cat-000001.safetensors', 'cat-000002.safetensors', 'cat.safetensors']),
    )
    const steps = service.store
      .readEvents(rec.id)
      .flatMap((e) => (e.type === 'progress' && e.bar === 'train' && e.avr_loss !== null ? [e.step] : []))
    expect(steps.at(-1)).toBe(20)
    const afterResume = steps.slice(steps.lastIndexOf(Math.max(...steps.filter((s) => s <= 5))) + 1)
    expect(afterResume[0]).toBe(6)
    for (let i = 1; i < afterResume.length; i++)
      expect(afterResume[i]).toBeGreaterThan(afterResume[i - 1] as number)
    // The run finished: one notice with its final loss and the training time of both parts.
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatchObject({
      id: rec.id,
      state: 'finished',
      final_loss: done.summary.last_avr_loss,
    })
    expect(notices[0]?.duration_s).toBeGreaterThanOrEqual(1)
    // Later states were saved too: a second resume would take the newest (the last state).
    expect(done.saved_states.at(-1)).toBe(path.join(dir, 'out', 'cat-state'))
  }, 60_000)

  it('resume takes a chosen state, refuses a missing one, a run that saved none and a running run', async () => {
    const { dir, service } = setup()
    const rec = await service.start(fake(dir, ['--delay', '0']))
    await expect(service.resume(rec.id)).rejects.toThrow(/queued|starting|running/)
    const done = await service.waitFor(rec.id)
    expect(done.state).toBe('finished')
    expect(done.saved_states.map((s) => path.basename(s))).toEqual([
      'cat-000001-state',
      'cat-000002-state',
      'cat-000003-state',
      'cat-state',
    ])
    for (const bad of ['nope-state', '', 'кошка/../../etc']) {
      const error = await service.resume(rec.id, bad || 'missing').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ApiError)
      expect((error as ApiError).message).toMatch(/No saved state at/)
    }
    const r = await service.resume(rec.id, 'cat-000002-state')
    expect(r.command.slice(-2)).toEqual(['--resume', path.join(dir, 'out', 'cat-000002-state')])
    expect(r.step_offset).toBe(10)
    await service.waitFor(rec.id)

    // A run without --save_state: nothing to resume from, and the message says how to get one.
    const plain = await service.start({
      command: [
        'python3',
        trainerScript,
        '--output_dir',
        path.join(dir, 'plain'),
        '--steps',
        '2',
        '--delay',
        '0',
      ],
      cwd: dir,
    })
    await service.waitFor(plain.id)
    await expect(service.resume(plain.id)).rejects.toThrow(/saved no training state.*save_state/)
  }, 60_000)

  it('a state folder without train_state.json resumes from the step the run had reached', async () => {
    const { dir, service } = setup()
    const rec = await service.start(fake(dir, ['--delay', '0', '--epochs', '2', '--steps', '4']))
    const done = await service.waitFor(rec.id)
    const last = done.saved_states.at(-1) as string
    // An older sd-scripts wrote no train_state.json; a damaged one reads the same.
    writeFileSync(path.join(last, 'train_state.json'), '{ not json')
    const r = await service.resume(rec.id)
    expect(r.step_offset).toBe(4)
    await service.stop(r.id)
  }, 60_000)
})

describe('run resume (CLI)', () => {
  it('resumes the newest state, shows the terminal and ends with the joined run; bad input is a usage error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-resume-cli-'))
    const data = path.join(dir, 'data')
    const spec = path.join(dir, 'run.json')
    writeFileSync(spec, JSON.stringify(fake(dir, ['--delay', '0', '--end', 'crash', '--fail_at_step', '12'])))
    const first = await cli(['run', 'start', spec], data)
    expect(first.code).toBe(1)
    const id = (
      JSON.parse((await cli(['run', 'list', '--json'], data)).stdout) as { runs: Array<{ id: string }> }
    ).runs[0]?.id as string
    expect((await cli(['run', 'resume'], data)).code).not.toBe(0)
    const empty = await cli(['run', 'resume', id, '--state', ' '], data)
    expect(empty.code).not.toBe(0)
    expect(empty.stderr).toMatch(/--state takes a state folder/)
    // The crash came in epoch 3: the newest state is the one of epoch 2 (step 10).
    const resumed = await cli(['run', 'resume', id], data)
    expect(resumed.stderr).toContain(`Resuming from ${path.join(dir, 'out', 'cat-000002-state')}`)
    expect(resumed.stdout).toContain('resume training from local state')
    expect(resumed.stderr).toMatch(/finished\s+steps 20\/20/)
    expect(resumed.code).toBe(0)
    const rec = JSON.parse((await cli(['run', 'get', id, '--json'], data)).stdout) as {
      segments: Array<{ state: string; last_step: number }>
      step_offset: number
    }
    expect(rec.segments).toMatchObject([{ state: 'failed', last_step: 12 }])
    expect(rec.step_offset).toBe(10)
  }, 60_000)
})
