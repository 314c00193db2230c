import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'

/**
 * A process's start time, so that pid + start time name one process for good: before the app kills
 * what a record names (startup recovery, `run stop` from another process), it checks that the pid was
 * not recycled by an unrelated process since.
 *
 * The value is opaque: only equality matters, and it is compared only with values read the same way
 * on the same machine. Linux: clock ticks since boot (/proc/<pid>/stat). macOS: `ps -o lstart`
 * (seconds). Windows: Win32_Process.CreationDate as microseconds since 1970 (UTC), read through
 * PowerShell's Get-CimInstance, with wmic as a fallback for systems without a working PowerShell.
 */

/** Runs a program: its stdout and whether it exited 0; null when it could not run at all. */
export type RunText = (program: string, args: string[]) => Promise<{ stdout: string; ok: boolean } | null>

const runText: RunText = (program, args) =>
  new Promise((resolve) => {
    execFile(
      program,
      args,
      // LC_ALL=C: `ps -o lstart` prints English day and month names whatever the user's locale.
      { timeout: 15_000, windowsHide: true, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 20 },
      (error, stdout) => {
        const code = (error as NodeJS.ErrnoException | null)?.code
        // A string code (ENOENT, EACCES) means it never ran; a number is its exit status.
        if (error && typeof code === 'string') resolve(null)
        else resolve({ stdout: String(stdout), ok: !error })
      },
    )
  })

/** Linux /proc/<pid>/stat: field 22 (start time). The command name (field 2) may hold spaces and ')'. */
export function parseLinuxStartTime(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const value = fields[19]
  return value && /^\d+$/.test(value) ? value : null
}

/** `ps -o pid=,lstart= -p …` (macOS, BSD, procps): "  812 Mon Jan  6 10:00:00 2025" per line. */
export function parsePsLstart(stdout: string): Map<number, string> {
  const out = new Map<number, string>()
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^\s*(\d+)\s+(\S.*\S)\s*$/.exec(line)
    if (!m) continue
    const words = (m[2] as string).split(/\s+/)
    // Day, month, date, time, year: anything else is not an lstart column.
    if (words.length !== 5 || !/^\d{1,2}:\d{2}:\d{2}$/.test(words[3] as string)) continue
    out.set(Number(m[1]), words.join(' '))
  }
  return out
}

/** 100-ns intervals between 1601-01-01 (Windows FILETIME) and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n

/**
 * Our PowerShell query's output: one "<pid> <CreationDate as FILETIME, UTC>" line per process found
 * (CRLF line ends, maybe a byte-order mark). A process without a creation date (System Idle) is left out.
 */
export function parseCimStartTimes(stdout: string): Map<number, string> {
  const out = new Map<number, string>()
  for (const line of stdout.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const m = /^\s*(\d+)\s+(\d{10,20})\s*$/.exec(line)
    if (!m) continue
    const micros = (BigInt(m[2] as string) - FILETIME_UNIX_EPOCH) / 10n
    out.set(Number(m[1]), micros.toString())
  }
  return out
}

/**
 * A CIM/DMTF datetime ("20250114093012.345678+060": local time, then the offset from UTC in minutes)
 * as microseconds since 1970 (UTC); null when it is not one.
 */
export function dmtfToMicros(value: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(value.trim())
  if (!m) return null
  const [, y, mo, d, h, mi, s, us, sign, off] = m as unknown as string[]
  const localMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  const offsetMs = (sign === '-' ? -1 : 1) * Number(off) * 60_000
  return (BigInt(localMs - offsetMs) * 1000n + BigInt(Number(us))).toString()
}

/**
 * `wmic process where "…" get CreationDate,ProcessId /format:csv`: a blank line, the header
 * "Node,CreationDate,ProcessId", then one line per process; wmic ends lines with "\r\r\n".
 */
export function parseWmicCsv(stdout: string): Map<number, string> {
  const out = new Map<number, string>()
  const lines = stdout
    .replace(/^\uFEFF/, '')
    .split(/\r*\n/)
    .map((l) => l.trim())
    .filter(Boolean)
  const header = lines.findIndex((l) => /(^|,)CreationDate(,|$)/i.test(l) && /(^|,)ProcessId(,|$)/i.test(l))
  if (header < 0) return out
  const names = (lines[header] as string).split(',').map((n) => n.toLowerCase())
  const dateAt = names.indexOf('creationdate')
  const pidAt = names.indexOf('processid')
  for (const line of lines.slice(header + 1)) {
    // The host name (first column) cannot hold a comma, nor can the other two.
    const cells = line.split(',')
    const pid = Number(cells[pidAt])
    const micros = dmtfToMicros(cells[dateAt] ?? '')
    if (Number.isInteger(pid) && pid > 0 && micros) out.set(pid, micros)
  }
  return out
}

/** A WQL filter for these pids (integers only: nothing of the caller reaches the query as text). */
function wqlPids(pids: number[]): string {
  return pids.map((p) => `ProcessId=${Math.trunc(p)}`).join(' OR ')
}

/** The PowerShell command line that prints "<pid> <FILETIME>" per process (parseCimStartTimes). */
export function cimQueryArgs(pids: number[]): string[] {
  const script =
    `Get-CimInstance -ClassName Win32_Process -Filter '${wqlPids(pids)}' | ` +
    `Where-Object { $_.CreationDate } | ` +
    `ForEach-Object { '{0} {1}' -f $_.ProcessId, $_.CreationDate.ToFileTimeUtc() }`
  return ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', script]
}

export function wmicQueryArgs(pids: number[]): string[] {
  return ['process', 'where', wqlPids(pids), 'get', 'CreationDate,ProcessId', '/format:csv']
}

/**
 * Start times of the pids that exist now (a pid that is gone, or cannot be read, is absent from the
 * map). `run` is injectable for tests; `platform` too.
 */
export async function processStartTimes(
  pids: number[],
  platform: NodeJS.Platform = process.platform,
  run: RunText = runText,
): Promise<Map<number, string>> {
  const wanted = [...new Set(pids.filter((p) => Number.isInteger(p) && p > 0))]
  const out = new Map<number, string>()
  if (wanted.length === 0) return out
  if (platform === 'linux') {
    for (const pid of wanted) {
      try {
        const value = parseLinuxStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'))
        if (value) out.set(pid, value)
      } catch {
        // gone
      }
    }
    return out
  }
  if (platform === 'win32') {
    const ps = await run('powershell.exe', cimQueryArgs(wanted))
    if (ps?.ok) return parseCimStartTimes(ps.stdout)
    const wmic = await run('wmic', wmicQueryArgs(wanted))
    return wmic?.ok ? parseWmicCsv(wmic.stdout) : out
  }
  // ps exits 1 when one of the pids is gone, and still lists the others.
  const ps = await run('ps', ['-o', 'pid=,lstart=', '-p', wanted.join(',')])
  return ps === null ? out : parsePsLstart(ps.stdout)
}

export async function processStartTime(pid: number): Promise<string | null> {
  return (await processStartTimes([pid])).get(pid) ?? null
}

/**
 * Whether `pid` is still the process a record names: its start time matches. A record without a start
 * time (older records, or a platform query that failed at the time) is trusted as before.
 */
export async function isSameProcess(pid: number, startTime: string | null): Promise<boolean> {
  const now = await processStartTime(pid)
  if (now === null) return false
  return startTime === null || now === startTime
}
