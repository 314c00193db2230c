import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  cimQueryArgs,
  dmtfToMicros,
  parseCimStartTimes,
  parseLinuxStartTime,
  parsePsLstart,
  parseWmicCsv,
  processStartTimes,
  wmicQueryArgs,
  type RunText,
} from '../../electron/services/runs/process-identity'
import { findRunProcesses, type ProcFs } from '../../electron/services/runs/run-processes-linux'
import { repoRoot } from '../helpers/services'

const fixture = (name: string) =>
  readFileSync(path.join(repoRoot, 'tests/fixtures/process-identity', name), 'utf8')

describe('process start times (recorded outputs)', () => {
  it('Linux /proc/<pid>/stat: field 22, also when the command name holds ") ("', () => {
    expect(parseLinuxStartTime(fixture('linux-proc-stat.txt'))).toMatch(/^\d+$/)
    expect(parseLinuxStartTime(fixture('linux-proc-stat-odd-name.txt'))).toBe('337003')
    expect(parseLinuxStartTime('')).toBeNull()
    expect(parseLinuxStartTime('12 (x) S 1 2')).toBeNull()
  })

  it('ps -o lstart (macOS, procps): one start per live pid, words normalised', () => {
    expect(parsePsLstart(fixture('ps-lstart.txt'))).toEqual(
      new Map([
        [1, 'Thu Dec 3 13:16:19 2026'],
        [19945, 'Thu Dec 3 13:25:57 2026'],
      ]),
    )
    expect(parsePsLstart('  PID STARTED\n  12 garbage\n\n')).toEqual(new Map())
  })

  it('Windows: the PowerShell query and the wmic fallback give the same start times', () => {
    const expected = new Map([
      [1234, '1795858212345678'],
      [5678, '1795858262001000'],
    ])
    expect(parseCimStartTimes(fixture('powershell-cim.txt'))).toEqual(expected)
    expect(parseWmicCsv(fixture('wmic-csv.txt'))).toEqual(expected)
    // A byte-order mark, blank lines and a warning line change nothing; no rows, no entries.
    expect(parseCimStartTimes(`\uFEFF\r\nWARNING: x\r\n${fixture('powershell-cim.txt')}\r\n`)).toEqual(
      expected,
    )
    expect(parseWmicCsv('\r\r\nNo Instance(s) Available.\r\r\n')).toEqual(new Map())
    expect(parseCimStartTimes('')).toEqual(new Map())
  })

  it('CIM datetimes: offsets east and west of UTC name the same instant', () => {
    expect(dmtfToMicros('20261128103012.345678+060')).toBe('1795858212345678')
    expect(dmtfToMicros('20261128013012.345678-480')).toBe('1795858212345678')
    expect(dmtfToMicros('20261128093012.345678+000')).toBe('1795858212345678')
    for (const bad of ['', '2026', '20261128103012+060', 'x0261128103012.345678+060'])
      expect(dmtfToMicros(bad)).toBeNull()
  })

  it('queries name processes by integer ids only', () => {
    expect(cimQueryArgs([12, 34]).at(-1)).toContain("-Filter 'ProcessId=12 OR ProcessId=34'")
    expect(wmicQueryArgs([7])).toEqual([
      'process',
      'where',
      'ProcessId=7',
      'get',
      'CreationDate,ProcessId',
      '/format:csv',
    ])
  })

  it('Windows: PowerShell first, wmic when PowerShell fails; nothing when both fail', async () => {
    const calls: string[] = []
    const run =
      (answers: Record<string, { stdout: string; ok: boolean } | null>): RunText =>
      async (program, args) => {
        calls.push(program)
        expect(args.join(' ')).not.toMatch(/NaN|-1|1\.5/)
        return answers[program] ?? null
      }
    const both = { 'powershell.exe': { stdout: fixture('powershell-cim.txt'), ok: true } }
    expect(await processStartTimes([1234, 1234, -1, 1.5, Number.NaN], 'win32', run(both))).toEqual(
      new Map([
        [1234, '1795858212345678'],
        [5678, '1795858262001000'],
      ]),
    )
    expect(calls).toEqual(['powershell.exe'])
    calls.length = 0
    const fallback = {
      'powershell.exe': { stdout: 'Get-CimInstance : Access denied', ok: false },
      wmic: { stdout: fixture('wmic-csv.txt'), ok: true },
    }
    expect((await processStartTimes([5678], 'win32', run(fallback))).get(5678)).toBe('1795858262001000')
    expect(calls).toEqual(['powershell.exe', 'wmic'])
    expect(await processStartTimes([5678], 'win32', run({}))).toEqual(new Map())
    expect(await processStartTimes([], 'win32', run(both))).toEqual(new Map())
  })

  it.runIf(process.platform === 'linux')('this machine: /proc and ps agree on who is alive', async () => {
    const linux = await processStartTimes([process.pid, 1, 999_999_999])
    expect([...linux.keys()].sort()).toEqual([1, process.pid].sort())
    // The macOS route through the real `ps` (procps prints the same lstart column).
    const bsd = await processStartTimes([process.pid, 999_999_999], 'darwin')
    expect([...bsd.keys()]).toEqual([process.pid])
    expect(bsd.get(process.pid)).toMatch(/^\w{3} \w{3} \d{1,2} \d{2}:\d{2}:\d{2} \d{4}$/)
  })
})

/** A synthetic /proc: pid → [ppid, pgrp, session, start, environ]. */
function procFs(table: Record<number, [number, number, number, string, string | null]>): ProcFs {
  return {
    readdirSync: () => [...Object.keys(table), 'self', 'sys'],
    readFileSync: (file) => {
      const [, pid, what] = /^\/proc\/(\d+)\/(\w+)$/.exec(file) ?? []
      const row = table[Number(pid)]
      if (!row) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
      const [ppid, pgrp, session, start, environ] = row
      if (what === 'stat')
        return `${pid} (py thon) S ${ppid} ${pgrp} ${session} 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 ${start} 0`
      if (environ === null) throw Object.assign(new Error('EACCES'), { code: 'EACCES' })
      return environ
    },
  }
}

describe('a run’s processes on Linux (findRunProcesses)', () => {
  const marker = 'SDXL_STUDIO_RUN_ID=run-a'
  const env = (extra: string) => `PATH=/bin\0${extra}\0HOME=/root\0`
  const table = procFs({
    1: [0, 1, 1, '1', null], // init, other user's
    100: [1, 100, 100, '500', env('')], // the app
    200: [100, 200, 200, '600', env(marker)], // trainer: session and group leader
    201: [200, 200, 200, '601', env(marker)], // launcher child, same group
    202: [201, 202, 200, '602', ''], // moved to its own group, cleared its environment
    203: [201, 203, 203, '603', ''], // called setsid, cleared its environment: found through its parent
    204: [203, 204, 203, '604', ''], // its child
    300: [1, 300, 300, '700', env(marker)], // a daemon: reparented to init, own session, has the marker
    301: [300, 300, 300, '701', env(marker)],
    400: [1, 400, 400, '800', env('SDXL_STUDIO_RUN_ID=run-ab')], // another run's (prefix of ours)
    401: [1, 401, 401, '801', env('X=SDXL_STUDIO_RUN_ID=run-a')], // not the variable itself
    500: [100, 500, 500, '900', null], // unreadable environment, unrelated
  })

  it('finds the session, the group, the marker and every descendant; nothing else', () => {
    expect(findRunProcesses(table, 200, '600', marker, 100).sort((a, b) => a - b)).toEqual([
      200, 201, 202, 203, 204, 300, 301,
    ])
  })

  it('never counts itself', () => {
    expect(findRunProcesses(table, 200, '600', marker, 301)).not.toContain(301)
  })

  it('once the trainer is gone, its session still counts (Linux does not reuse a live session id)', () => {
    const gone = procFs({
      201: [1, 200, 200, '601', ''],
      300: [1, 300, 300, '700', env(marker)],
      999: [1, 999, 999, '5', ''],
    })
    expect(findRunProcesses(gone, 200, '600', marker, 1).sort((a, b) => a - b)).toEqual([201, 300])
  })

  it('a recycled trainer pid (another start time): its session is not ours, only the marker counts', () => {
    const recycled = procFs({
      200: [1, 200, 200, '9999', ''], // someone else's process now has pid 200
      201: [200, 200, 200, '10000', ''],
      300: [1, 300, 300, '700', env(marker)],
    })
    expect(findRunProcesses(recycled, 200, '600', marker, 1)).toEqual([300])
    expect(findRunProcesses(recycled, 200, '600', null, 1)).toEqual([])
  })
})
