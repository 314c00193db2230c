/**
 * Linux: every process that belongs to a run, found in /proc. node-pty makes the trainer the leader of
 * a new session and process group, and the run's environment carries a marker (RUN_MARKER_VARIABLE).
 * A process belongs to the run when
 *   - it is in the trainer's session or process group (while the trainer is the process the record
 *     names, or gone: Linux never reuses a pid that is still a group's or session's id), or
 *   - its environment carries the run's marker (children that called setsid() and whose parent has
 *     died, daemons, anything reparented to init), or
 *   - its parent chain leads to one of the above (a child that cleared its environment but still has
 *     its parent).
 * A cgroup would be tighter, but an unprivileged desktop app can create one only where systemd
 * delegates a user slice; the marker works everywhere /proc does.
 *
 * The function is kept as plain JavaScript source because the crash watchdog (a detached `node -e`
 * process that outlives the app) runs the very same code; the app builds its own copy from the source.
 */

export const RUN_MARKER_VARIABLE = 'SDXL_STUDIO_RUN_ID'

export const FIND_RUN_PROCESSES_JS = `function findRunProcesses(fs, leader, leaderStart, marker, self) {
  var procs = new Map();
  var names = [];
  try { names = fs.readdirSync('/proc'); } catch (e) { return []; }
  for (var i = 0; i < names.length; i++) {
    var name = names[i];
    if (!/^[0-9]+$/.test(name)) continue;
    var stat;
    try { stat = fs.readFileSync('/proc/' + name + '/stat', 'latin1'); } catch (e) { continue; }
    var f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    procs.set(Number(name), { ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]), start: f[19] });
  }
  var lead = procs.get(leader);
  var ownIds = !lead || leaderStart === null || lead.start === leaderStart;
  var needle = marker ? '\\u0000' + marker + '\\u0000' : null;
  var found = new Set();
  procs.forEach(function (p, pid) {
    if (pid === self) return;
    if (ownIds && (pid === leader || p.session === leader || p.pgrp === leader)) { found.add(pid); return; }
    if (!needle) return;
    var env;
    try { env = fs.readFileSync('/proc/' + pid + '/environ', 'latin1'); } catch (e) { return; }
    if (('\\u0000' + env).indexOf(needle) >= 0) found.add(pid);
  });
  var grew = true;
  while (grew) {
    grew = false;
    procs.forEach(function (p, pid) {
      if (pid !== self && !found.has(pid) && found.has(p.ppid)) { found.add(pid); grew = true; }
    });
  }
  return Array.from(found);
}`

export interface ProcFs {
  readdirSync(path: string): string[]
  readFileSync(path: string, encoding: 'latin1'): string
}

type FindRunProcesses = (
  fs: ProcFs,
  leader: number,
  leaderStart: string | null,
  marker: string | null,
  self: number,
) => number[]

// The app's copy of the watchdog's function (see above for why it is source text).
const find = new Function(`return ${FIND_RUN_PROCESSES_JS}`)() as FindRunProcesses

/** `NAME=value` as it stands in /proc/<pid>/environ. */
export function runMarker(runId: string): string {
  return `${RUN_MARKER_VARIABLE}=${runId}`
}

export function findRunProcesses(
  fs: ProcFs,
  leader: number,
  leaderStart: string | null,
  marker: string | null,
  self = process.pid,
): number[] {
  return find(fs, leader, leaderStart, marker, self)
}
