import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../core/api/errors'
import { createServices, type Services } from '../../electron/services'
import { isAlive } from '../../electron/services/runs/process-tree'
import { runCliCaptured } from '../helpers/cli'
import { caller } from './lora-helpers'
import { sharedTensorboardVenv, writeEvents } from './tensorboard-helpers'
import { addStandinTorch, makeWorld, withFiles, type TrainingWorld } from './training-helpers'

/*
 * TensorBoard with the real `tensorboard` package (a venv in the shared test cache, from PyPI): event
 * files it writes are read back through tensorboard.scalars, every scalar checked; "Open in
 * TensorBoard" starts its server from the environment's Python on 127.0.0.1 and stops it.
 */

let w: TrainingWorld
let venv: string
let services: Services
const call = caller(() => services)

beforeAll(async () => {
  venv = sharedTensorboardVenv()
  // With a stand-in torch, as a real sd-scripts venv has torch: the environment verifies, so previews
  // render the run's files.
  addStandinTorch(path.join(venv, 'bin', 'python'))
  w = makeWorld('tensorboard-')
  services = createServices({ dataDir: w.dataDir, mode: 'headless', env: process.env, version: 'test' })
  // The environment's Python is the one with tensorboard (as a real sd-scripts venv has it).
  const r = await services.router.call(
    'env.useExisting',
    { name: 'tb', folder: w.installDir, venv },
    { transport: 'test' },
  )
  expect(r.ok, JSON.stringify(r)).toBe(true)
}, 300_000)

afterAll(async () => {
  await services?.dispose()
})

/** A finished run whose launched config logs to `dir` (what train.start records). */
async function runLoggingTo(dir: string | null): Promise<string> {
  const rec = await call('run.start', {
    command: [path.join(venv, 'bin', 'python'), '-c', 'pass'],
    cwd: w.root,
    name: 'logging run',
    config: dir ? { type: 'lora', logging: { logging_dir: dir } } : { type: 'lora' },
  })
  await services.runs.service.waitFor(rec.id)
  return rec.id
}

describe('tensorboard.scalars', () => {
  it('reads every scalar of event files the tensorboard package wrote, incrementally', async () => {
    const logdir = path.join(w.root, 'logs-a')
    // As sd-scripts lays it out: <logging_dir>/<prefix><time>/network_train/events.out.tfevents.*
    const expected = writeEvents(venv, path.join(logdir, '20260101120000', 'network_train'), [
      '--steps',
      '24',
      '--epochs',
      '4',
    ])
    const id = await runLoggingTo(logdir)
    const first = await call('tensorboard.scalars', { id })
    expect(first).toMatchObject({ logging_dir: logdir, files: 1, problems: [] })
    expect(first.scalars).toEqual(expected)
    expect(Object.keys(first.scalars).sort()).toEqual([
      'loss/average',
      'loss/current',
      'loss/epoch_average',
      'lr/textencoder',
      'lr/unet',
    ])
    expect(first.scalars['loss/current']).toHaveLength(24)
    expect(first.scalars['loss/epoch_average']?.map((p) => p[0])).toEqual([1, 2, 3, 4])

    // A second file appears (a resumed run, tensor-style scalars): its tags join; nothing is lost.
    const more = writeEvents(venv, path.join(logdir, '20260101130000', 'network_train'), [
      '--style',
      'new',
      '--steps',
      '30',
      '--epochs',
      '3',
      '--groups',
      'group0,group1,group2',
    ])
    const second = await call('tensorboard.scalars', { id })
    expect(second.files).toBe(2)
    expect(second.scalars['lr/group2']).toEqual(more['lr/group2'])
    expect(second.scalars['lr/unet']).toEqual(expected['lr/unet'])
    expect(second.scalars['loss/current']).toHaveLength(30)
  }, 60_000)

  it('a record still being written is read once complete; a damaged file keeps what came before', async () => {
    const logdir = path.join(w.root, 'logs-b')
    const expected = writeEvents(venv, path.join(logdir, 'run'), ['--steps', '6', '--epochs', '2'])
    const file = path.join(logdir, 'run', readdirSync(path.join(logdir, 'run'))[0] as string)
    const id = await runLoggingTo(logdir)
    const whole = readFileSync(file)
    // Start with the file cut inside a record, as a reader sees one mid-write.
    writeFileSync(file, whole.subarray(0, whole.length - 5))
    const partial = await call('tensorboard.scalars', { id })
    expect(partial.problems).toEqual([])
    expect(partial.scalars['loss/current']?.length ?? 0).toBeLessThanOrEqual(6)
    appendFileSync(file, whole.subarray(whole.length - 5))
    expect((await call('tensorboard.scalars', { id })).scalars).toEqual(expected)
    // Now garbage is appended: a problem names the file; the scalars stay.
    appendFileSync(file, Buffer.from('this is not a tfrecord at all, just text appended'))
    const damaged = await call('tensorboard.scalars', { id })
    expect(damaged.scalars).toEqual(expected)
    expect(damaged.problems).toHaveLength(1)
    expect(damaged.problems[0]).toMatchObject({ file, code: 'bad_crc' })
    expect(damaged.problems[0]?.message).toContain(`Event file ${file} at byte ${whole.length}`)
  }, 60_000)

  it('a run that does not log, and a logging folder with nothing yet', async () => {
    expect(await call('tensorboard.scalars', { id: await runLoggingTo(null) })).toEqual({
      logging_dir: null,
      files: 0,
      scalars: {},
      problems: [],
    })
    const empty = await call('tensorboard.scalars', {
      id: await runLoggingTo(path.join(w.root, 'logs-none')),
    })
    expect(empty).toMatchObject({ files: 0, scalars: {}, problems: [] })
    await expect(call('tensorboard.scalars', { id: 'no-such-run' })).rejects.toMatchObject({
      code: 'not_found',
    })
  })
})

describe('Open in TensorBoard', () => {
  it("starts TensorBoard on a free 127.0.0.1 port serving the run's scalars, then stops it", async () => {
    const logdir = path.join(w.root, 'logs-serve')
    writeEvents(venv, path.join(logdir, '20260101120000', 'network_train'))
    const id = await runLoggingTo(logdir)
    const s = await call('tensorboard.open', { id })
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(s.logdir).toBe(logdir)
    expect(isAlive(s.pid)).toBe(true)
    // The same run again: the same server.
    expect(await call('tensorboard.open', { id })).toEqual(s)
    const page = await fetch(s.url)
    expect(page.status).toBe(200)
    // TensorBoard itself lists the run's tags (its scalars plugin read our folder).
    let tags = ''
    for (let i = 0; i < 60 && !tags.includes('loss/current'); i++) {
      tags = await (await fetch(`${s.url}data/plugin/scalars/tags`)).text()
      if (!tags.includes('loss/current')) await new Promise((r) => setTimeout(r, 500))
    }
    expect(tags).toContain('loss/epoch_average')
    expect(await call('tensorboard.close', { id })).toEqual({ closed: true })
    expect(isAlive(s.pid)).toBe(false)
    expect(await call('tensorboard.close', { id })).toEqual({ closed: false })
  }, 120_000)

  it('quitting the app stops the TensorBoard it started', async () => {
    const logdir = path.join(w.root, 'logs-quit')
    mkdirSync(logdir)
    const other = createServices({ dataDir: w.dataDir, mode: 'headless', env: process.env, version: 'test' })
    const s = await caller(() => other)('tensorboard.open', { id: await runLoggingTo(logdir) })
    expect(isAlive(s.pid)).toBe(true)
    await other.dispose()
    expect(isAlive(s.pid)).toBe(false)
  }, 120_000)

  it('a run that does not log is refused; an environment without tensorboard says how to install it', async () => {
    const quiet = await runLoggingTo(null)
    await expect(call('tensorboard.open', { id: quiet })).rejects.toThrow(/does not log to TensorBoard/)
    const bare = makeWorld('tensorboard-bare-')
    const other = createServices({
      dataDir: bare.dataDir,
      mode: 'headless',
      env: process.env,
      version: 'test',
    })
    try {
      const c = caller(() => other)
      await c('env.useExisting', { name: 'bare', folder: bare.installDir })
      const rec = await c('run.start', {
        command: [bare.venvPython, '-c', 'pass'],
        cwd: bare.root,
        config: { logging: { logging_dir: path.join(bare.root, 'logs') } },
      })
      await other.runs.service.waitFor(rec.id)
      const err = await c('tensorboard.open', { id: rec.id }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ApiError)
      expect((err as ApiError).message).toMatch(
        /TensorBoard is not installed in environment "bare".*-m pip install tensorboard/,
      )
    } finally {
      await other.dispose()
    }
  }, 120_000)
})

describe('a training run that logs gets its own logging folder', () => {
  it("under the chosen folder, named after the run's inputs folder; sd-scripts is told tensorboard", async () => {
    const p = (await call('presets.get', { id: 'lora-12gb' })) as { config: Record<string, unknown> }
    const chosen = path.join(w.root, 'tb-logs')
    const config = { ...withFiles(p.config, w), logging: { logging_dir: chosen } }
    const preview = await call('train.preview', { config })
    const toml = preview.files?.['config.toml'] ?? ''
    const inputs = preview.inputs_dir as string
    expect(toml).toContain(`logging_dir = ${JSON.stringify(path.join(chosen, path.basename(inputs)))}`)
    expect(toml).toContain('log_with = "tensorboard"')
    // Without logging, no logging option at all.
    const quiet = await call('train.preview', { config: withFiles(p.config, w) })
    expect(quiet.files?.['config.toml']).not.toContain('logging_dir')
  })
})

describe('CLI', () => {
  it('tensorboard scalars <run id> lists the tags with their last values; --json is the API answer', async () => {
    const logdir = path.join(w.root, 'logs-cli')
    writeEvents(venv, path.join(logdir, 'run'), ['--steps', '5', '--epochs', '5'])
    const id = await runLoggingTo(logdir)
    const text = await runCliCaptured(['tensorboard', 'scalars', id], w.dataDir)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(`${logdir} (1 event file)`)
    expect(text.stdout).toMatch(/loss\/epoch_average +5 points {2}last [\d.]+ at 5/)
    const json = await runCliCaptured(['tensorboard', 'scalars', id, '--json'], w.dataDir)
    expect(JSON.parse(json.stdout)).toEqual(await call('tensorboard.scalars', { id }))
    const missing = await runCliCaptured(['tensorboard', 'scalars', 'nope'], w.dataDir)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('No run with id nope')
  })
})
