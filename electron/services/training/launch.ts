import path from 'node:path'
import type { TrainingConfig } from '../../../core/config/schema'
import { displayCommand, type ShellFlavor } from '../../../core/sdscripts/quote'
import { render } from '../../../core/sdscripts/render'
import { scenarioFromConfig } from '../../../core/vram/from-config'
import { predict } from '../../../core/vram/model'
import { perGpuFit } from '../../../core/vram/per-gpu'
import { trainingVariables } from '../runs/run-env'
import type { ResolvedEnvironment } from './environment'

/**
 * How a TrainingConfig becomes a command (docs/training.md):
 * - one process → the venv's Python runs the script directly: no launcher in between (Ctrl-C and the
 *   process-tree stop reach the trainer itself), and a user's accelerate default_config.yaml (which
 *   may say multi-GPU or DeepSpeed) cannot change the run. sd-scripts builds its own Accelerator with
 *   --mixed_precision from the config file, so nothing is lost; OMP_NUM_THREADS is set as accelerate
 *   launch would set it.
 * - several processes → `accelerate launch` from the venv with the mapping's arguments
 *   (`<venv>/bin/accelerate`, or `python -m accelerate.commands.launch` when there is no executable).
 * GPUs are chosen with CUDA_VISIBLE_DEVICES only (never accelerate --gpu_ids as well, which would
 * override it), so the runs queue knows which GPUs a run holds.
 */

export interface LaunchPlan {
  /** The config as rendered: GPU choice folded into launch, the tokenizer cache option added. */
  config: TrainingConfig
  script: string
  argv: string[]
  display: string
  cwd: string
  env: Record<string, string>
  gpus: number[] | undefined
  files: Record<string, string>
  predictedPeakMib: number
  predictionNotes: string[]
  saveConfigured: boolean
}

/** The GPU choice: explicit `gpus` win, else the config's launch.gpu_ids; the process count follows. */
export function withGpus(
  config: TrainingConfig,
  gpus: number[] | undefined,
): { config: TrainingConfig; gpus: number[] | undefined } {
  const chosen =
    gpus && gpus.length > 0
      ? [...new Set(gpus)]
      : config.launch.gpu_ids
        ? [...new Set(config.launch.gpu_ids.split(',').map(Number))]
        : undefined
  if (!chosen) return { config, gpus: undefined }
  return {
    config: { ...config, launch: { ...config.launch, num_processes: chosen.length, gpu_ids: undefined } },
    gpus: chosen,
  }
}

/** Checkpoints are saved during the run, so "stop after the next checkpoint" can be offered. */
export function saveConfigured(config: TrainingConfig): boolean {
  const extra = config.extra_args
  return (
    config.saving.save_every_n_epochs !== undefined ||
    config.saving.save_every_n_steps !== undefined ||
    (extra.save_every_n_epochs !== undefined && extra.save_every_n_epochs !== false) ||
    (extra.save_every_n_steps !== undefined && extra.save_every_n_steps !== false)
  )
}

/** The predicted peak of each GPU: one process's peak, plus DDP's gradient buckets with several. */
export function predictedPeak(config: TrainingConfig, flavor: ShellFlavor) {
  const { scenario, notes } = scenarioFromConfig(config, flavor === 'windows' ? 'windows' : 'linux')
  const p = predict(scenario)
  const fit = perGpuFit({
    peak_gib: p.peak_gib,
    trainable_params: p.trainable_params,
    half_gradients: config.memory.full_bf16 || config.memory.full_fp16,
    bucket_view: bucketView(config),
    processes: config.launch.num_processes,
    batch_size: config.training.batch_size,
    gradient_accumulation_steps: config.training.gradient_accumulation_steps,
  })
  return { mib: Math.round(fit.per_gpu_gib * 1024), notes }
}

function bucketView(config: TrainingConfig): boolean {
  const v = config.extra_args.ddp_gradient_as_bucket_view
  return v !== undefined && v !== false
}

/**
 * Variables accelerate's multi-GPU launcher needs. Windows builds of PyTorch have no libuv, yet
 * torchrun (which `accelerate launch --multi_gpu` runs) asks its TCPStore for libuv from PyTorch 2.4 on
 * and stops with "use_libuv was requested but PyTorch was build without libuv support"; USE_LIBUV=0 is
 * PyTorch's documented switch. sd-scripts does the same for its own process group on Windows.
 */
export function multiGpuVariables(processes: number, flavor: ShellFlavor): Record<string, string> {
  return processes > 1 && flavor === 'windows' ? { USE_LIBUV: '0' } : {}
}

/**
 * Each logging run writes its TensorBoard files to a folder of its own, so the Runs page reads exactly
 * that run's event files: `<chosen logging folder>/<inputs folder name>` when the user chose a folder
 * (runs side by side there, for a TensorBoard of their own), else `<inputs folder>/tensorboard`.
 * Logging is on when a logging folder is set or log_with asks for TensorBoard.
 */
export function withRunLoggingDir(config: TrainingConfig, inputsDir: string): TrainingConfig {
  const logging = config.logging as TrainingConfig['logging'] & { log_with?: unknown }
  const chosen = logging.logging_dir?.trim()
  const on = !!chosen || logging.log_with === 'tensorboard' || logging.log_with === 'all'
  if (!on) return config
  const dir = chosen ? path.join(chosen, path.basename(inputsDir)) : path.join(inputsDir, 'tensorboard')
  return { ...config, logging: { ...config.logging, logging_dir: dir } }
}

export function buildLaunch(args: {
  config: TrainingConfig
  gpus?: number[] | undefined
  environment: ResolvedEnvironment
  inputsDir: string
  flavor: ShellFlavor
}): LaunchPlan {
  const { environment: envr, flavor } = args
  const picked = withGpus(args.config, args.gpus)
  let config = withRunLoggingDir(picked.config, args.inputsDir)
  if (envr.tokenizer_cache_dir && config.extra_args.tokenizer_cache_dir === undefined) {
    config = {
      ...config,
      extra_args: { ...config.extra_args, tokenizer_cache_dir: envr.tokenizer_cache_dir },
    }
  }
  const r = render(config, { filesDir: args.inputsDir, sdScriptsDir: envr.sd_scripts_dir, flavor })
  // render's argv is: accelerate, launch, <accelerate args>, <script>, --config_file, …, --dataset_config, …
  const scriptArgs = r.argv.slice(2 + r.accelerateArgs.length)
  const multi = config.launch.num_processes > 1
  const launcher = multi
    ? envr.accelerate
      ? [envr.accelerate, 'launch', ...r.accelerateArgs]
      : [envr.python, '-m', 'accelerate.commands.launch', ...r.accelerateArgs]
    : [envr.python]
  const argv = [...launcher, ...scriptArgs]

  const env: Record<string, string> = {
    ...(multi ? {} : { OMP_NUM_THREADS: String(config.launch.num_cpu_threads_per_process) }),
    ...multiGpuVariables(config.launch.num_processes, flavor),
    ...trainingVariables({
      ...(picked.gpus ? { gpus: picked.gpus } : {}),
      ...(envr.hf_home ? { hfHome: envr.hf_home } : {}),
      offline: envr.offline,
    }),
  }
  const peak = predictedPeak(config, flavor)
  return {
    config,
    script: r.script,
    argv,
    display: displayCommand(argv, flavor),
    cwd: envr.sd_scripts_dir,
    env,
    gpus: picked.gpus,
    files: { ...r.files },
    predictedPeakMib: peak.mib,
    predictionNotes: peak.notes,
    saveConfigured: saveConfigured(config),
  }
}
