import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCliCaptured as cli } from '../helpers/cli'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')

describe('run start / list / get / log (CLI)', () => {
  it('starts a run from a JSON description, shows its terminal, and records it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-cli-'))
    const data = path.join(dir, 'data')
    const spec = path.join(dir, 'run.json')
    writeFileSync(
      spec,
      JSON.stringify({
        command: ['python3', trainer, '--steps', '4', '--delay', '0', '--output_dir', path.join(dir, 'out')],
        cwd: dir,
        name: 'cli run',
      }),
    )
    const started = await cli(['run', 'start', spec], data)
    expect(started.code).toBe(0)
    expect(started.stdout).toContain('running training / 学習開始')
    expect(started.stderr).toMatch(/finished\s+steps 4\/4/)

    const list = await cli(['run', 'list', '--json'], data)
    const doc = JSON.parse(list.stdout) as { runs: Array<{ id: string; state: string; name: string }> }
    expect(doc.runs).toHaveLength(1)
    expect(doc.runs[0]).toMatchObject({ state: 'finished', name: 'cli run' })
    const id = doc.runs[0]?.id as string

    const log = await cli(['run', 'log', id, '--follow'], data)
    expect(log.code).toBe(0)
    expect(log.stdout).toContain('model saved.')
    const got = await cli(['run', 'get', id, '--json'], data)
    expect(JSON.parse(got.stdout)).toMatchObject({ id, summary: { last_step: 4 } })
  })

  it('run stop from another process stops a run that a `run start` process owns', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-cli-'))
    const data = path.join(dir, 'data')
    const spec = path.join(dir, 'run.json')
    const pidFile = path.join(dir, 'pids.txt')
    writeFileSync(
      spec,
      JSON.stringify({
        command: [
          'python3',
          trainer,
          '--steps',
          '500',
          '--delay',
          '0.05',
          '--spawn_child',
          '--pid_file',
          pidFile,
        ],
        cwd: dir,
      }),
    )
    const owner = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'electron/cli/main.ts'), 'run', 'start', spec],
      {
        cwd: repoRoot,
        env: { ...process.env, SDXL_STUDIO_DATA_DIR: data },
        stdio: 'ignore',
      },
    )
    const exited = new Promise<number | null>((r) => owner.on('exit', (code) => r(code)))
    let id = ''
    for (let i = 0; i < 300 && !id; i++) {
      await new Promise((r) => setTimeout(r, 100))
      const list = await cli(['run', 'list', '--json'], data)
      const runs = (
        JSON.parse(list.stdout || '{"runs":[]}') as {
          runs: Array<{ id: string; state: string; summary: { last_step: number | null } }>
        }
      ).runs
      if (runs[0]?.state === 'running' && (runs[0].summary.last_step ?? 0) > 0) id = runs[0].id
    }
    expect(id).not.toBe('')
    // `run list` from this process must not have taken the live run for a crash leftover.
    expect(JSON.parse((await cli(['run', 'get', id, '--json'], data)).stdout)).toMatchObject({
      state: 'running',
    })
    const stop = await cli(['run', 'stop', id], data)
    expect(stop.code).toBe(0)
    expect(await exited).toBe(1)
    const got = JSON.parse((await cli(['run', 'get', id, '--json'], data)).stdout) as {
      state: string
      reason: string
    }
    expect(got.state).toBe('stopped')
    expect(got.reason).toMatch(/saves nothing/)
    const pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)
    for (const pid of pids) {
      let alive = true
      for (let i = 0; i < 100 && alive; i++) {
        try {
          process.kill(pid, 0)
          await new Promise((r) => setTimeout(r, 50))
        } catch {
          alive = false
        }
      }
      expect(alive).toBe(false)
    }
  }, 60_000)

  it('a bad description names what is missing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-cli-'))
    const spec = path.join(dir, 'bad.json')
    writeFileSync(spec, JSON.stringify({ command: 'python3 train.py' }))
    const r = await cli(['run', 'start', spec], path.join(dir, 'data'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/not a run description.*"command": \["program"/s)
    const missing = await cli(['run', 'get', 'nope'], path.join(dir, 'data'))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('No run with id nope')
  })
})

describe('CLI help for a group of commands', () => {
  it('`run --help` lists the run commands (it was "Unknown command"); `run` alone too, as a usage error', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'runs-cli-help-'))
    const help = await cli(['run', '--help'], data)
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: sdxl-studio cli run <command>/)
    for (const c of ['run start', 'run list', 'run stop', 'run log', 'run parse-log'])
      expect(help.stdout).toContain(`  ${c}`)
    expect(help.stdout).not.toContain('env install')
    const bare = await cli(['run'], data)
    expect(bare.code).toBe(1)
    expect(bare.stderr).toContain('run start')
    const typo = await cli(['run', 'strat'], data)
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/^Unknown command: run strat[\s\S]*run start/)
    // A command's own help still works, and so does `env --help`.
    expect((await cli(['run', 'start', '--help'], data)).stdout).toMatch(/Usage: sdxl-studio cli run start/)
    expect((await cli(['env', '--help'], data)).stdout).toContain('env install')
  })
})
