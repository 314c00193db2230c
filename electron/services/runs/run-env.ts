import { statSync } from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import { executableNames, hasDirectory } from '../../../core/platform/path-lookup'
import { findExecutable, isExecutableFile } from '../which'

export interface RunEnvOptions {
  gpus?: number[]
  extra?: Record<string, string>
  offline?: boolean
  hfHome?: string
}

/**
 * The variables that choose a run's GPUs and its Hugging Face cache: the one place that spells them,
 * for the runner and for the launch plan the Train page shows.
 */
export function trainingVariables(options: Omit<RunEnvOptions, 'extra'>): Record<string, string> {
  const env: Record<string, string> = {}
  if (options.gpus && options.gpus.length > 0) {
    // nvidia-smi numbers GPUs by PCI bus; CUDA's default order (fastest first) may differ.
    env.CUDA_DEVICE_ORDER = 'PCI_BUS_ID'
    env.CUDA_VISIBLE_DEVICES = options.gpus.join(',')
  }
  if (options.hfHome) env.HF_HOME = options.hfHome
  if (options.offline) {
    env.HF_HUB_OFFLINE = '1'
    env.TRANSFORMERS_OFFLINE = '1'
    env.HF_DATASETS_OFFLINE = '1'
  }
  return env
}

/** The trainer's environment: the app's, plus what a training run needs, plus the caller's overrides. */
export function buildRunEnv(base: NodeJS.ProcessEnv, options: RunEnvOptions): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v
  // Output must arrive as it is printed, in UTF-8 (Japanese/Cyrillic paths on Windows code pages).
  env.PYTHONUNBUFFERED = '1'
  env.PYTHONIOENCODING = 'utf-8'
  env.PYTHONUTF8 = '1'
  env.TERM = env.TERM && env.TERM !== 'dumb' ? env.TERM : 'xterm-256color'
  Object.assign(env, trainingVariables(options), options.extra ?? {})
  return env
}

/** Checks the working folder and finds the program, so a typo fails with a message instead of a dead pty. */
export function resolveProgram(program: string, cwd: string, env: Record<string, string>): string {
  let st
  try {
    st = statSync(cwd)
  } catch {
    throw new ApiError('not_found', `Working folder does not exist: ${cwd}. Choose an existing folder.`)
  }
  if (!st.isDirectory()) throw new ApiError('bad_request', `Working folder is not a folder: ${cwd}.`)
  if (hasDirectory(program, process.platform)) {
    const abs = path.resolve(cwd, program)
    for (const c of executableNames(abs, env, process.platform)) if (isExecutableFile(c)) return c
    throw new ApiError(
      'not_found',
      `Program not found or not executable: ${abs}. Check the environment (venv) path.`,
    )
  }
  const found = findExecutable(program, env)
  if (found) return found
  throw new ApiError(
    'not_found',
    `Program "${program}" is not on PATH. Give its full path (e.g. the venv's python).`,
  )
}
