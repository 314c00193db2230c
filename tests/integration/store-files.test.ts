import { execFileSync, spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RequestName } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import type { RunRecord } from '../../core/runs/record'
import type { Services } from '../../electron/services'
import { RunStore } from '../../electron/services/runs/run-store'
import { readRegularFile } from '../../electron/services/store/regular-file'
import { TEMP_FILE_PATTERN } from '../../electron/services/store/atomic'
import { pruneUnusedInputs } from '../../electron/services/training/domain'
import { runRecord } from '../helpers/run-record'
import { repoRoot, servicesPerTest, trainerScript } from '../helpers/services'

const makeServices = servicesPerTest()

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

function open(dataDir: string): Services {
  return makeServices({ dataDir, mode: 'headless', env: process.env, version: 'test' })
}

async function call(services: Services, method: RequestName, input: unknown): Promise<unknown> {
  const r = await services.router.call(method, input, { transport: 'test' })
  if (!r.ok) throw ApiError.from(r.error)
  return r.result
}

/** Every file below `dir` whose name is an atomic write's temporary file. */
function temps(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => TEMP_FILE_PATTERN.test(path.basename(f)))
    .map((f) => path.join(dir, f))
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000)

function age(file: string, minutes: number): void {
  utimesSync(file, minutesAgo(minutes), minutesAgo(minutes))
}

/** Runs a writer (tests/fixtures/store/write-loop.ts) and kills it with SIGKILL while it writes. */
async function killWriterMidWrite(dataDir: string, afterMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'tests/fixtures/store/write-loop.ts'), dataDir],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the writer never started writing')), 60_000)
    child.stdout.on('data', (d: Buffer) => {
      if (!d.toString().includes('writing')) return
      clearTimeout(timer)
      resolve()
    })
  })
  await new Promise((r) => setTimeout(r, afterMs))
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await exited
}

describe('atomic writes killed with SIGKILL', () => {
  it('leave whole files and stale temporary files; the next start removes only old ones of ours', async () => {
    const dataDir = tmp('store-kill-')
    for (let i = 0; i < 6; i++) await killWriterMidWrite(dataDir, 150 + i * 60)
    // Whatever was killed, every target is whole: the old content or the new one.
    for (const f of ['settings.json', 'runs/20260101000000-aaaaaa/summary.json', 'presets/user-cat.json'])
      expect(JSON.parse(readFileSync(path.join(dataDir, f), 'utf8'))).toHaveProperty('filler')
    const left = temps(dataDir)
    expect(left.length).toBeGreaterThan(0)
    // Their writers are dead; two minutes old, they are stale.
    for (const f of left) age(f, 2)
    // Decoys: a fresh one of a dead writer (may still be renamed by... no one, but it is young), one of
    // a live writer (this process) ten minutes old, and names that are not our pattern.
    const young = path.join(dataDir, `.settings.json.999999999.0123abcd.tmp`)
    const live = path.join(dataDir, 'runs', `.queue.json.${process.pid}.89abcdef.tmp`)
    const liveButAncient = path.join(dataDir, 'runs', `.x.json.${process.pid}.fedcba98.tmp`)
    const notOurs = ['.notes.tmp', 'draft.tmp', '.settings.json.123.zzzzzzzz.tmp', 'a.json.123.0123abcd.tmp']
    mkdirSync(path.join(dataDir, 'runs'), { recursive: true })
    for (const f of [young, live, liveButAncient]) writeFileSync(f, '{')
    age(live, 10)
    age(liveButAncient, 120)
    for (const n of notOurs) {
      writeFileSync(path.join(dataDir, n), 'mine')
      age(path.join(dataDir, n), 600)
    }
    // A temp file deep in a cache is never looked at.
    const cached = path.join(dataDir, 'cache', 'uv', `.x.json.999999999.0123abcd.tmp`)
    mkdirSync(path.dirname(cached), { recursive: true })
    writeFileSync(cached, '')
    age(cached, 600)

    const services = open(dataDir)
    const removed = await services.app.startupCleanup
    expect(removed.sort()).toEqual([...left, liveButAncient].sort())
    expect(temps(dataDir).sort()).toEqual([young, live, cached].sort())
    for (const n of notOurs) expect(readFileSync(path.join(dataDir, n), 'utf8')).toBe('mine')
    // The app reads what the writer left.
    expect(await call(services, 'settings.get', {})).toBeDefined()
  }, 180_000)
})

function record(id: string, dir: string, command: string[]): RunRecord {
  return runRecord({ id, cwd: dir, command, created_at: `2026-01-0${id.slice(-1)}T00:00:00.000Z` })
}

describe('damaged run records', () => {
  /** A data folder with a good run, three damaged ones, and training inputs of each. */
  function damagedWorld() {
    const dataDir = tmp('store-damaged-')
    const runs = path.join(dataDir, 'runs')
    const inputs = path.join(dataDir, 'training')
    const input = (name: string) => {
      const dir = path.join(inputs, name)
      mkdirSync(dir, { recursive: true })
      writeFileSync(path.join(dir, 'config.toml'), '')
      return path.join(dir, 'config.toml')
    }
    const write = (id: string, file: string, content: string) => {
      mkdirSync(path.join(runs, id), { recursive: true })
      writeFileSync(path.join(runs, id, file), content)
    }
    const good = '20260101000000-000001'
    const torn = '20260101000000-000002'
    const alien = '20260101000000-000003'
    const empty = '20260101000000-000004'
    const cmd = (config: string) => ['python3', 'train.py', '--config_file', config]
    write(good, 'summary.json', JSON.stringify(record(good, dataDir, cmd(input('good')))))
    // Torn by a crash in an older version that wrote in place; its command.json survives.
    const tornRecord = JSON.stringify(record(torn, dataDir, cmd(input('torn'))))
    write(torn, 'summary.json', tornRecord.slice(0, tornRecord.length / 2))
    write(torn, 'command.json', JSON.stringify(cmd(path.join(inputs, 'torn', 'config.toml'))))
    write(alien, 'summary.json', JSON.stringify({ id: alien, state: 'exploded' }))
    mkdirSync(path.join(runs, empty))
    input('orphan') // no run refers to it
    for (const d of ['good', 'torn', 'orphan'])
      utimesSync(path.join(inputs, d), minutesAgo(120), minutesAgo(120))
    utimesSync(path.join(runs, empty), minutesAgo(5), minutesAgo(5))
    return { dataDir, inputs, good, torn, alien, empty }
  }

  it('are listed as damaged with their file, never hide the others, and can be deleted', async () => {
    const w = damagedWorld()
    const services = open(w.dataDir)
    const list = (await call(services, 'run.list', {})) as {
      runs: RunRecord[]
      unreadable: Array<{ id: string; file: string; problem: string; message: string }>
    }
    expect(list.runs.map((r) => r.id)).toEqual([w.good])
    const byId = Object.fromEntries(list.unreadable.map((u) => [u.id, u]))
    expect(Object.keys(byId).sort()).toEqual([w.torn, w.alien, w.empty].sort())
    expect(byId[w.torn]).toMatchObject({
      problem: 'invalid_json',
      file: path.join(w.dataDir, 'runs', w.torn, 'summary.json'),
    })
    expect(byId[w.torn]?.message).toContain(path.join(w.dataDir, 'runs', w.torn, 'summary.json'))
    expect(byId[w.alien]?.problem).toBe('unexpected_content')
    expect(byId[w.empty]?.problem).toBe('missing')
    // Asked for directly (history, log, get), the answer names the file, not "no such run".
    for (const method of ['run.history', 'run.get', 'run.log'] as const) {
      const error = await call(services, method, { id: w.torn }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ApiError)
      expect((error as ApiError).code).toBe('domain')
      expect((error as ApiError).message).toContain('summary.json')
      expect((error as ApiError).details).toMatchObject({
        kind: 'run_record_unreadable',
        problem: 'invalid_json',
      })
    }
    await call(services, 'run.delete', { id: w.torn })
    expect(existsSync(path.join(w.dataDir, 'runs', w.torn))).toBe(false)
    const after = (await call(services, 'run.list', {})) as { unreadable: Array<{ id: string }> }
    expect(after.unreadable.map((u) => u.id).sort()).toEqual([w.alien, w.empty].sort())
  })

  it('never stop the pruning of training inputs; a damaged run keeps the inputs its command names', async () => {
    const w = damagedWorld()
    const removed = await pruneUnusedInputs(w.dataDir, new RunStore(w.dataDir))
    expect(removed).toEqual([path.join(w.inputs, 'orphan')])
    expect(existsSync(path.join(w.inputs, 'good'))).toBe(true)
    expect(existsSync(path.join(w.inputs, 'torn'))).toBe(true)
  })

  it('a run folder being created right now (no record yet, seconds old) is not reported', async () => {
    const dataDir = tmp('store-damaged-')
    mkdirSync(path.join(dataDir, 'runs', '20260101000000-000009'), { recursive: true })
    const list = (await call(open(dataDir), 'run.list', {})) as { unreadable: unknown[] }
    expect(list.unreadable).toEqual([])
  })
})

/** Resolves with the outcome, or 'blocked' when `p` has not settled after `ms`. */
async function settles<T>(p: Promise<T>, ms = 5000): Promise<{ ok: T } | { error: unknown } | 'blocked'> {
  return Promise.race([
    p.then(
      (ok) => ({ ok }),
      (error: unknown) => ({ error }),
    ),
    new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), ms)),
  ])
}

describe.runIf(process.platform !== 'win32')(
  'file calls open only regular files (a FIFO never blocks)',
  () => {
    it('model.inspect on FIFOs named .safetensors answers at once, and other file calls still work', async () => {
      const dir = tmp('store-fifo-')
      const fifos = Array.from({ length: 8 }, (_, i) => path.join(dir, `model ${i}.safetensors`))
      for (const f of fifos) execFileSync('mkfifo', [f])
      const services = open(dir)
      // More FIFOs than libuv has file-system threads: a blocking open would stall every file call.
      const answers = await Promise.all(
        fifos.map((f) => settles(call(services, 'model.inspect', { path: f }))),
      )
      for (const a of answers) {
        expect(a).not.toBe('blocked')
        expect(a).toMatchObject({
          ok: { exists: true, format: 'other', problem: expect.stringMatching(/not a regular file/) },
        })
      }
      const normal = path.join(dir, 'notes.json')
      writeFileSync(normal, '{}')
      expect(await settles(readRegularFile(normal))).toMatchObject({ ok: expect.any(Buffer) })
      // The helper itself refuses a FIFO without waiting for a writer.
      const direct = await settles(readRegularFile(fifos[0] as string))
      expect(direct).toMatchObject({ error: expect.objectContaining({ code: 'bad_request' }) })
    })

    it('a FIFO in a run’s sample folder is listed but never read; settings.json as a FIFO is an error', async () => {
      const dataDir = tmp('store-fifo-')
      const out = path.join(dataDir, 'out')
      mkdirSync(path.join(out, 'sample'), { recursive: true })
      execFileSync('mkfifo', [path.join(out, 'sample', 'trap.png')])
      const services = open(dataDir)
      const rec = (await call(services, 'run.start', {
        command: ['python3', trainerScript, '--steps', '2', '--delay', '0', '--output_dir', out],
        cwd: dataDir,
      })) as RunRecord
      const done = await services.runs.service.waitFor(rec.id)
      expect(done.samples).toContain('trap.png')
      const sample = await settles(call(services, 'run.sample', { id: rec.id, name: 'trap.png' }))
      expect(sample).toMatchObject({
        error: expect.objectContaining({ message: expect.stringMatching(/Not a regular file/) }),
      })

      const other = tmp('store-fifo-')
      execFileSync('mkfifo', [path.join(other, 'settings.json')])
      const settings = await settles(call(open(other), 'settings.get', {}))
      expect(settings).not.toBe('blocked')
      expect(settings).toHaveProperty('error')
    })
  },
)
