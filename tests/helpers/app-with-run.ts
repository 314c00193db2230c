import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { repoRoot, trainerScript } from './services'

/**
 * Starts the stand-in app (tests/fixtures/trainer/app-with-run.ts): a process that runs one training
 * run through the real RunService. Resolves once the run is at step 3 with the app's process, the run id
 * and everything it printed. The caller kills the app (kill -9 tests) and must make sure it ends.
 */
export async function startAppWithRun(
  dataDir: string,
  pidFile: string,
  options: { extra?: string[]; watchdog?: boolean; timeoutMs?: number } = {},
): Promise<{ app: ChildProcess; id: string }> {
  const app = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'tests/fixtures/trainer/app-with-run.ts'),
      dataDir,
      trainerScript,
      pidFile,
      JSON.stringify(options.extra ?? []),
      ...(options.watchdog === false ? ['--no-watchdog'] : []),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(
      () => reject(new Error(`the app did not report its run in time:\n${out}`)),
      options.timeoutMs ?? 30_000,
    )
    app.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const first = out.split('\n')[0] as string
      if (!out.includes('\n') || !first.includes('"pid"')) return
      clearTimeout(timer)
      resolve(first)
    })
    app.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the app exited (${code}) before it reported its run:\n${out}`))
    })
  })
  const { id } = JSON.parse(line) as { id: string }
  return { app, id }
}
