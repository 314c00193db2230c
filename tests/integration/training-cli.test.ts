import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCliCaptured as cli } from '../helpers/cli'
import { makeWorld, repoRoot, withFiles } from './training-helpers'

describe('CLI: train preview, run start <config.json>, vram record --run', () => {
  it('starts a training config through train.start and turns the finished run into a measurement', async () => {
    const w = makeWorld('training-cli-')
    const used = await cli(['env', 'use-existing', w.installDir, '--name', 'standin', '--json'], w.dataDir)
    expect(used.code, used.stderr).toBeLessThanOrEqual(1) // registered even if the stand-in has no torch
    const preset = JSON.parse(
      readFileSync(path.join(repoRoot, 'presets/builtin/locon-12gb.json'), 'utf8'),
    ) as {
      config: Record<string, unknown>
    }
    const file = path.join(w.root, 'config.json')
    writeFileSync(file, JSON.stringify(withFiles(preset.config, w, 'cli-locon')))

    const preview = await cli(['train', 'preview', file, '--gpus', '0'], w.dataDir)
    expect(preview.code, preview.stderr).toBe(0)
    expect(preview.stdout).toContain('Ready to start.')
    expect(preview.stdout).toContain(
      `${w.venvPython} ${path.join(w.sdScripts, 'sdxl_train_network.py')} --config_file`,
    )
    expect(preview.stdout).toContain('CUDA_VISIBLE_DEVICES=0')
    expect(preview.stdout).toMatch(/predicted peak: \d+\.\d GiB per GPU/)
    const previewJson = JSON.parse((await cli(['train', 'preview', file, '--json'], w.dataDir)).stdout) as {
      ready: boolean
      files: Record<string, string>
    }
    expect(previewJson.ready).toBe(true)
    expect(Object.keys(previewJson.files).sort()).toEqual(['config.toml', 'dataset.toml'])

    const started = await cli(['run', 'start', file, '--gpus', '0'], w.dataDir)
    expect(started.code, started.stderr).toBe(0)
    expect(started.stderr).toContain('sdxl_train_network.py')
    expect(started.stderr).toMatch(/finished\s+steps 3\/3/)

    const list = JSON.parse((await cli(['run', 'list', '--json'], w.dataDir)).stdout) as {
      runs: Array<{
        id: string
        input: { config: { type: string } }
        gpus: number[]
        predicted_peak_mib: number
      }>
    }
    const run = list.runs[0]!
    // The trainer's output (the terminal the command showed may have attached after a 3-step run ended).
    const log = await cli(['run', 'log', run.id], w.dataDir)
    expect(log.stdout).toContain('running training / 学習開始')
    expect(run.input.config.type).toBe('locon')
    expect(run.gpus).toEqual([0])
    expect(run.predicted_peak_mib).toBeGreaterThan(0)

    // No GPU here, so the run has no measured peak: vram record --run says so.
    const none = await cli(['vram', 'record', '--run', run.id], w.dataDir)
    expect(none.code).not.toBe(0)
    expect(none.stderr).toMatch(/no measured peak GPU memory/)

    // As a run on a GPU would have it: the runs service's nvidia-smi reading in the record.
    const summary = path.join(w.dataDir, 'runs', run.id, 'summary.json')
    const rec = JSON.parse(readFileSync(summary, 'utf8')) as Record<string, unknown>
    writeFileSync(summary, JSON.stringify({ ...rec, peak_gpu_memory_mib: 9830 }))
    const recorded = await cli(['vram', 'record', '--run', run.id, '--json'], w.dataDir)
    expect(recorded.code, recorded.stderr).toBe(0)
    const out = JSON.parse(recorded.stdout) as {
      file: string
      count: number
      point: {
        measured_gib: number
        predicted_gib: number
        scenario: { training_type: string; conv_dim: number }
      }
    }
    expect(out.count).toBe(1)
    expect(out.point.measured_gib).toBeCloseTo(9830 / 1024, 2)
    expect(out.point.scenario.training_type).toBe('locon')
    expect(out.point.scenario.conv_dim).toBeGreaterThan(0)
    expect(out.point.predicted_gib).toBeCloseTo(run.predicted_peak_mib / 1024, 1)
    expect(JSON.parse(readFileSync(out.file, 'utf8')).points).toHaveLength(1)

    // A config file that is not valid: refused with its messages, no new run.
    writeFileSync(file, JSON.stringify({ ...withFiles(preset.config, w), base_model: '' }))
    const notReady = await cli(['train', 'preview', file], w.dataDir)
    expect(notReady.code).toBe(1)
    expect(notReady.stdout).toContain('Cannot start yet:')
    expect(notReady.stdout).toContain('Choose the SDXL base model')
    const refused = await cli(['run', 'start', file], w.dataDir)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/cannot start training/)
    const after = JSON.parse((await cli(['run', 'list', '--json'], w.dataDir)).stdout) as { runs: unknown[] }
    expect(after.runs).toHaveLength(1)
  }, 120_000)

  it('--gpus: hostile values are refused by name; GPUs are checked against nvidia-smi; two GPUs → accelerate', async () => {
    const w = makeWorld('training-cli-gpus-')
    await cli(['env', 'use-existing', w.installDir, '--name', 'standin', '--json'], w.dataDir)
    const preset = JSON.parse(
      readFileSync(path.join(repoRoot, 'presets/builtin/locon-12gb.json'), 'utf8'),
    ) as { config: Record<string, unknown> }
    const file = path.join(w.root, 'config.json')
    writeFileSync(file, JSON.stringify(withFiles(preset.config, w, 'cli-gpus')))

    for (const [value, says] of [
      ['0,0', 'GPU 0 is listed twice'],
      ['-1', 'are not GPU numbers'],
      ['a', 'are not GPU numbers'],
      ['0,1,', 'are not GPU numbers'],
      ['ноль', '"ноль" are not GPU numbers'],
      ['1'.repeat(500), 'are not GPU numbers'],
      ['', 'needs GPU indexes'],
    ] as const) {
      const r = await cli(['train', 'preview', file, `--gpus=${value}`], w.dataDir)
      expect(r.code, value).not.toBe(0)
      expect(r.stderr, value).toContain(says)
      expect(r.stderr.length, value).toBeLessThan(400)
    }

    // The stand-in nvidia-smi lists GPUs 0 and 1 (RTX 4090, RTX 3060).
    const savedPath = process.env.PATH
    process.env.PATH = `${path.join(repoRoot, 'tests/fixtures/bin')}${path.delimiter}${savedPath}`
    try {
      const missing = await cli(['train', 'preview', file, '--gpus', '0,5'], w.dataDir)
      expect(missing.code).toBe(1)
      expect(missing.stdout).toContain('This machine has no GPU 5 (nvidia-smi lists 0, 1).')
      const two = JSON.parse(
        (await cli(['train', 'preview', file, '--gpus', '1,0', '--json'], w.dataDir)).stdout,
      ) as {
        ready: boolean
        argv: string[]
        env: Record<string, string>
        validation: { issues: Array<{ rule: string }> }
      }
      expect(two.ready).toBe(true)
      expect(two.argv.join(' ')).toContain('--num_processes 2')
      expect(two.argv).toContain('--multi_gpu')
      expect(two.env.CUDA_VISIBLE_DEVICES).toBe('1,0')
      expect(two.validation.issues.map((i) => i.rule)).toContain('multi_gpu.effective_batch')
    } finally {
      process.env.PATH = savedPath
    }
  }, 120_000)
})
