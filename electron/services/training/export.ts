import { chmod } from 'node:fs/promises'
import path from 'node:path'
import { commandText, launchers, type LaunchSpec } from '../../../core/sdscripts/launcher'
import type { ShellFlavor } from '../../../core/sdscripts/quote'
import { RUNNER_VARIABLES } from '../runs/run-env'
import { writeFileAtomic } from '../store/atomic'
import type { ResolvedEnvironment } from './environment'
import type { LaunchPlan } from './launch'

export interface ExportResult {
  dir: string
  /** File names written into `dir`. */
  files: string[]
  script: string
  /** The command as spawned (argument array). */
  argv: string[]
  cwd: string
  /** Every variable the run gets beyond the user's own environment. */
  env: Record<string, string>
  environment: string
  /** The launcher to run by hand: train.sh, or train.ps1 on Windows. */
  launcher: string
  /** Why `run start` would refuse this run today (validation errors, an environment that does not verify). */
  warnings: string[]
}

/**
 * Writes what `run start` runs into `dir`: config.toml, dataset.toml, prompts.txt (rendered for this
 * folder), command.txt, and the launchers. The variables are the runner's own plus the launch plan's
 * (HF_HOME with the environment's accelerate config, the offline switches, OMP_NUM_THREADS, GPUs).
 */
export async function writeExport(args: {
  dir: string
  plan: LaunchPlan
  environment: ResolvedEnvironment
  flavor: ShellFlavor
  warnings: string[]
}): Promise<ExportResult> {
  const { dir, plan, flavor } = args
  const env = { ...RUNNER_VARIABLES, ...plan.env }
  const spec: LaunchSpec = {
    argv: plan.argv,
    cwd: plan.cwd,
    env,
    title: `${plan.script} in sd-scripts environment "${args.environment.name}" (${args.environment.sd_scripts_dir})`,
  }
  const written: string[] = []
  const put = async (name: string, content: string) => {
    await writeFileAtomic(path.join(dir, name), content)
    written.push(name)
  }
  for (const [name, content] of Object.entries(plan.files)) await put(name, content)
  await put('command.txt', commandText(spec, flavor))
  const scripts = launchers(spec, flavor)
  for (const [name, content] of Object.entries(scripts)) await put(name, content)
  if (scripts['train.sh'] !== undefined) await chmod(path.join(dir, 'train.sh'), 0o755)
  return {
    dir,
    files: written,
    script: plan.script,
    argv: plan.argv,
    cwd: plan.cwd,
    env,
    environment: args.environment.name,
    launcher: path.join(dir, flavor === 'posix' ? 'train.sh' : 'train.ps1'),
    warnings: args.warnings,
  }
}
