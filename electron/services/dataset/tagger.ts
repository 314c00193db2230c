import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { z } from 'zod'
import type { TaggerOptions, TaggerProgress } from '../../../core/api/domains/dataset'
import { ApiError } from '../../../core/api/errors'
import { splitTags, joinTags } from '../../../core/dataset/caption-ops'
import { editorText } from '../../../core/dataset/folder'
import { envLayout } from '../../../core/env/layout'
import { parseTqdm } from '../../../core/runs/tqdm'
import type { ServiceOptions } from '../context'
import type { EnvManager } from '../env/manager'
import { killTree } from '../runs/process-tree'
import { resolveTrainingEnvironment } from '../training/environment'
import type { CaptionStore } from './captions'

/**
 * WD14 tagging with sd-scripts' own finetune/tag_images_by_wd14_tagger.py in the active environment,
 * always with --onnx (the TensorFlow path needs a 500 MB package sd-scripts does not install). The
 * script downloads the model from the Hugging Face endpoint in Settings (HF_ENDPOINT) into
 * <dataDir>/models/wd14 and writes its tags to a JSON file (--output_path); the captions are then
 * written here, through the caption store, so tagging can be undone like any other caption change and
 * "keep existing captions" is honoured exactly.
 */

export const TAGGER_SCRIPT = path.join('finetune', 'tag_images_by_wd14_tagger.py')
/** A character threshold no probability reaches: character tags off (see the argument list). */
export const CHARACTER_THRESHOLD_OFF = 1.01
/** What the script imports for --onnx beyond sd-scripts' requirements. */
export const TAGGER_PACKAGES = ['onnx', 'onnxruntime']

type Options = z.output<typeof TaggerOptions>

interface Job {
  id: string
  progress: TaggerProgress
  listeners: Set<(p: TaggerProgress) => void>
  pid: number | null
  cancelled: boolean
}

function run(
  cmd: string,
  args: string[],
  o: {
    cwd?: string
    env: NodeJS.ProcessEnv
    onLine?: (line: string) => void
    onSpawn?: (pid: number) => void
  },
): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      // Its own process group, so cancelling stops the whole tree (DataLoader workers too).
      detached: process.platform !== 'win32',
    })
    if (child.pid) o.onSpawn?.(child.pid)
    let tail = ''
    let partial = ''
    const onData = (d: Buffer) => {
      const text = partial + d.toString('utf8')
      // tqdm redraws with \r; log lines end with \n.
      const parts = text.split(/\r\n|\r|\n/)
      partial = parts.pop() ?? ''
      for (const line of parts) if (line.trim()) o.onLine?.(line)
      tail = (tail + d.toString('utf8')).slice(-4000)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', (e) => resolve({ code: -1, tail: `${tail}\n${e.message}` }))
    child.on('close', (code) => {
      if (partial.trim()) o.onLine?.(partial)
      resolve({ code, tail })
    })
  })
}

/** The last meaningful line of a failed run (a Python traceback's final line, usually). */
function lastError(tail: string): string {
  const lines = tail
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter(Boolean)
  return lines.filter((l) => !parseTqdm(l)).at(-1) ?? 'no output'
}

export class Tagger {
  private readonly jobs = new Map<string, Job>()

  constructor(
    private readonly options: ServiceOptions,
    private readonly manager: EnvManager,
    private readonly captions: CaptionStore,
  ) {}

  // Tagging needs the tagger script and its packages (checked below), not an environment verified for
  // training: an existing install without torch's CUDA build can still tag.
  private async environment() {
    return resolveTrainingEnvironment(this.manager, { requireReady: false })
  }

  private async missingPackages(python: string): Promise<string[]> {
    const code = `import importlib.util as u, json; print(json.dumps([m for m in ${JSON.stringify(TAGGER_PACKAGES)} if u.find_spec(m) is None]))`
    const r = await run(python, ['-c', code], { env: this.options.env })
    try {
      return JSON.parse(r.tail.trim().split('\n').at(-1) ?? '[]') as string[]
    } catch {
      return TAGGER_PACKAGES
    }
  }

  async check() {
    const hf = (await this.manager.settings()).mirrors.hfEndpoint
    const none = { environment: null, python: null, script: null, missing: [], hf_endpoint: hf }
    let e
    try {
      e = await this.environment()
    } catch (error) {
      const kind = error instanceof ApiError && (error.details as { kind?: string } | undefined)?.kind
      return {
        ...none,
        ready: false,
        problem: (error as Error).message,
        problem_kind:
          kind === 'environment_broken' ? ('environment_broken' as const) : ('no_environment' as const),
      }
    }
    const script = path.join(e.sd_scripts_dir, TAGGER_SCRIPT)
    if (!existsSync(script))
      return {
        ...none,
        ready: false,
        environment: e.name,
        python: e.python,
        problem: `This sd-scripts has no ${TAGGER_SCRIPT}. Update the environment to v0.10.1.`,
        problem_kind: 'no_script' as const,
      }
    const missing = await this.missingPackages(e.python)
    return {
      ready: missing.length === 0,
      environment: e.name,
      python: e.python,
      script,
      missing,
      hf_endpoint: hf,
      problem: null,
      problem_kind: null,
    }
  }

  private update(job: Job, patch: Partial<TaggerProgress>): void {
    job.progress = { ...job.progress, ...patch }
    for (const l of job.listeners) l(job.progress)
  }

  subscribe(id: string, listener: (p: TaggerProgress) => void): () => void {
    const job = this.jobs.get(id)
    if (!job) throw new ApiError('not_found', `No tagging job ${id}.`, { kind: 'no_job' })
    job.listeners.add(listener)
    listener(job.progress)
    return () => job.listeners.delete(listener)
  }

  isFinished(id: string): boolean {
    const phase = this.jobs.get(id)?.progress.phase
    return phase === 'done' || phase === 'failed' || phase === 'cancelled'
  }

  async cancel(id: string): Promise<boolean> {
    const job = this.jobs.get(id)
    if (!job || this.isFinished(id)) return false
    job.cancelled = true
    if (job.pid) await killTree(job.pid)
    return true
  }

  async start(o: Options): Promise<string> {
    const st = await fs.stat(o.dir).catch(() => null)
    if (!st?.isDirectory())
      throw new ApiError('domain', `Dataset folder not found: ${o.dir}. Choose an existing folder.`, {
        kind: 'folder_missing',
      })
    const e = await this.environment()
    const script = path.join(e.sd_scripts_dir, TAGGER_SCRIPT)
    if (!existsSync(script))
      throw new ApiError(
        'domain',
        `This sd-scripts has no ${TAGGER_SCRIPT}. Update the environment to v0.10.1.`,
        { kind: 'no_tagger_script' },
      )
    if ([...this.jobs.values()].some((j) => !this.isFinished(j.id)))
      throw new ApiError('conflict', 'A tagging job is already running. Wait for it or stop it.', {
        kind: 'tagger_busy',
      })
    const id = randomBytes(6).toString('hex')
    const job: Job = {
      id,
      listeners: new Set(),
      pid: null,
      cancelled: false,
      progress: {
        job: id,
        phase: 'tagging',
        done: 0,
        total: null,
        line: '',
        written: 0,
        error: null,
        history_id: null,
      },
    }
    this.jobs.set(id, job)
    void this.work(job, o, e).catch((error: unknown) =>
      this.update(job, { phase: 'failed', error: error instanceof Error ? error.message : String(error) }),
    )
    return id
  }

  private async work(job: Job, o: Options, e: Awaited<ReturnType<Tagger['environment']>>): Promise<void> {
    const settings = await this.manager.settings()
    const env: NodeJS.ProcessEnv = {
      ...this.options.env,
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
      // The script imports sd-scripts' library package; external installs may not have it installed.
      PYTHONPATH: [e.sd_scripts_dir, this.options.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
      ...(settings.mirrors.hfEndpoint ? { HF_ENDPOINT: settings.mirrors.hfEndpoint } : {}),
      ...(e.hf_home ? { HF_HOME: e.hf_home } : {}),
    }
    const onSpawn = (pid: number) => (job.pid = pid)

    const missing = await this.missingPackages(e.python)
    if (missing.length) {
      this.update(job, { phase: 'installing', line: `Installing ${missing.join(', ')}` })
      const r = await this.install(e.python, missing, env, onSpawn, (line) => this.update(job, { line }))
      if (job.cancelled) return this.update(job, { phase: 'cancelled' })
      if (r.code !== 0)
        return this.update(job, {
          phase: 'failed',
          error: `Could not install ${missing.join(', ')} into environment "${e.name}": ${lastError(r.tail)}. Check the network or the PyPI mirror in Settings, then try again.`,
        })
    }

    const modelDir = path.join(this.options.dataDir, 'models', 'wd14')
    const location = path.join(
      modelDir,
      o.repo_id.split('/').slice(0, 2).join('_'),
      ...o.repo_id.split('/').slice(2),
    )
    const onnxName = o.repo_id.split('/').length > 2 ? 'model_optimized.onnx' : 'model.onnx'
    // The script skips the download whenever the model folder exists; a half-finished one must be redone.
    const incomplete = existsSync(location) && !existsSync(path.join(location, onnxName))
    const work = mkdtempSync(path.join(os.tmpdir(), 'sdxl-wd14-'))
    const output = path.join(work, 'tags.json')
    const args = [
      path.join(e.sd_scripts_dir, TAGGER_SCRIPT),
      path.resolve(o.dir),
      '--onnx',
      '--repo_id',
      o.repo_id,
      '--model_dir',
      modelDir,
      '--thresh',
      String(o.threshold),
      '--batch_size',
      String(o.batch_size),
      '--caption_extension',
      o.caption_extension,
      '--output_path',
      output,
      // sd-scripts v0.10.1's tagger stops with UnboundLocalError ('character_tags') as soon as a
      // character tag passes its threshold with a SmilingWolf model; above 1 that never happens.
      '--character_threshold',
      String(CHARACTER_THRESHOLD_OFF),
      ...(o.remove_underscore ? ['--remove_underscore'] : []),
      ...(o.undesired_tags.trim() ? ['--undesired_tags', o.undesired_tags] : []),
      ...(incomplete ? ['--force_download'] : []),
    ]
    this.update(job, { phase: 'tagging', line: '' })
    try {
      const r = await run(e.python, args, {
        cwd: e.sd_scripts_dir,
        env,
        onSpawn,
        onLine: (line) => {
          const bar = parseTqdm(line)
          if (bar) this.update(job, { phase: 'tagging', done: bar.step, total: bar.total, line })
          else if (/download/i.test(line)) this.update(job, { phase: 'downloading', line })
          else this.update(job, { line })
        },
      })
      if (job.cancelled) return this.update(job, { phase: 'cancelled' })
      if (r.code !== 0 || !existsSync(output)) {
        const last = lastError(r.tail)
        // huggingface_hub's download errors (the script's last line is then only "Force download failed").
        const hint =
          /RepositoryNotFoundError|EntryNotFoundError|RevisionNotFoundError|HfHubHTTPError|LocalEntryNotFoundError|ConnectionError|ConnectTimeout|Max retries exceeded/.test(
            r.tail,
          )
            ? ` The model could not be downloaded from ${settings.mirrors.hfEndpoint ?? 'huggingface.co'}: check the network or the Hugging Face endpoint in Settings, and the model repository (${o.repo_id}).`
            : ''
        return this.update(job, {
          phase: 'failed',
          error: `The WD14 tagger stopped: ${last}.${hint}`,
        })
      }
      this.update(job, { phase: 'writing' })
      const tags = JSON.parse(await fs.readFile(output, 'utf8')) as Record<string, { tags: string }>
      const result = await this.writeTags(o, tags)
      this.update(job, { phase: 'done', written: result.written, history_id: result.history_id })
    } finally {
      await fs.rm(work, { recursive: true, force: true })
    }
  }

  private install(
    python: string,
    packages: string[],
    env: NodeJS.ProcessEnv,
    onSpawn: (pid: number) => void,
    onLine: (line: string) => void,
  ) {
    return this.manager.settings().then(async (settings) => {
      const layout = envLayout(
        process.platform === 'win32' ? 'win32' : 'linux',
        path.dirname(path.dirname(path.dirname(python))),
      )
      const index = settings.mirrors.pypiIndex ? ['--index-url', settings.mirrors.pypiIndex] : []
      // Keep torch and numpy as they are: the tagger must not replace the environment's builds.
      const pins = await run(
        python,
        [
          '-c',
          'import importlib.metadata as m\nfor p in ("numpy","torch","torchvision"):\n  try: print(f"{p}=={m.version(p)}")\n  except Exception: pass',
        ],
        { env },
      )
      const constraints = path.join(mkdtempSync(path.join(os.tmpdir(), 'sdxl-wd14-pins-')), 'constraints.txt')
      await fs.writeFile(constraints, pins.tail)
      // The environment's own installer: its uv, else its pip, else a uv on PATH (uv-made venvs have no pip).
      const hasPip = (await run(python, ['-m', 'pip', '--version'], { env })).code === 0
      const uv = existsSync(layout.bootstrapUv) ? layout.bootstrapUv : hasPip ? null : 'uv'
      const argv = uv
        ? [uv, 'pip', 'install', '--python', python, ...index, '-c', constraints, ...packages]
        : [
            python,
            '-m',
            'pip',
            'install',
            '--disable-pip-version-check',
            ...index,
            '-c',
            constraints,
            ...packages,
          ]
      try {
        return await run(argv[0]!, argv.slice(1), { env, onSpawn, onLine })
      } finally {
        await fs.rm(path.dirname(constraints), { recursive: true, force: true })
      }
    })
  }

  /** Writes the tagger's tags as captions, keeping or merging existing ones as chosen (undoable). */
  private async writeTags(o: Options, tags: Record<string, { tags: string }>) {
    const { images, captionOf } = await this.captions.captionFiles(o.dir, o.caption_extension)
    const byName = new Map(Object.entries(tags).map(([p, v]) => [path.basename(p), v.tags]))
    const writes = []
    for (const image of images) {
      const found = byName.get(image)
      if (found === undefined) continue
      const raw = await fs.readFile(captionOf(image), 'utf8').catch(() => null)
      const current = raw === null ? null : editorText(raw)
      let text: string
      if (o.mode === 'overwrite' || current === null || current.trim() === '') text = found
      else if (o.mode === 'append') {
        const existing = splitTags(current)
        text = joinTags([...existing, ...splitTags(found).filter((t) => !existing.includes(t))])
      } else continue
      if (text !== current) writes.push({ image, expected: current, text })
    }
    if (!writes.length) return { written: 0, history_id: null }
    const r = await this.captions.write(o.dir, o.caption_extension, writes, 'WD14')
    return { written: r.written, history_id: r.history_id }
  }

  async dispose(): Promise<void> {
    for (const job of this.jobs.values()) if (!this.isFinished(job.id) && job.pid) await killTree(job.pid)
  }
}
