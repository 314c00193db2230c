import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_CONFIG_BYTES } from '../../core/desktop/drop-policy'
import type { DesktopStatus, RunEnded } from '../../core/desktop/run-status'
import { StatusFeed } from '../../electron/main/status-feed'
import { createServices, type Services } from '../../electron/services'
import type { DesktopShell } from '../../electron/services/desktop/domain'
import { RECENT_LIMIT, RecentStore, samePath } from '../../electron/services/desktop/recent-store'
import { runCliCaptured } from '../helpers/cli'
import { trainerScript } from '../helpers/services'

/*
 * The desktop services with real files, real runs of the stand-in trainer and the real CLI: where opened
 * paths go, the recent lists, what the quit guard sees as work, where a run's output is, and the status
 * the Electron main process draws its tray, taskbar and notifications from.
 */

const ctx = { transport: 'test' } as const
const made: Services[] = []
afterEach(async () => {
  for (const s of made.splice(0)) await s.dispose()
})

function scratch(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** A stand-in for Electron's shell module that records what it was asked to show. */
function recordingShell(answer = ''): DesktopShell & { calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    openPath: (p) => {
      calls.push(`open ${p}`)
      return Promise.resolve(answer)
    },
    showItemInFolder: (p) => {
      calls.push(`show ${p}`)
    },
  }
}

function services(dataDir: string, mode: 'electron' | 'headless', shell?: DesktopShell): Services {
  const s = createServices({ dataDir, mode, env: process.env, version: 'test' }, shell ? { shell } : {})
  made.push(s)
  return s
}

async function call<T>(s: Services, method: string, input: unknown): Promise<T> {
  const r = await s.router.call(method as never, input as never, ctx)
  if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`)
  return r.result as T
}

describe('files.open: where opened or dropped paths go', () => {
  it('routes an image folder, a model, a kohya_ss JSON and a config.toml with its dataset and prompts', async () => {
    const dir = scratch('desktop-open-')
    const s = services(path.join(dir, 'data'), 'electron')
    const images = path.join(dir, 'наборы', '10_кот')
    mkdirSync(images, { recursive: true })
    const model = path.join(dir, 'sd_xl_base_1.0.safetensors')
    writeFileSync(model, 'not really a model')
    const kohya = path.join(dir, 'kohya.json')
    // Windows editors write a BOM: it must not break the import.
    writeFileSync(kohya, '\uFEFF{"LoRA_type": "Standard", "network_dim": 16}')
    const config = path.join(dir, 'config.toml')
    writeFileSync(config, 'pretrained_model_name_or_path = "x"\n')
    const datasetToml = path.join(dir, 'dataset.toml')
    writeFileSync(datasetToml, '[general]\n[[datasets]]\nresolution = 1024\n')
    const prompts = path.join(dir, 'prompts.txt')
    writeFileSync(prompts, 'a cat --n blurry\n')

    const plan = await call<{
      intents: Array<Record<string, unknown>>
      problems: unknown[]
    }>(s, 'files.open', { paths: [images, model, kohya] })
    expect(plan.problems).toEqual([])
    expect(plan.intents).toEqual([
      { type: 'add-image-folder', path: images },
      { type: 'set-model-path', path: model },
      {
        type: 'import-kohya-json',
        name: 'kohya.json',
        path: kohya,
        text: '{"LoRA_type": "Standard", "network_dim": 16}',
      },
    ])

    const toml = await call<{ intents: Array<Record<string, unknown>>; problems: unknown[] }>(
      s,
      'files.open',
      {
        paths: [datasetToml, prompts, config],
      },
    )
    expect(toml.problems).toEqual([])
    expect(toml.intents).toEqual([
      {
        type: 'import-toml',
        name: 'config.toml',
        path: config,
        config: 'pretrained_model_name_or_path = "x"\n',
        dataset: '[general]\n[[datasets]]\nresolution = 1024\n',
        prompts: 'a cat --n blurry\n',
      },
    ])

    // What was opened by path is in the recent lists, newest first.
    const recent = await call<{ configs: Array<{ path: string }>; folders: Array<{ path: string }> }>(
      s,
      'recent.list',
      {},
    )
    expect(recent.folders.map((e) => e.path)).toEqual([images])
    expect(recent.configs.map((e) => e.path)).toEqual([config, kohya])
  })

  it('says what is wrong with each path that goes nowhere, and reads no huge file or FIFO', async () => {
    const dir = scratch('desktop-open-bad-')
    const s = services(path.join(dir, 'data'), 'electron')
    const missing = path.join(dir, 'нет такой папки')
    const image = path.join(dir, 'cat.png')
    writeFileSync(image, 'png')
    const broken = path.join(dir, 'broken.json')
    writeFileSync(broken, '{"network_dim": ')
    const huge = path.join(dir, 'huge.json')
    writeFileSync(huge, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20))
    const other = path.join(dir, 'notes.docx')
    writeFileSync(other, 'x')
    const paths = [missing, image, broken, huge, other]
    // A FIFO named like a config must neither block the app nor be taken for a file.
    const fifo = path.join(dir, 'config.json')
    if (process.platform !== 'win32') {
      execFileSync('mkfifo', [fifo])
      paths.push(fifo)
    }
    const plan = await call<{
      intents: unknown[]
      problems: Array<{ code: string; params: { name: string } }>
    }>(s, 'files.open', { paths })
    expect(plan.intents).toEqual([])
    const codes = plan.problems.map((p) => [p.code, p.params.name])
    expect(codes).toContainEqual(['path_missing', missing])
    expect(codes).toContainEqual(['images_not_folder', image])
    expect(codes).toContainEqual(['config_not_json', broken])
    expect(codes).toContainEqual(['config_too_big', huge])
    expect(codes).toContainEqual(['unsupported_file', other])
    if (process.platform !== 'win32') expect(codes).toContainEqual(['config_unreadable', fifo])
    // Nothing that went nowhere is remembered.
    expect(await call(s, 'recent.list', {})).toEqual({ configs: [], folders: [] })
  })

  it('refuses hostile input at the boundary: no paths, an empty path, a path longer than any system allows', async () => {
    const s = services(scratch('desktop-open-input-'), 'headless')
    for (const paths of [[], [''], ['   '], ['x'.repeat(4097)], 'a', [1]]) {
      const r = await s.router.call('files.open', { paths } as never, ctx)
      expect(r.ok, JSON.stringify(paths).slice(0, 40)).toBe(false)
      if (!r.ok) expect(r.error.code).toBe('bad_request')
    }
  })
})

describe('recent lists', () => {
  it('keeps the newest first, each path once, at most RECENT_LIMIT, in a file that is always whole', async () => {
    const dir = scratch('desktop-recent-')
    let clock = Date.parse('2026-01-01T00:00:00Z')
    const store = new RecentStore(dir, () => new Date((clock += 1000)), 'linux')
    // Many opens at once: the writes are serialised, none is lost.
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => store.add('folder', `/data/${String(i).padStart(2, '0')}_кот`)),
    )
    const lists = await store.get()
    expect(lists.folders).toHaveLength(RECENT_LIMIT)
    expect(lists.folders[0]?.path).toBe('/data/24_кот')
    expect(lists.folders.at(-1)?.path).toBe(`/data/${25 - RECENT_LIMIT}_кот`)
    expect(JSON.parse(readFileSync(store.file, 'utf8'))).toEqual(lists)
    // Atomic writes leave no temporary files behind.
    expect(readdirSync(dir)).toEqual(['recent.json'])

    await store.add('folder', '/data/20_кот')
    expect((await store.get()).folders.map((e) => e.path).slice(0, 2)).toEqual([
      '/data/20_кот',
      '/data/24_кот',
    ])
    expect((await store.get()).folders.filter((e) => e.path === '/data/20_кот')).toHaveLength(1)
    await store.remove('folder', '/data/20_кот')
    expect((await store.get()).folders.some((e) => e.path === '/data/20_кот')).toBe(false)
    await store.add('config', '/c/a.toml')
    await store.clear('folder')
    expect(await store.get()).toMatchObject({ folders: [], configs: [{ path: '/c/a.toml' }] })
    await store.clear()
    expect(await store.get()).toEqual({ configs: [], folders: [] })
  })

  it('treats a damaged file as empty lists and writes a good one on the next change', async () => {
    const dir = scratch('desktop-recent-bad-')
    const store = new RecentStore(dir)
    writeFileSync(store.file, '{"configs": [{"path": ')
    expect(await store.get()).toEqual({ configs: [], folders: [] })
    await store.add('config', '/c/b.json')
    expect(JSON.parse(readFileSync(store.file, 'utf8'))).toMatchObject({ configs: [{ path: '/c/b.json' }] })
  })

  it('compares Windows paths without case or trailing separator', () => {
    expect(samePath('D:\\Data\\10_cat\\', 'd:/data/10_cat', 'win32')).toBe(true)
    expect(samePath('/data/Cat', '/data/cat', 'linux')).toBe(false)
    expect(samePath('/data//cat', '/data/cat', 'linux')).toBe(true)
  })

  it('is the File menu of the CLI too (recent list/add/clear, files open)', async () => {
    const dir = scratch('desktop-recent-cli-')
    const data = path.join(dir, 'data')
    const folder = path.join(dir, 'images')
    mkdirSync(folder)
    const opened = await runCliCaptured(['files', 'open', folder, path.join(dir, 'nothing.toml')], data)
    expect(opened.code).toBe(0)
    expect(opened.stdout).toContain(`image folder    ${folder}`)
    expect(opened.stdout).toContain('does not exist')
    const added = await runCliCaptured(['recent', 'add', path.join(dir, 'c.toml'), '--kind', 'config'], data)
    expect(added.code).toBe(0)
    const listed = await runCliCaptured(['recent', 'list', '--json'], data)
    expect(JSON.parse(listed.stdout)).toMatchObject({
      configs: [{ path: path.join(dir, 'c.toml') }],
      folders: [{ path: folder }],
    })
    const wrongKind = await runCliCaptured(['recent', 'add', 'x', '--kind', 'model'], data)
    expect(wrongKind.code).not.toBe(0)
    expect(wrongKind.stderr).toContain('--kind is config or folder')
    const nothing = await runCliCaptured(['files', 'open', path.join(dir, 'missing')], data)
    expect(nothing.code).toBe(1)
    expect((await runCliCaptured(['recent', 'clear'], data)).stdout).toContain('(none)')
  })
})

describe('runs seen from the desktop', () => {
  it('app.work lists a training run until it ends; the status feed reports its steps and its end', async () => {
    const dir = scratch('desktop-work-')
    const shell = recordingShell()
    const s = services(path.join(dir, 'data'), 'electron', shell)
    const statuses: DesktopStatus[] = []
    const ended: RunEnded[] = []
    const feed = new StatusFeed(
      s,
      (st) => statuses.push(st),
      (e) => ended.push(e),
    )
    await feed.start()
    expect(await call(s, 'app.work', {})).toEqual({ runs: [], queued: 0, installs: [], tools: 0 })

    const out = path.join(dir, 'выход out')
    const started = await call<{ id: string }>(s, 'run.start', {
      command: [
        'python3',
        trainerScript,
        '--steps',
        '40',
        '--epochs',
        '2',
        '--delay',
        '0.05',
        '--output_dir',
        out,
      ],
      cwd: dir,
      name: 'кот',
    })
    for (let i = 0; i < 200 && !statuses.some((st) => (st.active[0]?.step ?? 0) > 2); i++)
      await new Promise((r) => setTimeout(r, 50))
    const work = await call<{ runs: Array<{ id: string; name: string }> }>(s, 'app.work', {})
    expect(work.runs).toEqual([expect.objectContaining({ id: started.id, name: 'кот' })])
    const training = statuses.find((st) => (st.active[0]?.step ?? 0) > 2)
    expect(training?.active[0]).toMatchObject({ id: started.id, total: 40 })
    expect(training?.active[0]?.fraction).toBeGreaterThan(0)

    await s.runs.service.waitFor(started.id)
    for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(ended.map((e) => [e.kind, e.run.id])).toEqual([['finished', started.id]])
    expect(feed.status.active).toEqual([])
    expect(await call(s, 'app.work', {})).toMatchObject({ runs: [] })

    // Where its results are, and the desktop shell showing them.
    const where = await call<{ folder: string; file: string; file_exists: boolean; folder_exists: boolean }>(
      s,
      'run.output_location',
      { id: started.id },
    )
    expect(where).toMatchObject({ folder: out, folder_exists: true, file_exists: true })
    expect(path.dirname(where.file)).toBe(out)
    expect(existsSync(where.file)).toBe(true)
    expect(await call(s, 'run.reveal_output', { id: started.id })).toEqual({ revealed: where.file })
    expect(await call(s, 'run.open_output', { id: started.id })).toEqual({ opened: out })
    expect(shell.calls).toEqual([`show ${where.file}`, `open ${out}`])
    feed.dispose()

    // In a browser the files are on the server: the answer names the path instead.
    const headless = services(path.join(dir, 'data'), 'headless')
    const r = await headless.router.call('run.reveal_output', { id: started.id }, ctx)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.message).toContain(where.file)
  })

  it('a failed run is reported as failed, and stays in the status until acknowledged', async () => {
    const dir = scratch('desktop-fail-')
    const s = services(path.join(dir, 'data'), 'electron', recordingShell('No application is registered'))
    const ended: RunEnded[] = []
    const feed = new StatusFeed(
      s,
      () => undefined,
      (e) => ended.push(e),
    )
    await feed.start()
    const started = await call<{ id: string }>(s, 'run.start', {
      command: [
        'python3',
        trainerScript,
        '--steps',
        '5',
        '--delay',
        '0',
        '--end',
        'crash',
        '--output_dir',
        dir,
      ],
      cwd: dir,
      name: 'crash',
    })
    await s.runs.service.waitFor(started.id)
    for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(ended.map((e) => e.kind)).toEqual(['failed'])
    expect(feed.status.failed).toEqual({ id: started.id, name: 'crash' })
    feed.acknowledge()
    expect(feed.status.failed).toBeNull()
    // The shell could not open the folder: the error says so and what to do.
    const open = await s.router.call('run.open_output', { id: started.id }, ctx)
    expect(open.ok).toBe(false)
    if (!open.ok) expect(open.error.message).toMatch(/No application is registered.*Open it by hand/)
    feed.dispose()
  })
})
