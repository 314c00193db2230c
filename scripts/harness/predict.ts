// The VRAM gauge's prediction for each harness job, taken when the bundle is built, so every
// measured record carries what the gauge said at the time (and the scenario it said it for).
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse as parseToml, stringify } from 'smol-toml'
import { z } from 'zod'
import { predict } from '../../core/vram/model'
import { OptimizerType, VramScenario, type VramScenarioInput } from '../../core/vram/scenario'
import { TraceJob } from '../../core/vram/trace'
import { runTrace } from '../../electron/services/vram/trace-runner'

type Table = Record<string, unknown>

const MAX_DIM = 10240

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** sd-scripts merges every top-level table of --config_file into one (section names are ignored). */
export function flattenConfig(config: Table): Table {
  const flat: Table = {}
  for (const [k, v] of Object.entries(config)) {
    if (isTable(v)) Object.assign(flat, v)
    else flat[k] = v
  }
  return flat
}

function networkArgs(config: Table): Map<string, string> {
  const out = new Map<string, string>()
  const args = Array.isArray(config.network_args) ? config.network_args : []
  for (const a of args) {
    const [k, ...rest] = String(a).split('=')
    if (k) out.set(k.trim(), rest.join('=').trim())
  }
  return out
}

function resolution(v: unknown): { width: number; height: number } | undefined {
  if (typeof v === 'number') return { width: v, height: v }
  if (Array.isArray(v) && v.length === 2) return { width: Number(v[0]), height: Number(v[1]) }
  if (typeof v === 'string') {
    const parts = v.split(',').map((p) => Number(p.trim()))
    if (parts.length >= 1 && parts.every(Number.isFinite))
      return { width: parts[0] ?? 0, height: parts[parts.length - 1] ?? 0 }
  }
  return undefined
}

/**
 * A VRAM scenario from sd-scripts' own settings (flattened config.toml + dataset.toml), read the
 * way sd-scripts reads them: dataset values over config values, sd-scripts' defaults otherwise.
 */
export function scenarioFromSdScripts(config: Table, dataset: Table, script: string): VramScenarioInput {
  const general = isTable(dataset.general) ? dataset.general : {}
  const first = Array.isArray(dataset.datasets) && isTable(dataset.datasets[0]) ? dataset.datasets[0] : {}
  const args = networkArgs(config)
  const dreambooth = script === 'sdxl_train.py'
  let trainingType: VramScenarioInput['training_type'] = 'lora'
  if (dreambooth) trainingType = 'dreambooth'
  else if (config.network_module === 'lycoris.kohya') {
    const algo = (args.get('algo') ?? 'lora').toLowerCase()
    trainingType = algo === 'loha' ? 'loha' : algo === 'lokr' ? 'lokr' : 'locon'
  }
  const optimizerName = String(config.optimizer_type ?? '') || 'AdamW'
  const optimizer = OptimizerType.options.find((o) => o.toLowerCase() === optimizerName.toLowerCase())
  if (!optimizer) throw new Error(`the gauge has no model for optimizer ${optimizerName}`)
  const bool = (k: string): boolean => config[k] === true
  const num = (v: unknown, fallback: number): number =>
    typeof v === 'number' && Number.isFinite(v) ? v : fallback
  const tokens = num(config.max_token_length, 75)
  return {
    training_type: trainingType,
    // LyCORIS reads a dim above 10240/2 as "do not decompose" (LoKr presets use 100000); the
    // gauge's scenario stops at 10240, which it reads the same way.
    network_dim: Math.min(num(config.network_dim, 4), MAX_DIM),
    network_alpha: num(config.network_alpha, 1),
    conv_dim: Math.min(num(Number(args.get('conv_dim') ?? 0), 0), MAX_DIM),
    lokr_factor: num(Number(args.get('factor') ?? -1), -1),
    lycoris_bypass_mode: args.get('bypass_mode')?.toLowerCase() === 'true',
    train_text_encoder: dreambooth ? bool('train_text_encoder') : !bool('network_train_unet_only'),
    resolution: resolution(first.resolution) ??
      resolution(general.resolution) ??
      resolution(config.resolution) ?? { width: 1024, height: 1024 },
    batch_size: num(first.batch_size, num(general.batch_size, num(config.train_batch_size, 1))),
    gradient_accumulation_steps: num(config.gradient_accumulation_steps, 1),
    gradient_checkpointing: bool('gradient_checkpointing'),
    mixed_precision:
      config.mixed_precision === 'bf16' || config.mixed_precision === 'fp16' ? config.mixed_precision : 'no',
    full_bf16: bool('full_bf16'),
    full_fp16: bool('full_fp16'),
    fp8_base: !dreambooth && (bool('fp8_base') || bool('fp8_base_unet')),
    cache_latents: bool('cache_latents') || bool('cache_latents_to_disk'),
    cache_text_encoder_outputs:
      bool('cache_text_encoder_outputs') || bool('cache_text_encoder_outputs_to_disk'),
    // sd-scripts' priority: mem_eff_attn, then xformers, then sdpa (train_util.replace_unet_modules).
    attention: bool('mem_eff_attn')
      ? 'mem_eff_attn'
      : bool('xformers')
        ? 'xformers'
        : bool('sdpa')
          ? 'sdpa'
          : 'none',
    optimizer,
    fused_backward_pass: bool('fused_backward_pass'),
    fused_optimizer_groups: dreambooth ? num(config.fused_optimizer_groups, 0) : 0,
    text_encoders_trained:
      dreambooth && config.learning_rate_te1 === 0
        ? 'te2'
        : dreambooth && config.learning_rate_te2 === 0
          ? 'te1'
          : 'both',
    no_half_vae: bool('no_half_vae'),
    max_token_length: tokens === 150 || tokens === 225 ? tokens : 75,
    os: 'linux',
  }
}

export interface JobPrediction {
  peak_gib: number
  allocated_gib: number
  phase: string
  scenario: VramScenario
  source: string
}

/** A job folder's effective sd-scripts settings: config.toml and dataset.toml with the job's overrides. */
function jobSettings(jobDir: string): { config: Table; dataset: Table; script: string } {
  const meta = JSON.parse(readFileSync(path.join(jobDir, 'job.json'), 'utf8')) as {
    config?: Table
    dataset?: Table
    drop?: string[]
  }
  const config = flattenConfig(parseToml(readFileSync(path.join(jobDir, 'config.toml'), 'utf8')) as Table)
  const dataset = parseToml(readFileSync(path.join(jobDir, 'dataset.toml'), 'utf8')) as Table
  for (const k of meta.drop ?? []) delete config[k]
  Object.assign(config, meta.config ?? {})
  if (Array.isArray(dataset.datasets))
    for (const d of dataset.datasets) if (isTable(d)) Object.assign(d, meta.dataset ?? {})
  let script = config.network_module ? 'sdxl_train_network.py' : 'sdxl_train.py'
  try {
    const command = readFileSync(path.join(jobDir, 'command.txt'), 'utf8')
    if (command.includes('sdxl_train_network.py')) script = 'sdxl_train_network.py'
    else if (command.includes('sdxl_train.py')) script = 'sdxl_train.py'
  } catch {
    // no command.txt: network_module decides, as in measure.py
  }
  return { config, dataset, script }
}

/** The gauge's prediction for a job folder written by materializeJobs (overrides applied as the runner does). */
export function predictJob(jobDir: string): JobPrediction {
  const { config, dataset, script } = jobSettings(jobDir)
  const scenario = VramScenario.parse(scenarioFromSdScripts(config, dataset, script))
  const p = predict(scenario)
  return {
    peak_gib: p.peak_gib,
    allocated_gib: p.allocated_gib,
    phase: p.phase,
    scenario,
    source: 'core/vram predict (fitted constants at bundle time)',
  }
}

/** Fill job.json's prediction for every job that has none; returns notes for the ones it could not. */
export function addPredictions(jobsDir: string, ids: string[]): string[] {
  const notes: string[] = []
  for (const id of ids) {
    const file = path.join(jobsDir, id, 'job.json')
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { prediction?: unknown }
    if (meta.prediction) continue
    try {
      meta.prediction = predictJob(path.join(jobsDir, id))
      writeFileSync(file, JSON.stringify(meta, null, 2) + '\n')
    } catch (e) {
      const why =
        e instanceof z.ZodError
          ? e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
          : e instanceof Error
            ? e.message
            : String(e)
      notes.push(`no prediction for ${id}: ${why}`)
    }
  }
  return notes
}

/** The tracer's job for a harness job: the same settings, so the record can hold the trace's figure. */
export function traceJobFor(jobDir: string, id: string): TraceJob {
  const { config, dataset, script } = jobSettings(jobDir)
  const s = VramScenario.parse(scenarioFromSdScripts(config, dataset, script))
  return TraceJob.parse({
    id,
    script: script.replace(/\.py$/, ''),
    config_toml: stringify(config),
    resolution: s.resolution,
    batch_size: s.batch_size,
  })
}

/**
 * The trace's figure for every job (sd-scripts' model code on the meta device, this machine's CPU):
 * job.json gets `trace` {allocated_peak_gib, phase, breakdown}, and measure.py copies it into the record,
 * next to torch.cuda.max_memory_allocated() of the real run. Returns notes for jobs it could not trace.
 */
export async function addTraces(
  jobsDir: string,
  ids: string[],
  opts: { python: string; sdScriptsDir: string },
): Promise<string[]> {
  const notes: string[] = []
  const jobs: TraceJob[] = []
  for (const id of ids) {
    try {
      jobs.push(traceJobFor(path.join(jobsDir, id), id))
    } catch (e) {
      notes.push(`no trace for ${id}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  await runTrace({
    python: opts.python,
    sdScriptsDir: opts.sdScriptsDir,
    jobs,
    timeoutMs: jobs.length * 10 * 60_000,
    onResult: (line) => {
      if (!line.id) return
      if (!line.ok) {
        notes.push(`no trace for ${line.id}: ${line.error}`)
        return
      }
      const file = path.join(jobsDir, line.id, 'job.json')
      const meta = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
      meta.trace = {
        allocated_peak_gib: line.allocated_peak_gib,
        phase: line.phase,
        breakdown: line.breakdown,
        versions: line.versions ?? {},
        source: 'resources/vram/trace_sdxl.py at bundle time',
      }
      writeFileSync(file, JSON.stringify(meta, null, 2) + '\n')
      console.log(`trace ${line.id}: ${line.allocated_peak_gib.toFixed(2)} GiB allocated (${line.phase})`)
    },
  })
  return notes
}
