import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import { FIND_RUN_PROCESSES_JS, findRunProcesses } from './run-processes-linux'
import { isSameProcess } from './process-identity'

/** true while a process with this pid exists (and we may signal it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** true while any process of the group exists. */
export function groupAlive(pgid: number): boolean {
  if (process.platform === 'win32') return isAlive(pgid)
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Sends a signal to a whole process group (node-pty makes the trainer a session and group leader). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(process.platform === 'win32' ? pgid : -pgid, signal)
    return true
  } catch {
    return false
  }
}

/** Every descendant of `root` (Unix, from `ps`), so children that left the group are found too. */
export async function descendants(root: number): Promise<number[]> {
  if (process.platform === 'win32') return []
  const table = await new Promise<string>((resolve) => {
    execFile('ps', ['-A', '-o', 'pid=,ppid='], { timeout: 5000 }, (error, stdout) =>
      resolve(error ? '' : stdout),
    )
  })
  const children = new Map<number, number[]>()
  for (const line of table.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number)
    if (!pid || ppid === undefined || Number.isNaN(ppid)) continue
    const list = children.get(ppid) ?? []
    list.push(pid)
    children.set(ppid, list)
  }
  const out: number[] = []
  const stack = [root]
  while (stack.length) {
    const p = stack.pop() as number
    for (const c of children.get(p) ?? []) {
      out.push(c)
      stack.push(c)
    }
  }
  return out
}

/** What names a run's processes: the trainer (pty leader) with its start time, and the run's marker. */
export interface RunTarget {
  pid: number
  /** processStartTime(pid) when it started; null when unknown (then the pid is trusted as it is). */
  startTime: string | null
  /** `SDXL_STUDIO_RUN_ID=<id>` (Linux: finds processes that left the session and lost their parent). */
  marker: string | null
}

/**
 * Whether the target's pid still names the process it did. Without a recorded start time (the caller's
 * own live child, or a platform query that failed at the time) the pid is trusted as it is.
 */
async function isTarget(target: RunTarget): Promise<boolean> {
  return target.startTime === null ? isAlive(target.pid) : isSameProcess(target.pid, target.startTime)
}

/** The run's live processes (Linux: /proc; elsewhere the trainer and its descendants, if it is the same process). */
export async function runProcesses(target: RunTarget): Promise<number[]> {
  if (process.platform === 'linux')
    return findRunProcesses(fs, target.pid, target.startTime, target.marker).sort((a, b) => a - b)
  if (!(await isTarget(target))) return []
  return [target.pid, ...(await descendants(target.pid))]
}

function taskkillTree(pid: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const p = spawn('taskkill', ['/T', '/F', '/PID', String(pid)], { stdio: 'ignore', windowsHide: true })
    p.on('error', () => resolve())
    p.on('exit', () => resolve())
  })
}

/**
 * Kills everything of a run and returns the pids it signalled. The trainer's pid is killed only while
 * it is the process the record names (pid + start time), so a recycled pid is never hit.
 * Windows: `taskkill /T /F` (process.kill would end only the one pid). Linux: SIGKILL to every process
 * runProcesses() finds. macOS: the group and every descendant.
 */
export async function killRun(target: RunTarget): Promise<number[]> {
  if (process.platform === 'win32') {
    if (!(await isTarget(target))) return []
    await taskkillTree(target.pid)
    return [target.pid]
  }
  const pids = await runProcesses(target)
  if (process.platform !== 'linux' && pids.includes(target.pid)) signalGroup(target.pid, 'SIGKILL')
  const killed: number[] = []
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL')
      killed.push(p)
    } catch {
      // already gone
    }
  }
  return killed
}

/**
 * Kills a tool's process (a TensorBoard server, a tagger, a LoRA tool) with its group and every
 * descendant: killRun without a run marker. With a start time, only while the pid names that process.
 */
export function killTree(pid: number, startTime: string | null = null): Promise<number[]> {
  return killRun({ pid, startTime, marker: null })
}

/** Whether anything of the run is still alive. */
export async function runAlive(target: RunTarget): Promise<boolean> {
  if (process.platform === 'win32') return isAlive(target.pid) && (await isTarget(target))
  return (await runProcesses(target)).length > 0
}

/**
 * The watchdog: a tiny detached Node process that outlives us. It polls our pid; when we are gone
 * (a crash, a kill -9) it kills every process of the run (Linux: the same findRunProcesses the app
 * uses; Windows: a tree kill; elsewhere the group), then exits. It also exits once the trainer's group
 * is gone: the app itself cleans up whatever the trainer leaves when it ends.
 * Its source is inline so it needs no file on disk (packaged apps run it with ELECTRON_RUN_AS_NODE).
 */
const WATCHDOG_SOURCE = `
const fs = require('fs');
const [parent, parentStart, group, groupStart, marker] = JSON.parse(process.argv[process.argv.length - 1]);
const linux = process.platform === 'linux';
const win = process.platform === 'win32';
const findRunProcesses = ${FIND_RUN_PROCESSES_JS};
const startOf = (pid) => {
  try { const s = fs.readFileSync('/proc/' + pid + '/stat', 'latin1'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]; } catch (e) { return null; }
};
const alive = (p) => { try { process.kill(p, 0); return true } catch (e) { return e.code === 'EPERM' } };
// Linux: our parent is alive only while its pid still names the same process.
const parentAlive = () => linux && parentStart !== null ? startOf(parent) === parentStart : alive(parent);
const groupAlive = () => { if (win) return alive(group); try { process.kill(-group, 0); return true } catch (e) { return e.code === 'EPERM' } };
const tick = () => {
  if (!groupAlive()) process.exit(0);
  if (parentAlive()) return;
  if (win) require('child_process').spawnSync('taskkill', ['/T', '/F', '/PID', String(group)], { windowsHide: true });
  else if (linux) {
    for (const p of findRunProcesses(fs, group, groupStart, marker, process.pid)) { try { process.kill(p, 'SIGKILL') } catch (e) {} }
  } else { try { process.kill(-group, 'SIGKILL') } catch (e) {} }
  process.exit(0);
};
setInterval(tick, 400);
tick();
`

export function startWatchdog(
  parentPid: number,
  parentStart: string | null,
  target: RunTarget,
): number | null {
  try {
    const args = JSON.stringify([parentPid, parentStart, target.pid, target.startTime, target.marker])
    const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, '--', args], {
      detached: true,
      stdio: 'ignore',
      windowsHide: true,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    })
    child.on('error', () => undefined)
    child.unref()
    return child.pid ?? null
  } catch {
    return null
  }
}
