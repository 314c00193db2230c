import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestName } from '../../core/api/contract'
import { createServices, type Services } from '../../electron/services'
import { callOrThrow } from '../helpers/services'
import { TOKENIZER_FOLDERS } from '../../electron/services/training/environment'
import { runCliCaptured } from '../helpers/cli'
import { makeWorld, withFiles, type TrainingWorld } from './training-helpers'

/*
 * Export = run: `config export` writes the command, files and variables `run start` uses, and a user
 * can run them by hand. Every path here holds what shells love to expand: quotes, $(…), backticks,
 * !, &, %, spaces and Cyrillic. command.txt goes through an interactive bash (history expansion on),
 * train.sh through bash; the stand-in sd-scripts script records the argv, folder and variables it got.
 */

const HOSTILE = `exp 'q' "dq" $(touch PWNED) \`touch PWNED2\` !x & 100% Кошка -`

let w: TrainingWorld
let services: Services

interface Launch {
  argv: string[]
  cwd: string
  executable: string
  env: Record<string, string | null>
}

const call = (method: RequestName, input: unknown) => callOrThrow(services, method, input)

function launchJson(outputDir: string): Launch {
  return JSON.parse(readFileSync(path.join(outputDir, 'launch.json'), 'utf8')) as Launch
}

/** No file named PWNED* was created anywhere a shell could have run `touch` (the world, the home). */
function pwned(...dirs: string[]): string[] {
  const found: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name)
      if (name.startsWith('PWNED')) found.push(p)
      if (statSync(p).isDirectory() && !name.startsWith('venv')) walk(p)
    }
  }
  for (const d of dirs) if (existsSync(d)) walk(d)
  return found
}

beforeAll(async () => {
  w = makeWorld(HOSTILE)
  // A filled tokenizer cache in the install: the run (and the export) go offline with it.
  for (const f of TOKENIZER_FOLDERS) {
    mkdirSync(path.join(w.installDir, 'tokenizers', f), { recursive: true })
    writeFileSync(path.join(w.installDir, 'tokenizers', f, 'tokenizer_config.json'), '{}')
  }
  services = createServices({ dataDir: w.dataDir, mode: 'headless', env: process.env, version: 'test' })
  await call('env.useExisting', { name: 'standin', folder: w.installDir })
}, 120_000)

afterAll(async () => {
  await services?.dispose()
  rmSync(w.root, { recursive: true, force: true })
})

describe('config export = run start, run by hand', () => {
  it('writes the run’s command, files and variables; bash runs command.txt and train.sh the same way', async () => {
    const presetConfig = (
      (await call('presets.get', { id: 'lora-12gb' })) as { config: Record<string, unknown> }
    ).config
    const config = withFiles(presetConfig, w, 'кошка-lora')

    // The app's run.
    const started = (await call('train.start', { config })) as { id: string }
    const rec = await services.runs.service.waitFor(started.id)
    expect(rec.state, rec.reason ?? '').toBe('finished')
    const fromApp = launchJson(w.outputDir)
    const appConfigToml = readFileSync(rec.command[rec.command.indexOf('--config_file') + 1]!, 'utf8')
    expect(appConfigToml).toContain('tokenizer_cache_dir')

    // The export, through the CLI as a user types it.
    const configFile = path.join(w.root, 'config.json')
    writeFileSync(configFile, JSON.stringify(config))
    const exportDir = path.join(w.root, 'export $(touch PWNED3) !')
    const r = await runCliCaptured(['config', 'export', configFile, '--out', exportDir, '--json'], w.dataDir)
    expect(r.code, r.stderr).toBe(0)
    const exported = JSON.parse(r.stdout) as {
      files: string[]
      argv: string[]
      cwd: string
      env: Record<string, string>
      launcher: string
      warnings: string[]
    }
    expect(exported.warnings).toEqual([])
    expect(exported.files.sort()).toEqual(['command.txt', 'config.toml', 'dataset.toml', 'train.sh'])
    // Exactly the run's: command (but for the files' folder), folder, variables, config file.
    const swap = (a: string[]) =>
      a.map((x) => (x.startsWith(exportDir) ? x.replace(exportDir, '<files>') : x))
    const runFiles = path.dirname(rec.command[rec.command.indexOf('--config_file') + 1]!)
    expect(swap(exported.argv)).toEqual(
      rec.command.map((x) => (x.startsWith(runFiles) ? x.replace(runFiles, '<files>') : x)),
    )
    expect(exported.cwd).toBe(rec.cwd)
    for (const [k, v] of Object.entries(rec.env)) expect(exported.env[k], k).toBe(v)
    expect(exported.env).toMatchObject({ HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', PYTHONUTF8: '1' })
    expect(readFileSync(path.join(exportDir, 'config.toml'), 'utf8')).toBe(appConfigToml)
    expect(statSync(exported.launcher).mode & 0o111).not.toBe(0)

    // A user's shell: their own PATH and HOME, nothing of the app's.
    const home = path.join(w.root, 'home')
    mkdirSync(home, { recursive: true })
    const userEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' }
    const check = (how: string) => {
      const got = launchJson(w.outputDir)
      expect(got.argv, how).toEqual(exported.argv.slice(2))
      expect(got.executable, how).toBe(fromApp.executable)
      expect(got.cwd, how).toBe(exported.cwd)
      expect(got.env, how).toMatchObject({
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        PYTHONUTF8: '1',
        PYTHONIOENCODING: 'utf-8',
        PYTHONUNBUFFERED: '1',
      })
      // The app's run got the same variables.
      for (const k of ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'OMP_NUM_THREADS', 'PYTHONUTF8'])
        expect(got.env[k], `${how}: ${k}`).toBe(fromApp.env[k])
    }

    // command.txt, pasted into an interactive bash (history expansion of ! is on there).
    rmSync(path.join(w.outputDir, 'launch.json'))
    const line = readFileSync(path.join(exportDir, 'command.txt'), 'utf8')
    expect(line.trim().split('\n')).toHaveLength(1)
    const pasted = spawnSync('bash', ['--norc', '--noprofile', '-i'], {
      input: `${line}exit $?\n`,
      cwd: home,
      env: userEnv,
      encoding: 'utf8',
    })
    expect(pasted.status, pasted.stderr).toBe(0)
    check('command.txt')

    // train.sh, run by hand.
    rmSync(path.join(w.outputDir, 'launch.json'))
    const ran = spawnSync('bash', [exported.launcher], { cwd: home, env: userEnv, encoding: 'utf8' })
    expect(ran.status, ran.stderr).toBe(0)
    check('train.sh')

    expect(pwned(w.root, home)).toEqual([])
  }, 120_000)

  it('without an environment the export is the portable one, and says so', async () => {
    const dataDir = path.join(w.root, 'no-env-data')
    const configFile = path.join(w.root, 'config-plain.json')
    writeFileSync(configFile, JSON.stringify({ type: 'lora', base_model: w.model }))
    const out = path.join(w.root, 'portable')
    const r = await runCliCaptured(['config', 'export', configFile, '--out', out], dataDir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/No sd-scripts environment is active.*portable/)
    expect(readFileSync(path.join(out, 'command.txt'), 'utf8')).toMatch(/^accelerate launch /)
    expect(existsSync(path.join(out, 'train.sh'))).toBe(false)
  })
})
