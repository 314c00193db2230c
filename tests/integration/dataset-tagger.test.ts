// WD14 tagging end to end: the dataset service runs the tagger script of the active environment with
// a local stand-in Hugging Face endpoint (HF_ENDPOINT from Settings) serving a tiny ONNX tagger that
// make_model.py generates; captions are written by the service (kept, merged or overwritten; undoable).
// CI has no sd-scripts: the script is a stand-in with the real one's command line and output format
// (tests/fixtures/wd14). With sd-scripts v0.10.1 and a Python that can import it (SD_SCRIPTS_DIR,
// TAGGER_PYTHON), the last test runs sd-scripts' own finetune/tag_images_by_wd14_tagger.py the same way.
import { execFileSync, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TaggerProgress } from '../../core/api/domains/dataset'
import { ApiError } from '../../core/api/errors'
import { createServices, type Services } from '../../electron/services'
import type { EventSink } from '../../electron/services/router'
import { writeImage } from '../helpers/dataset-images'
import {
  ensureSharedCache,
  realPython,
  repoRoot,
  sharedCache,
  sharedUvBin,
  tempDir,
  testEnv,
} from './env-helpers'
import { startLocalMirrors, type LocalMirrors } from './env-mirrors'

const fixtures = path.join(repoRoot, 'tests/fixtures/wd14')
const REPO = 'test/wd14-tiny'
const BASE_PACKAGES = ['numpy', 'pillow', 'huggingface_hub', 'tqdm']

/** A venv with `packages`, made once into the shared cache (another test file may race: first wins). */
function sharedVenv(name: string, packages: string[]): string | null {
  const venv = path.join(ensureSharedCache(), name)
  const python = path.join(venv, 'bin', 'python')
  if (existsSync(python)) return python
  const tmp = mkdtempSync(path.join(sharedCache, `${name}-tmp-`))
  try {
    execFileSync(realPython(), ['-m', 'venv', tmp])
    execFileSync(path.join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '-q', ...packages], {
      env: { ...process.env, PIP_CACHE_DIR: path.join(sharedCache, 'pip') },
      stdio: 'ignore',
    })
    if (spawnSync('mv', ['-T', tmp, venv]).status !== 0) rmSync(tmp, { recursive: true, force: true })
    return python
  } catch {
    rmSync(tmp, { recursive: true, force: true })
    return null
  }
}

/** A new venv (with pip) holding `packages`, installed quickly with uv from its cache. */
function freshVenv(dir: string, packages: string[]): string {
  execFileSync(realPython(), ['-m', 'venv', dir])
  const python = path.join(dir, 'bin', 'python')
  execFileSync(path.join(sharedUvBin(), 'uv'), ['pip', 'install', '-q', '--python', python, ...packages], {
    env: testEnv(),
    stdio: 'ignore',
  })
  return python
}

/** A folder that looks like an sd-scripts checkout, with `script` as finetune/tag_images_by_wd14_tagger.py. */
function fakeSdScripts(dir: string, script: string): string {
  mkdirSync(path.join(dir, 'finetune'), { recursive: true })
  mkdirSync(path.join(dir, 'library'), { recursive: true })
  writeFileSync(path.join(dir, 'library', '__init__.py'), '')
  writeFileSync(path.join(dir, 'sdxl_train_network.py'), '')
  copyFileSync(script, path.join(dir, 'finetune', 'tag_images_by_wd14_tagger.py'))
  return dir
}

function useEnvironment(dataDir: string, o: { srcDir: string; python: string; hfEndpoint: string }) {
  mkdirSync(dataDir, { recursive: true })
  const record = {
    name: 'standin',
    kind: 'external',
    envDir: path.dirname(o.srcDir),
    srcDir: o.srcDir,
    venvPython: o.python,
    version: null,
    choices: null,
    createdAt: 1,
  }
  writeFileSync(
    path.join(dataDir, 'environments.json'),
    JSON.stringify({ schema: 1, active: 'standin', environments: [record] }),
  )
  writeFileSync(
    path.join(dataDir, 'env-settings.json'),
    JSON.stringify({ mirrors: { pypiIndex: null, torchIndex: null, hfEndpoint: o.hfEndpoint } }),
  )
}

/** Starts a job and collects its progress until the stream ends. */
async function tag(services: Services, input: Record<string, unknown>): Promise<TaggerProgress[]> {
  const r = await services.router.call('dataset.tagger.start', input, { transport: 'test' })
  if (!r.ok) throw ApiError.from(r.error)
  const seen: TaggerProgress[] = []
  await new Promise<void>((resolve, reject) => {
    const sink: EventSink<TaggerProgress> = {
      emit: (p) => seen.push(p),
      end: (e) => (e ? reject(e) : resolve()),
      onPressure: () => undefined,
    }
    void services.router.subscriptions['dataset.tagger.progress']({ job: r.result.job }, sink, {
      transport: 'test',
    })
  })
  return seen
}

const python = sharedVenv('wd14-venv', [...BASE_PACKAGES, 'onnx', 'onnxruntime'])
if (!python) console.warn('SKIP WD14 tagger tests: could not install onnx/onnxruntime/pillow from PyPI.')

let root: string
let mirrors: LocalMirrors
let images: string

beforeAll(async () => {
  if (!python) return
  root = tempDir('wd14')
  const hub = path.join(root, 'hub', 'wd14-tiny')
  execFileSync(python, [path.join(fixtures, 'make_model.py'), '--out', hub])
  mirrors = await startLocalMirrors({ torchRoot: path.join(root, 'none'), hfRepos: { [REPO]: hub } })
  images = path.join(root, 'images', '10_картинки')
  await writeImage(path.join(images, 'blue.png'), {
    format: 'png',
    width: 300,
    height: 200,
    color: '#0000ff',
  })
  await writeImage(path.join(images, 'red.jpg'), {
    format: 'jpeg',
    width: 200,
    height: 300,
    color: '#ff0000',
  })
  await writeImage(path.join(images, 'green.webp'), {
    format: 'webp',
    width: 256,
    height: 256,
    color: '#00ff00',
  })
}, 300_000)
afterAll(async () => {
  await mirrors?.close()
  if (root) rmSync(root, { recursive: true, force: true })
})

const caption = (name: string) => readFileSync(path.join(images, name), 'utf8')

describe.skipIf(!python)(
  'WD14 tagging (stand-in script, local Hugging Face endpoint, tiny ONNX model)',
  () => {
    let services: Services
    beforeAll(() => {
      const data = path.join(root, 'data')
      useEnvironment(data, {
        srcDir: fakeSdScripts(
          path.join(root, 'env', 'sd-scripts'),
          path.join(fixtures, 'tag_images_by_wd14_tagger.py'),
        ),
        python: python!,
        hfEndpoint: mirrors.hfEndpoint,
      })
      services = createServices({ dataDir: data, mode: 'test', env: testEnv(), version: '0.0.0' })
    })
    afterAll(() => services?.dispose())

    it('is ready when the environment has the script and onnx/onnxruntime', async () => {
      const r = await services.router.call('dataset.tagger.check', {}, { transport: 'test' })
      expect(r.ok && r.result).toMatchObject({
        ready: true,
        missing: [],
        environment: 'standin',
        hf_endpoint: mirrors.hfEndpoint,
      })
    })

    it('downloads the model from the endpoint, tags images without captions, keeps the existing one', async () => {
      writeFileSync(path.join(images, 'red.txt'), 'my tag\n')
      const seen = await tag(services, {
        dir: images,
        repo_id: REPO,
        threshold: 0.5,
        mode: 'missing',
        batch_size: 2,
      })
      const last = seen.at(-1)!
      expect(last, JSON.stringify(seen.slice(-3))).toMatchObject({ phase: 'done', written: 2, error: null })
      expect(seen.some((p) => p.phase === 'tagging' && p.total === 2)).toBe(true)
      expect(mirrors.requests).toContain(`GET /hf/${REPO}/resolve/main/model.onnx`)
      expect(caption('blue.txt')).toBe('solo, blue background\n')
      // Character tags are off (sd-scripts v0.10.1's tagger crashes on them): green gets none.
      expect(caption('green.txt')).toBe('solo\n')
      expect(caption('red.txt')).toBe('my tag\n')
      // Tagging is one caption change: undo removes the two new captions.
      const undo = await services.router.call(
        'dataset.captions.undo',
        { dir: images, id: last.history_id },
        { transport: 'test' },
      )
      expect(undo.ok && undo.result.restored).toBe(2)
      expect(existsSync(path.join(images, 'blue.txt'))).toBe(false)
    }, 120_000)

    it('merges with existing captions, or overwrites them, as chosen (the model is reused)', async () => {
      const before = mirrors.requests.length
      expect(
        (await tag(services, { dir: images, repo_id: REPO, threshold: 0.5, mode: 'append' })).at(-1),
      ).toMatchObject({ phase: 'done' })
      expect(caption('red.txt')).toBe('my tag, solo, red theme\n')
      expect(mirrors.requests.length).toBe(before)
      await tag(services, {
        dir: images,
        repo_id: REPO,
        threshold: 0.5,
        mode: 'overwrite',
        undesired_tags: 'solo',
      })
      expect(caption('red.txt')).toBe('red theme\n')
    }, 120_000)

    it('refuses hostile options and a missing folder with clear errors', async () => {
      for (const input of [
        { dir: images, threshold: 0 },
        { dir: images, threshold: 1.5 },
        { dir: images, repo_id: '../../etc' },
        { dir: images, batch_size: 0 },
        { dir: images, caption_extension: 'txt' },
        { dir: '' },
      ]) {
        const r = await services.router.call('dataset.tagger.start', input, { transport: 'test' })
        expect(r.ok, JSON.stringify(input)).toBe(false)
      }
      const missing = await services.router.call(
        'dataset.tagger.start',
        { dir: path.join(root, 'нет') },
        { transport: 'test' },
      )
      expect(!missing.ok && missing.error.message).toContain('Dataset folder not found')
    })

    it('reports a repository the endpoint does not have, with the endpoint and the repository named', async () => {
      const seen = await tag(services, { dir: images, repo_id: 'test/missing-model', threshold: 0.5 })
      expect(seen.at(-1)!.phase).toBe('failed')
      expect(seen.at(-1)!.error).toContain('test/missing-model')
      expect(seen.at(-1)!.error).toContain(mirrors.hfEndpoint)
    }, 120_000)
  },
)

describe.skipIf(!python)('WD14 tagging installs what the environment lacks', () => {
  it('says what is missing, installs it with the environment pip (numpy kept), then tags', async () => {
    const data = path.join(root, 'data-install')
    // onnxruntime is there, onnx is not (installing both from PyPI makes this test minutes long).
    const bare = freshVenv(path.join(root, 'bare-venv'), [...BASE_PACKAGES, 'onnxruntime'])
    const numpyBefore = execFileSync(bare, ['-c', 'import numpy; print(numpy.__version__)'], {
      encoding: 'utf8',
    }).trim()
    useEnvironment(data, {
      srcDir: fakeSdScripts(
        path.join(root, 'env2', 'sd-scripts'),
        path.join(fixtures, 'tag_images_by_wd14_tagger.py'),
      ),
      python: bare,
      hfEndpoint: mirrors.hfEndpoint,
    })
    const services = createServices({ dataDir: data, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      const check = await services.router.call('dataset.tagger.check', {}, { transport: 'test' })
      expect(check.ok && check.result).toMatchObject({ ready: false, missing: ['onnx'] })
      const out = path.join(root, 'images2')
      await writeImage(path.join(out, 'a.png'), { format: 'png', width: 64, height: 64, color: '#0000ff' })
      const seen = await tag(services, { dir: out, repo_id: REPO, threshold: 0.5 })
      expect(seen.some((p) => p.phase === 'installing')).toBe(true)
      expect(seen.at(-1), seen.at(-1)?.error ?? '').toMatchObject({ phase: 'done', written: 1 })
      expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('solo, blue background\n')
      expect(
        execFileSync(bare, ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' }).trim(),
      ).toBe(numpyBefore)
    } finally {
      await services.dispose()
    }
  }, 300_000)
})

// sd-scripts' own script: git-ignored local check (it imports torch, cv2, transformers... via library).
const sdScripts = [process.env.SD_SCRIPTS_DIR, path.join(repoRoot, '.sdscripts')].find(
  (d) => d && existsSync(path.join(d, 'finetune', 'tag_images_by_wd14_tagger.py')),
)
const taggerPython = process.env.TAGGER_PYTHON
const realReady =
  !!python &&
  !!sdScripts &&
  !!taggerPython &&
  spawnSync(taggerPython, ['-c', 'import torch, onnx, onnxruntime, cv2, huggingface_hub, PIL'], {
    cwd: sdScripts,
  }).status === 0
if (!realReady)
  console.warn(
    'SKIP WD14 with the real sd-scripts script: set SD_SCRIPTS_DIR (v0.10.1) and TAGGER_PYTHON (a Python with its requirements, onnx and onnxruntime).',
  )

describe.skipIf(!realReady)("WD14 tagging with sd-scripts' own script (local check)", () => {
  it('tags through finetune/tag_images_by_wd14_tagger.py exactly as through the stand-in', async () => {
    const data = path.join(root, 'data-real')
    // A scratch checkout copy would be large; the env points at the real folder (the script is only read).
    useEnvironment(data, { srcDir: sdScripts!, python: taggerPython!, hfEndpoint: mirrors.hfEndpoint })
    const services = createServices({ dataDir: data, mode: 'test', env: testEnv(), version: '0.0.0' })
    try {
      const out = path.join(root, 'images-real')
      await writeImage(path.join(out, 'blue.png'), {
        format: 'png',
        width: 300,
        height: 200,
        color: '#0000ff',
      })
      await writeImage(path.join(out, 'green.webp'), {
        format: 'webp',
        width: 256,
        height: 256,
        color: '#00ff00',
      })
      const seen = await tag(services, { dir: out, repo_id: REPO, threshold: 0.5, batch_size: 1 })
      expect(seen.at(-1), seen.at(-1)?.error ?? '').toMatchObject({ phase: 'done', written: 2 })
      expect(readFileSync(path.join(out, 'blue.txt'), 'utf8')).toBe('solo, blue background\n')
      expect(readFileSync(path.join(out, 'green.txt'), 'utf8')).toBe('solo\n')
    } finally {
      await services.dispose()
    }
  }, 300_000)
})
