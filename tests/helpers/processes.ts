/** true while a process with this pid exists (a test's own children only: no EPERM case). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
