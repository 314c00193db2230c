import { spawn, type SpawnOptionsWithoutStdio } from 'node:child_process'

/** true while a process with this pid exists (a test's own children only: no EPERM case). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Runs a command to its end without blocking this process (a server the test runs may have to answer
 * it); resolves with its exit code and all it wrote.
 */
export function runCollecting(
  cmd: string,
  args: string[],
  opts: SpawnOptionsWithoutStdio = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, opts)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
