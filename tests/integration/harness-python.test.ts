// The harness's Python side, run for real: the progress-log fallback parser, the tokenizer
// generator (against known CLIP token ids) and the CPU dry run against real sd-scripts.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openClipWheelOrNull } from '../helpers/open-clip-wheel'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const harness = path.join(repoRoot, 'resources/harness')
const makeTokenizersPy = path.join(repoRoot, 'resources/env/make_tokenizers.py')
const fixtures = path.join(repoRoot, 'tests/fixtures/harness')
const work = mkdtempSync(path.join(tmpdir(), 'harness-py-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function py(python: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string } {
  const r = spawnSync(python, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 32 * 1024 * 1024,
  })
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` }
}

const hasPython3 = spawnSync('python3', ['--version']).status === 0

/** A Python with sd-scripts' requirements (transformers, torch...): HARNESS_PYTHON or the dry-run venv. */
function harnessPython(): string | null {
  const venv = process.env.HARNESS_VENV ?? path.join(homedir(), '.cache/sdxl-studio/harness-venv')
  const candidates = [process.env.HARNESS_PYTHON, path.join(venv, 'bin/python')].filter(
    (p): p is string => !!p && existsSync(p),
  )
  for (const p of candidates) {
    if (spawnSync(p, ['-c', 'import transformers, torch, voluptuous, toml']).status === 0) return p
  }
  return null
}
const hp = harnessPython()
const sdScripts = process.env.SD_SCRIPTS_DIR
const hasSdScripts = !!sdScripts && existsSync(path.join(sdScripts, 'sdxl_train_network.py'))

describe.skipIf(!hasPython3)('progress log fallback parser (python3)', () => {
  const parse = (file: string): Record<string, unknown> => {
    const code = `import json,sys; sys.path.insert(0, ${JSON.stringify(harness)}); from progress_log import parse_progress; print(json.dumps(parse_progress(open(${JSON.stringify(file)}, encoding="utf-8").read())))`
    const r = py('python3', ['-c', code])
    expect(r.code, r.out).toBe(0)
    return JSON.parse(r.out) as Record<string, unknown>
  }

  it('reads the last step, tqdm rate (it/s and s/it) and loss through carriage-return redraws', () => {
    const r = parse(path.join(fixtures, 'train-progress.log'))
    expect(r).toEqual({
      progress_lines: 5,
      last: { step: 12, total: 12, elapsed_s: 6, it_per_s: 2.18, avr_loss: 0.0973 },
      out_of_memory: false,
    })
  })

  it('flags a CUDA out-of-memory failure', () => {
    const r = parse(path.join(fixtures, 'train-oom.log'))
    expect(r.out_of_memory).toBe(true)
    expect((r.last as { step: number }).step).toBe(0)
  })

  it('computes the steady rate after warm-up from step timestamps', () => {
    const code = `import sys; sys.path.insert(0, ${JSON.stringify(harness)}); from progress_log import steady_rate; print(steady_rate([(1,0.0),(2,5.0),(3,5.5),(4,6.0),(12,10.0)]), steady_rate([(1,0.0)]))`
    const r = py('python3', ['-c', code])
    expect(r.out.trim()).toBe('2.0 None')
  })
})

// The open-clip-torch wheel, from the harness cache or PyPI; null when neither is reachable.
const wheel = hasPython3 ? openClipWheelOrNull('python3', path.join(repoRoot, '.harness/cache')) : null
if (!wheel)
  console.warn('SKIP tokenizer tests: the open-clip-torch==3.3.0 wheel could not be downloaded from PyPI.')
if (!hp)
  console.warn(
    'SKIP transformers/sd-scripts checks: no Python with transformers+torch (set HARNESS_PYTHON or run `npm run harness:dry-run -- --sd-scripts <path>` once to create ~/.cache/sdxl-studio/harness-venv).',
  )
if (!hasSdScripts)
  console.warn('SKIP dry-run test: set SD_SCRIPTS_DIR to a kohya-ss/sd-scripts v0.10.1 checkout.')

/** make_tokenizers.py (python3) building both tokenizer folders from the open-clip-torch wheel into `out`. */
function makeTokenizers(out: string, more: string[] = []) {
  return py('python3', [makeTokenizersPy, '--source', wheel ?? '', '--out', out, ...more])
}

/**
 * Runs measure.py on `jobs`, records to `out`. By default with python3 and sd-scripts and the tokenizers
 * pointing at the scratch folder, for runs that stop before either is read; the runs against real
 * sd-scripts name the Python, sd-scripts and tokenizers to use.
 */
function measure(
  opts: {
    jobs: string
    workDir: string
    out: string
    dryRun?: boolean
    python?: string
    sdScripts?: string
    tokenizers?: string
  },
  more: string[] = [],
) {
  return py(opts.python ?? 'python3', [
    path.join(harness, 'measure.py'),
    ...(opts.dryRun ? ['--dry-run'] : []),
    '--jobs',
    opts.jobs,
    '--sd-scripts',
    opts.sdScripts ?? work,
    '--tokenizers',
    opts.tokenizers ?? work,
    '--work',
    path.join(work, opts.workDir),
    '--out',
    opts.out,
    ...more,
  ])
}

describe.skipIf(!wheel)('tokenizer generator', () => {
  const out = path.join(work, 'tokenizers')
  const folders = ['openai_clip-vit-large-patch14', 'laion_CLIP-ViT-bigG-14-laion2B-39B-b160k']

  it(
    'writes both folders in the CLIPTokenizer format, 49408 tokens, "!" as id 0',
    { timeout: 60_000 },
    () => {
      const r = makeTokenizers(out, ['--check'])
      expect(r.code, r.out).toBe(0)
      expect(r.out).toMatch(/check \(.*\): ok/)
      for (const f of folders) {
        for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
          expect(existsSync(path.join(out, f, file)), `${f}/${file}`).toBe(true)
        }
        const vocab = JSON.parse(readFileSync(path.join(out, f, 'vocab.json'), 'utf8')) as Record<
          string,
          number
        >
        expect(Object.keys(vocab).length).toBe(49408)
        expect(vocab['!']).toBe(0)
        expect(vocab['cat</w>']).toBe(2368)
        expect(vocab['<|startoftext|>']).toBe(49406)
      }
      const pad = (f: string) =>
        JSON.parse(readFileSync(path.join(out, f, 'special_tokens_map.json'), 'utf8')).pad_token
      expect(pad(folders[0] ?? '')).toBe('<|endoftext|>')
      expect(pad(folders[1] ?? '')).toBe('!')
    },
  )

  it('its check fails when the vocabulary is wrong', { timeout: 60_000 }, () => {
    const broken = path.join(work, 'broken')
    cpSync(out, broken, { recursive: true })
    const file = path.join(broken, folders[1] ?? '', 'vocab.json')
    const vocab = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>
    ;[vocab['cat</w>'], vocab['dog</w>']] = [vocab['dog</w>'] ?? 0, vocab['cat</w>'] ?? 0]
    writeFileSync(file, JSON.stringify(vocab))
    const r = py('python3', [makeTokenizersPy, '--check-only', '--out', broken])
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/'a photo of a cat' -> \[49406, 320, 1125, 539, 320, 1929, 49407\]/)
  })

  it.skipIf(!hp)(
    'transformers CLIPTokenizer loads both folders and gives the known ids',
    { timeout: 120_000 },
    () => {
      const r = py(hp ?? '', [makeTokenizersPy, '--check-only', '--out', out])
      expect(r.code, r.out).toBe(0)
      expect(r.out).toContain('check (transformers.CLIPTokenizer): ok')
    },
  )
})

describe.skipIf(!hasSdScripts || !hp || !wheel)('CPU dry run against real sd-scripts', () => {
  it(
    'accepts the hand-made LoRA base and refuses a dataset key sd-scripts does not know',
    { timeout: 300_000 },
    () => {
      const tokenizers = path.join(work, 'dry-tokenizers')
      expect(makeTokenizers(tokenizers).code).toBe(0)
      const jobs = path.join(work, 'jobs')
      cpSync(path.join(harness, 'configs/lora-base'), path.join(jobs, 'good'), { recursive: true })
      cpSync(path.join(harness, 'configs/lora-base'), path.join(jobs, 'bad-key'), { recursive: true })
      const ds = path.join(jobs, 'bad-key/dataset.toml')
      writeFileSync(
        ds,
        readFileSync(ds, 'utf8').replace('keep_tokens = 1', 'keep_tokens = 1\nnot_a_dataset_key = 3'),
      )
      const out = path.join(work, 'dry.json')
      const r = measure({
        jobs,
        workDir: 'dry-work',
        out,
        dryRun: true,
        python: hp ?? '',
        sdScripts: sdScripts ?? '',
        tokenizers,
      })
      expect(r.code, r.out).toBe(1) // one refused
      const report = JSON.parse(readFileSync(out, 'utf8')) as {
        jobs: { id: string; status: string; error: string | null; dataset: { num_train_images: number } }[]
      }
      const byId = Object.fromEntries(report.jobs.map((j) => [j.id, j]))
      expect(byId.good?.status).toBe('accepted')
      // 8 synthetic images x num_repeats 10, one 1024x1024 bucket
      expect(byId.good?.dataset.num_train_images).toBe(80)
      expect(byId['bad-key']?.status).toBe('refused')
      expect(byId['bad-key']?.error).toMatch(/extra keys not allowed.*not_a_dataset_key/)
    },
  )
})

describe.skipIf(!hasPython3)('measurement runner without a GPU', () => {
  function jobsDir(): string {
    const jobs = path.join(work, `jobs-${Math.random().toString(36).slice(2)}`)
    cpSync(path.join(harness, 'configs/lora-base'), path.join(jobs, 'a'), { recursive: true })
    cpSync(path.join(harness, 'configs/dreambooth-base'), path.join(jobs, 'b'), { recursive: true })
    writeFileSync(path.join(jobs, 'order.txt'), 'b\na\n')
    return jobs
  }

  it('records jobs it has no time for as skipped-budget, in order.txt order, and runs nothing', () => {
    const jobs = jobsDir()
    const ckpt = path.join(work, 'fake.safetensors')
    writeFileSync(ckpt, 'x')
    const out = path.join(work, 'budget.jsonl')
    const r = measure({ jobs, workDir: 'w', out }, ['--checkpoint', ckpt, '--budget-s', '0'])
    expect(r.code, r.out).toBe(0)
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; status: string })
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['b', 'skipped-budget'],
      ['a', 'skipped-budget'],
    ])
  })

  it('skips jobs an earlier call on the same machine measured (ok or oom), not failed ones', () => {
    const jobs = jobsDir()
    const ckpt = path.join(work, 'fake2.safetensors')
    writeFileSync(ckpt, 'x')
    const done = path.join(work, 'all-results.jsonl')
    writeFileSync(done, '{"id": "b", "status": "ok"}\n{"id": "a", "status": "failed"}\n{"id": "a", "sta')
    const out = path.join(work, 'second.jsonl')
    const r = measure({ jobs, workDir: 'w5', out }, [
      '--checkpoint',
      ckpt,
      '--budget-s',
      '0',
      '--skip-done',
      done,
    ])
    expect(r.code, r.out).toBe(0)
    expect(r.out).toContain('[b] already measured')
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; status: string })
    expect(lines.map((l) => [l.id, l.status])).toEqual([['a', 'skipped-budget']])
  })

  it('refuses to measure without a checkpoint and names the fix', () => {
    const r = measure({ jobs: jobsDir(), workDir: 'w2', out: path.join(work, 'none.jsonl') })
    expect(r.code).toBe(2)
    expect(r.out).toMatch(/make_checkpoint\.py/)
  })

  it('dry run refuses a job folder without dataset.toml, naming the export command', () => {
    const jobs = jobsDir()
    rmSync(path.join(jobs, 'a/dataset.toml'))
    writeFileSync(path.join(jobs, 'order.txt'), 'a\n')
    const out = path.join(work, 'missing.json')
    const r = measure({ jobs, workDir: 'w3', out, dryRun: true })
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/\[a\] refused: .*dataset\.toml is missing; export the preset/)
    expect(JSON.parse(readFileSync(out, 'utf8')).jobs[0].status).toBe('refused')
  })

  it.skipIf(!hasSdScripts || !hp || !wheel)(
    'a measured run that sd-scripts fails records the error, versions and no invented numbers',
    { timeout: 300_000 },
    () => {
      const tokenizers = path.join(work, 'm-tokenizers')
      expect(makeTokenizers(tokenizers).code).toBe(0)
      const jobs = jobsDir()
      writeFileSync(path.join(jobs, 'order.txt'), 'a\n')
      const ckpt = path.join(work, 'not-a-model.safetensors')
      writeFileSync(ckpt, 'not a model')
      const out = path.join(work, 'failed.jsonl')
      const r = measure(
        { jobs, workDir: 'w4', out, python: hp ?? '', sdScripts: sdScripts ?? '', tokenizers },
        ['--checkpoint', ckpt],
      )
      expect(r.code, r.out).toBe(0)
      const rec = JSON.parse(readFileSync(out, 'utf8').trim()) as Record<string, unknown>
      expect(rec).toMatchObject({
        id: 'a',
        status: 'failed',
        script: 'sdxl_train_network.py',
        resolution: [1024, 1024],
        batch_size: 1,
      })
      expect(String(rec.error)).toMatch(/SafetensorError|header/i)
      expect(String(rec.torch)).toMatch(/^\d+\.\d+/)
      expect(rec.torch_max_allocated_mib).toBeNull()
      expect(rec.peak_nvidia_smi_process_mib).toBeNull()
      expect(rec.it_per_s_steady).toBeNull()
      expect(existsSync(path.join(work, 'logs/a.log'))).toBe(true)
    },
  )
})
