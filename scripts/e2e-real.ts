/**
 * npm run e2e:real -- --work <dir> --source <sd-scripts folder or git URL>
 *   [--cache <dir>] [--torch cpu|auto] [--torch-index-url URL] [--reuse-env] [--memory-wait-min N]
 *
 * The real-trainer end-to-end check (docs/training.md): on a Linux machine that reaches PyPI, it
 * 1. installs an environment through the app's own installer (sd-scripts v0.10.1 from --source, torch
 *    from PyPI, the tokenizers built offline: the Hugging Face endpoint is pointed at a closed port);
 * 2. builds a random-weight SDXL checkpoint with sd-scripts' own model code, peak memory under 16 GB;
 * 3. makes a 4-image dataset;
 * 4. starts a LoRA run through train.start, the request the Train page sends (256 px, 3 steps,
 *    mixed precision "no", a sample at the end), and checks the run: finished, the record's steps,
 *    epoch and loss against the log, the LoRA file's keys, the sample image;
 * 5. exports the same config (`config export`'s service), runs the launcher by hand and compares
 *    the LoRA it trains with the app's.
 * One line per check; `e2e:real passed`, or the first failure, last. Too heavy for CI: about 20 GB of
 * RAM, hours on a CPU-only machine (SDXL in fp32; docs/training.md has measured times), and ~6 GB of
 * downloads the first time (keep --cache).
 */
import { spawn, spawnSync } from 'node:child_process'
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { TrainingConfig } from '../core/config/schema'
import type { RunRecord } from '../core/runs/record'
import { parseLog } from '../core/runs/parse-log'
import { lossSeries } from '../core/runs/summary'
import { createServices, type Services } from '../electron/services'
import { readState } from '../electron/services/env/runner'

const repoRoot = path.resolve(import.meta.dirname, '..')
const ENV_NAME = 'e2e-real'
const PEAK_LIMIT_GB = 16
/** What one training process of this check needs free (measured: ~17–19 GB at 256 px in fp32). */
const TRAIN_NEEDS_GIB = 19
const CHECKPOINT_NEEDS_GIB = 9

const { values } = parseArgs({
  options: {
    work: { type: 'string' },
    source: { type: 'string' },
    cache: { type: 'string' },
    torch: { type: 'string', default: 'cpu' },
    'torch-index-url': { type: 'string', default: 'https://pypi.org/simple' },
    'reuse-env': { type: 'boolean', default: false },
    'memory-wait-min': { type: 'string', default: '30' },
  },
  allowPositionals: false,
})

class CheckFailed extends Error {}

const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 60000).toFixed(1)} min`

function ok(name: string, detail: string): void {
  process.stdout.write(`ok    ${name}: ${detail} [${elapsed()}]\n`)
}

function check(condition: unknown, name: string, why: string): asserts condition {
  if (!condition) throw new CheckFailed(`${name}: ${why}`)
}

function note(text: string): void {
  process.stdout.write(`      ${text}\n`)
}

/** MemAvailable in GiB (Linux). */
function availableGib(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))
  return m ? Number(m[1]) / 1024 / 1024 : 0
}

/** The machine is shared: wait (do not crash it) until `gib` are free, or fail after the limit. */
async function waitForMemory(gib: number, what: string): Promise<void> {
  const deadline = Date.now() + Number(values['memory-wait-min']) * 60_000
  let said = false
  for (;;) {
    const free = availableGib()
    if (free >= gib) return
    if (Date.now() > deadline)
      throw new CheckFailed(
        `memory: ${what} needs about ${gib} GiB free, only ${free.toFixed(1)} GiB is available after waiting ${values['memory-wait-min']} min`,
      )
    if (!said) note(`waiting: ${what} needs about ${gib} GiB free, ${free.toFixed(1)} GiB available now`)
    said = true
    await new Promise((r) => setTimeout(r, 30_000))
  }
}

/** The largest resident size of a process and its children while it runs (polled), in GB. */
function trackPeak(rootPid: () => number | null): { stop: () => number } {
  let peak = 0
  const tree = (pid: number): number[] => {
    try {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
      return [pid, ...kids.flatMap((k) => tree(Number(k)))]
    } catch {
      return []
    }
  }
  const timer = setInterval(() => {
    const pid = rootPid()
    if (!pid) return
    let total = 0
    for (const p of tree(pid)) {
      try {
        const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
        total += m ? Number(m[1]) * 1024 : 0
      } catch {
        // ended meanwhile
      }
    }
    peak = Math.max(peak, total / 1e9)
  }, 1000)
  return {
    stop: () => {
      clearInterval(timer)
      return peak
    },
  }
}

/** Runs a Python snippet in the environment's venv and returns its JSON output. */
function venvJson<T>(python: string, code: string, args: string[] = []): T {
  const r = spawnSync(python, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.status !== 0)
    throw new CheckFailed(`python failed (${r.status}): ${(r.stderr || r.stdout).slice(-1500)}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? 'null') as T
}

/** Spawns a process with output to a log file; resolves with its exit code. */
function runLogged(cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv, cwd?: string) {
  return new Promise<number>((resolve, reject) => {
    const out = createWriteStream(log)
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(out, { end: false })
    child.stderr.pipe(out, { end: false })
    child.on('error', reject)
    child.on('close', (code) => {
      out.end()
      resolve(code ?? -1)
    })
  })
}

const LORA_FACTS = `
import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], framework="pt") as f:
    keys = list(f.keys())
    meta = f.metadata() or {}
    shapes = {k: list(f.get_slice(k).get_shape()) for k in keys}
    dtypes = {k: str(f.get_slice(k).get_dtype()) for k in keys}
print(json.dumps({"keys": keys, "shapes": shapes, "dtypes": dtypes, "meta": meta}))
`

const COMPARE = `
import json, sys
from safetensors.torch import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
same_keys = sorted(a) == sorted(b)
diff = max(((a[k].float() - b[k].float()).abs().max().item() for k in a if k in b and a[k].shape == b[k].shape), default=None)
print(json.dumps({"same_keys": same_keys, "same_shapes": same_keys and all(a[k].shape == b[k].shape and a[k].dtype == b[k].dtype for k in a), "max_abs_diff": diff}))
`

const MAKE_DATASET = `
import sys
from pathlib import Path
from PIL import Image, ImageDraw
out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
colors = [(200, 60, 40), (40, 160, 90), (50, 80, 200), (220, 200, 60)]
for i, c in enumerate(colors):
    img = Image.new("RGB", (256, 256), (240, 240, 240))
    d = ImageDraw.Draw(img)
    d.ellipse((40 + 10 * i, 50, 200, 210 - 10 * i), fill=c)
    d.rectangle((20, 200, 236, 236), fill=(90, 60, 30))
    img.save(out / f"cat{i + 1}.png")
    (out / f"cat{i + 1}.txt").write_text(f"a photo of a cat, picture {i + 1}\\n", encoding="utf-8")
print("4")
`

function trainingConfig(model: string, images: string, outputDir: string, name: string): TrainingConfig {
  return TrainingConfig.parse({
    type: 'lora',
    base_model: model,
    dataset: {
      subsets: [{ image_dir: images, num_repeats: 1, caption_extension: '.txt' }],
      resolution: { width: 256, height: 256 },
      enable_bucket: false,
    },
    network: { dim: 4, alpha: 1, train_unet_only: true },
    // AdamW: bitsandbytes' 8-bit optimizers need a GPU.
    optimizer: { type: 'AdamW', learning_rate: 1e-4 },
    training: { max_train_steps: 3, batch_size: 1, seed: 42 },
    memory: {
      mixed_precision: 'no',
      gradient_checkpointing: true,
      cache_latents: true,
      attention: 'sdpa',
      max_data_loader_n_workers: 0,
      persistent_data_loader_workers: false,
    },
    sampling: {
      enabled: true,
      prompts: [{ prompt: 'a photo of a cat', width: 256, height: 256, steps: 3, seed: 1, cfg_scale: 5 }],
      every_n_steps: 3,
      sampler: 'euler_a',
    },
    saving: {
      output_dir: outputDir,
      output_name: name,
      save_precision: 'float',
      save_model_as: 'safetensors',
    },
    launch: { num_processes: 1, num_cpu_threads_per_process: 2 },
  })
}

async function install(services: Services, work: string, source: string): Promise<string> {
  const m = services.env.manager
  const existing = (await m.registry()).environments.find((e) => e.name === ENV_NAME)
  if (existing && values['reuse-env']) {
    const state = await readState(existing.envDir)
    if (state?.status === 'done') {
      ok('install', `reusing "${ENV_NAME}" at ${existing.envDir} (--reuse-env)`)
      return existing.venvPython
    }
  }
  if (existing) await m.remove(ENV_NAME, true)
  const log = path.join(work, 'install.log')
  const out = createWriteStream(log)
  const off = m.onLog((c) => out.write(c.data), false)
  note(`installing through the app's installer (log: ${log})`)
  const run = await m.install({
    name: ENV_NAME,
    version: 'v0.10.1',
    source,
    torch: values.torch === 'auto' ? 'auto' : 'cpu',
    mirrors: {
      torchIndex: values['torch-index-url'] ?? null,
      // A closed port: the tokenizers must come the offline way, as on a machine without Hugging Face.
      hfEndpoint: 'http://127.0.0.1:9',
    },
  })
  const outcome = await run.done
  off()
  out.end()
  check(
    outcome.state.status === 'done',
    'install',
    `${outcome.state.status}: ${outcome.state.lastError?.message ?? 'no error recorded'} (log: ${log})`,
  )
  const plan = outcome.state.plan
  check(
    plan.torch?.layout === 'pypi',
    'install',
    `torch was not planned from the PyPI-style index: ${JSON.stringify(plan.torch)}`,
  )
  const t = outcome.probe?.torch
  check(
    t?.imported && t.version?.split('+')[0] === '2.6.0' && t.cuda_version === '12.4',
    'install',
    `verify found torch ${t?.version ?? 'missing'} (CUDA ${t?.cuda_version ?? '-'}), expected PyPI's 2.6.0 for CUDA 12.4`,
  )
  ok(
    'install',
    `"${ENV_NAME}" installed and verified; torch ${t.version} (CUDA build ${t.cuda_version ?? 'none'}) from ${plan.torch.indexUrl}`,
  )
  const sources = JSON.parse(
    readFileSync(path.join(plan.tokenizerCacheDir, 'source.json'), 'utf8'),
  ) as Record<string, string>
  check(
    Object.values(sources).length === 2 && Object.values(sources).every((w) => w.startsWith('built offline')),
    'tokenizers',
    `not both built offline: ${JSON.stringify(sources)}`,
  )
  // Each source note already says how ("built offline from the open-clip-torch wheel (…)").
  ok('tokenizers', `both ${Object.values(sources)[0]}`)
  const rec = await m.get(ENV_NAME)
  const list = await m.list()
  check(
    list.active === ENV_NAME && list.environments.find((e) => e.name === ENV_NAME)?.ready,
    'install',
    'the new environment is not the active, ready one',
  )
  return rec.venvPython
}

async function main(): Promise<void> {
  check(
    process.platform === 'linux',
    'platform',
    'e2e:real runs on Linux (it reads /proc/meminfo and runs train.sh)',
  )
  check(
    values.work && values.source,
    'usage',
    'npm run e2e:real -- --work <dir> --source <sd-scripts folder or git URL>',
  )
  const work = path.resolve(values.work)
  const source = /^(https?|ssh|git|file):\/\//i.test(values.source)
    ? values.source
    : path.resolve(values.source)
  const cache = path.resolve(values.cache ?? path.join(work, 'cache'))
  mkdirSync(work, { recursive: true })
  mkdirSync(cache, { recursive: true })
  note(`work folder ${work}; download cache ${cache}; ${availableGib().toFixed(1)} GiB of memory available`)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    UV_CACHE_DIR: path.join(cache, 'uv'),
    PIP_CACHE_DIR: path.join(cache, 'pip'),
  }
  const services = createServices({ dataDir: path.join(work, 'data'), mode: 'cli', env, version: 'e2e-real' })
  try {
    // 1. The environment, through the app's installer.
    const python = await install(services, work, source)
    const rec = await services.env.manager.get(ENV_NAME)

    // 2. A random-weight SDXL checkpoint with sd-scripts' own model code.
    const model = path.join(work, 'sdxl-random.safetensors')
    if (!existsSync(model) || statSync(model).size < 6e9) {
      await waitForMemory(CHECKPOINT_NEEDS_GIB, 'the checkpoint builder')
      const log = path.join(work, 'checkpoint.log')
      const code = await runLogged(
        python,
        [
          path.join(repoRoot, 'resources/harness/make_checkpoint.py'),
          '--sd-scripts',
          rec.srcDir,
          '--out',
          model,
          '--device',
          'cpu',
          '--low-memory',
        ],
        log,
        env,
      )
      const text = readFileSync(log, 'utf8')
      check(code === 0, 'checkpoint', `make_checkpoint.py exited ${code}: ${text.slice(-1500)}`)
      const peak = Number(/peak memory: ([\d.]+) GB/.exec(text)?.[1])
      check(
        peak > 0 && peak < PEAK_LIMIT_GB,
        'checkpoint',
        `peak memory ${peak} GB (limit ${PEAK_LIMIT_GB} GB)`,
      )
      ok(
        'checkpoint',
        `${(statSync(model).size / 1e9).toFixed(2)} GB, built with sd-scripts' model code, peak memory ${peak.toFixed(2)} GB`,
      )
    } else ok('checkpoint', `reusing ${model} (${(statSync(model).size / 1e9).toFixed(2)} GB)`)

    // 3. Four images with captions.
    const images = path.join(work, 'dataset', 'cat')
    venvJson<number>(python, MAKE_DATASET, [images])
    ok('dataset', `4 images 256×256 with captions in ${images}`)

    // 4. A LoRA run through the same request the UI sends.
    const outApp = path.join(work, 'out-app')
    const outHand = path.join(work, 'out-launcher')
    for (const d of [outApp, outHand]) rmSync(d, { recursive: true, force: true })
    const config = trainingConfig(model, images, outApp, 'e2e-lora')
    const call = async <T>(method: string, input: unknown): Promise<T> => {
      const r = await services.router.call(method as never, input, { transport: 'cli' })
      if (!r.ok) throw new CheckFailed(`${method}: ${r.error.message}`)
      return r.result as T
    }
    const preview = await call<{ ready: boolean; blocking: string[]; env: Record<string, string> }>(
      'train.preview',
      { config },
    )
    check(preview.ready, 'preview', `not ready: ${preview.blocking.join(' | ')}`)
    check(
      preview.env.HF_HUB_OFFLINE === '1',
      'preview',
      'the run would not be offline (tokenizer cache not used)',
    )
    ok('preview', "train.preview says ready; offline with the environment's tokenizer cache")
    await waitForMemory(TRAIN_NEEDS_GIB, 'training')
    const startedRun = await call<RunRecord>('train.start', { config, name: 'e2e:real' })
    note(`run ${startedRun.id} started (log: ${services.runs.service.store.file(startedRun.id, 'log')})`)
    let trainerPid: number | null = null
    const offPid = services.runs.service.onUpdate((u) => {
      if (u.run.id === startedRun.id && u.run.pid) trainerPid = u.run.pid
    })
    const appPeak = trackPeak(() => trainerPid)
    const done = await services.runs.service.waitFor(startedRun.id)
    const appPeakGb = appPeak.stop()
    offPid()
    const logFile = services.runs.service.store.file(done.id, 'log')
    check(done.state === 'finished', 'run', `${done.state}: ${done.reason ?? ''} (log: ${logFile})`)
    ok(
      'run',
      `finished in ${((Date.parse(done.ended_at!) - Date.parse(done.started_at!)) / 60000).toFixed(1)} min, trainer peak memory ${appPeakGb.toFixed(1)} GB`,
    )

    // The record against the log, read independently of the live parse.
    const parsed = parseLog(readFileSync(logFile))
    const s = done.summary
    const frames = [
      ...readFileSync(logFile, 'utf8').matchAll(
        /steps:[^\r\n]*?(\d+)\/(\d+) \[[^\]]*avr_loss=([\d.e+-]+)\]/g,
      ),
    ]
    const lastFrame = frames.at(-1)
    check(lastFrame, 'record', 'no progress bar with avr_loss in the log')
    const logLoss = Number(lastFrame[3])
    check(
      s.last_step === 3 && s.total_steps === 3,
      'record',
      `steps ${s.last_step}/${s.total_steps}, the log says 3/3`,
    )
    check(
      s.last_epoch === 1 && s.epochs_total === 1,
      'record',
      `epoch ${s.last_epoch}/${s.epochs_total}, the log says 1/1`,
    )
    check(
      s.last_avr_loss === logLoss,
      'record',
      `final loss ${s.last_avr_loss}, the log's last frame says ${logLoss}`,
    )
    check(
      JSON.stringify(parsed.summary) === JSON.stringify(s),
      'record',
      `record ${JSON.stringify(s)} vs parse-log ${JSON.stringify(parsed.summary)}`,
    )
    const history = await call<{ loss: Array<[number, number]> }>('run.history', { id: done.id })
    const fromLog = lossSeries(parsed.events)
    check(
      JSON.stringify(history.loss) === JSON.stringify(fromLog) && fromLog.length === 3,
      'record',
      `loss chart ${JSON.stringify(history.loss)} vs the log's last frame per step ${JSON.stringify(fromLog)}`,
    )
    ok(
      'record',
      `steps 3/3, epoch 1/1, loss per step ${fromLog.map((p) => p[1]).join(', ')} (final ${logLoss}) match the log`,
    )

    const lora = path.join(outApp, 'e2e-lora.safetensors')
    check(existsSync(lora), 'lora', `no ${lora}`)
    const facts = venvJson<{ keys: string[]; meta: Record<string, string> }>(python, LORA_FACTS, [lora])
    const down = facts.keys.filter((k) => k.startsWith('lora_unet_') && k.endsWith('.lora_down.weight'))
    check(down.length > 0, 'lora', `no lora_unet_*.lora_down.weight keys among ${facts.keys.length}`)
    ok(
      'lora',
      `${lora} loads: ${facts.keys.length} tensors, ${down.length} U-Net LoRA modules, ss_network_dim=${facts.meta.ss_network_dim}`,
    )

    check(done.samples.length > 0, 'sample', 'the record lists no sample image')
    const sample = path.join(outApp, 'sample', done.samples[0]!)
    check(
      readFileSync(sample)
        .subarray(0, 8)
        .equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])),
      'sample',
      `${sample} is not a PNG`,
    )
    ok('sample', `${done.samples.join(', ')} in the record and on disk`)

    // 5. config export → the launcher by hand → an equivalent LoRA.
    const exportDir = path.join(work, 'export')
    rmSync(exportDir, { recursive: true, force: true })
    const exported = await services.training.exportRun(
      { config: trainingConfig(model, images, outHand, 'e2e-lora') },
      exportDir,
    )
    check(exported.warnings.length === 0, 'export', exported.warnings.join(' | '))
    const same = JSON.stringify(exported.argv.slice(0, 2)) === JSON.stringify(done.command.slice(0, 2))
    check(
      same,
      'export',
      `command ${JSON.stringify(exported.argv)} differs from the run's ${JSON.stringify(done.command)}`,
    )
    const runEnv = done.env
    for (const [k, v] of Object.entries(runEnv))
      check(exported.env[k] === v, 'export', `${k}=${exported.env[k]} in the export, ${v} in the run`)
    const exportedToml = readFileSync(path.join(exportDir, 'config.toml'), 'utf8')
    check(exportedToml.includes('tokenizer_cache_dir'), 'export', 'config.toml has no tokenizer_cache_dir')
    ok(
      'export',
      `${exported.files.join(', ')}: the run's command, variables (${Object.keys(exported.env).join(', ')}) and tokenizer cache`,
    )
    await waitForMemory(TRAIN_NEEDS_GIB, 'the launcher run')
    const handLog = path.join(work, 'launcher.log')
    // A user's shell: their own environment, nothing of the app's.
    const code = await runLogged('bash', [exported.launcher], handLog, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: 'C.UTF-8',
    })
    check(
      code === 0,
      'launcher',
      `bash ${exported.launcher} exited ${code}: ${readFileSync(handLog, 'utf8').slice(-1500)}`,
    )
    const handLora = path.join(outHand, 'e2e-lora.safetensors')
    check(existsSync(handLora), 'launcher', `no ${handLora}`)
    const cmp = venvJson<{ same_keys: boolean; same_shapes: boolean; max_abs_diff: number | null }>(
      python,
      COMPARE,
      [lora, handLora],
    )
    check(
      cmp.same_keys && cmp.same_shapes,
      'launcher',
      `the LoRA trained by hand has other keys or shapes: ${JSON.stringify(cmp)}`,
    )
    check(
      cmp.max_abs_diff !== null && cmp.max_abs_diff < 1e-3,
      'launcher',
      `weights differ by up to ${cmp.max_abs_diff}`,
    )
    ok(
      'launcher',
      `bash train.sh trained ${handLora}: same keys, shapes and dtypes, ${cmp.max_abs_diff === 0 ? 'identical weights' : `weights within ${cmp.max_abs_diff}`}`,
    )
    writeFileSync(path.join(work, 'e2e-real-passed.txt'), `${new Date().toISOString()}\n`)
    process.stdout.write(`e2e:real passed (${elapsed()})\n`)
  } finally {
    await services.dispose()
  }
}

main().catch((error: unknown) => {
  const message =
    error instanceof CheckFailed
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error)
  process.stdout.write(`FAIL  ${message}\ne2e:real FAILED: ${message.split('\n')[0]}\n`)
  process.exit(1)
})
