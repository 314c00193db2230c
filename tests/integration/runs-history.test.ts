import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Services } from '../../electron/services'
import { servicesPerTest, trainerScript } from '../helpers/services'
import { STANDIN_BIN_DIR } from '../helpers/nvidia-smi'

/*
 * run.history through the router, with the stand-in nvidia-smi found on PATH: the stand-in trainer
 * writes its pid to a file, the stand-in lists that pid as a process whose GPU memory grows, and the
 * run service samples it every 2 s.
 */

const trainer = trainerScript
const newServices = servicesPerTest()
let services: Services

describe('run.history', () => {
  it('gives the loss per step, the GPU memory over time, and the other events', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runs-history-'))
    const pidFile = path.join(dir, 'trainer.pids')
    const env = {
      ...process.env,
      PATH: [STANDIN_BIN_DIR, process.env.PATH].join(path.delimiter),
      FAKE_NVIDIA_SMI_PID_FILE: pidFile,
    }
    services = newServices({ dataDir: dir, mode: 'headless', env, version: 'test' })
    const command = ['python3', trainer, '--steps', '50', '--delay', '0.1', '--pid_file', pidFile]
    const started = await services.router.call(
      'run.start',
      { command: [...command, '--output_dir', path.join(dir, 'out')], cwd: dir },
      { transport: 'test' },
    )
    if (!started.ok) throw new Error(started.error.message)
    const done = await services.runs.service.waitFor(started.result.id)
    expect(done.state).toBe('finished')

    const reply = await services.router.call('run.history', { id: done.id }, { transport: 'test' })
    if (!reply.ok) throw new Error(reply.error.message)
    const { loss, memory, events } = reply.result
    expect(loss.length).toBeGreaterThan(10)
    expect(loss.at(-1)?.[0]).toBe(50)
    // Sampled every 2 s over a 5 s run, memory growing 256 MiB a second: at least two distinct points.
    expect(memory.length).toBeGreaterThanOrEqual(2)
    for (let i = 1; i < memory.length; i++) {
      expect(memory[i]![0]).toBeGreaterThan(memory[i - 1]![0])
      expect(memory[i]![1]).toBeGreaterThan(memory[i - 1]![1])
    }
    expect(done.peak_gpu_memory_mib).toBe(Math.max(...memory.map((m) => m[1])))
    // Memory samples and progress frames are in their own series, not among the events.
    expect(events.some((e) => e.type === 'gpu_memory' || e.type === 'progress')).toBe(false)
    expect(events.some((e) => e.type === 'startup')).toBe(true)
  }, 60_000)
})
