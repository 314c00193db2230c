import { runCli } from '../../electron/cli/run-cli'

/**
 * Runs the CLI in this process, as `npm run -s cli -- <args>` would, with its data folder at `dataDir`;
 * returns the exit code and everything it wrote. It never sees an interrupt (Ctrl+C).
 */
export async function runCliCaptured(
  args: string[],
  dataDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(
    args,
    { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), interrupted: new Promise(() => {}) },
    { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir },
  )
  return { code, stdout, stderr }
}
