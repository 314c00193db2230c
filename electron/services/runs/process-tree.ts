import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

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

/**
 * Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat field 22). Together with
 * the pid it names one process for good, so a recycled pid is never killed by mistake. null elsewhere.
 */
export function processStartTime(pid: number): string | null {
  if (process.platform !== 'linux') return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] ?? null
  } catch {
    return null
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

/**
 * Kills the trainer and everything it started. Windows: `taskkill /T /F` (process.kill would end only
 * the one pid). Unix: SIGKILL the group, then any descendant that moved to another group.
 */
export async function killTree(pid: number): Promise<void> {
  if (process.platform === 'win32') {
    await new Promise<void>((resolve) => {
      const p = spawn('taskkill', ['/T', '/F', '/PID', String(pid)], { stdio: 'ignore', windowsHide: true })
      p.on('error', () => resolve())
      p.on('exit', () => resolve())
    })
    return
  }
  const rest = await descendants(pid)
  signalGroup(pid, 'SIGKILL')
  for (const p of rest) {
    try {
      process.kill(p, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/**
 * The watchdog: a tiny detached Node process that outlives us. It polls our pid; when we are gone
 * (a crash, a kill -9) it kills the trainer's group, then exits. It also exits once the group is gone.
 * Its source is inline so it needs no file on disk (packaged apps run it with ELECTRON_RUN_AS_NODE).
 */
const WATCHDOG_SOURCE = `
const [parent, group] = process.argv.slice(-2).map(Number);
const win = process.platform === 'win32';
const alive = (p) => { try { process.kill(p, 0); return true } catch (e) { return e.code === 'EPERM' } };
const tick = () => {
  const groupAlive = win ? alive(group) : (() => { try { process.kill(-group, 0); return true } catch (e) { return e.code === 'EPERM' } })();
  if (!groupAlive) process.exit(0);
  if (!alive(parent)) {
    if (win) require('child_process').spawnSync('taskkill', ['/T', '/F', '/PID', String(group)], { windowsHide: true });
    else { try { process.kill(-group, 'SIGKILL') } catch {} }
    process.exit(0);
  }
};
setInterval(tick, 400);
tick();
`

export function startWatchdog(parentPid: number, trainerPid: number): number | null {
  try {
    const child = spawn(
      process.execPath,
      ['-e', WATCHDOG_SOURCE, '--', String(parentPid), String(trainerPid)],
      {
        detached: true,
        stdio: 'ignore',
        windowsHide: true,
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      },
    )
    child.on('error', () => undefined)
    child.unref()
    return child.pid ?? null
  } catch {
    return null
  }
}
