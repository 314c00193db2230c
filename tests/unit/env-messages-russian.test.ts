import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { diagnose } from '../../core/env/failures'
import { ENV_FIELD_LABELS, ENV_MESSAGES, type EnvMessage } from '../../core/env/messages'
import { existingTorchCommand, plan, type InstallPlan, type PlanInput } from '../../core/env/plan'
import { evaluateProbe, type ProbeContext, type ProbeReport } from '../../core/env/probe'
import type { EnvRecord } from '../../core/env/registry'
import { initialState, type FailureKind, type InstallState } from '../../core/env/state'
import {
  acceptsFolder,
  maskedPasswordProblem,
  MIRROR_FIELDS,
  mirrorFolderMessage,
  mirrorUrlProblem,
  sourceFolderMessage,
  sourceSyntaxProblem,
} from '../../core/env/settings-check'
import { parseSource } from '../../core/env/source'
import { layoutByName } from '../../core/env/torch-source'
import { findVersion } from '../../core/env/versions'
import { notReadyReason } from '../../electron/services/env/readiness'
import { writeJsonAtomic } from '../../electron/services/store/atomic'
import { expectEnvRussian, renderEnv } from '../helpers/env-russian'
import { planInput, RTX_4090_CUDA_124 } from '../helpers/env-plan-input'

/*
 * The environment's messages a Russian user meets (Verify's torch problems and the hint for torch
 * "none", step-specific install failure advice, the torch index's kind and its refusals, why an
 * environment cannot train) come out of core coded, and read in Russian with no English words left:
 * each is produced by the code that makes it, then shown the way the Environment page shows it.
 */

const render = renderEnv
const expectRussian = expectEnvRussian

const RTX_4090 = RTX_4090_CUDA_124
/** uv on PATH: torch "none" needs it. */
const input = (overrides: Parameters<typeof planInput>[0] = {}) =>
  planInput({ uvOnPath: '/usr/bin/uv', ...overrides })

function planned(i: PlanInput): InstallPlan {
  const r = plan(i)
  if (!r.ok) throw new Error(r.error.message)
  return r.plan
}

/** A probe report of an environment whose torch and torchvision are as given. */
function report(torch: Partial<NonNullable<ProbeReport['torch']>> | null, packages: ProbeReport['packages']) {
  const r: ProbeReport = {
    schema: 1,
    light: false,
    python: { version: '3.11.7', executable: '/e/venv/bin/python', prefix: '/e/venv', in_venv: true },
    packages,
    requirements: { file: '/e/sd-scripts/requirements.txt', checked: 1, missing: [], mismatched: [] },
    sd_scripts: { path: '/e/sd-scripts', exists: true, tag: 'v0.10.1', commit: 'abc' },
    library: { importable: true, error: null, path: '/e/sd-scripts/library/__init__.py' },
    torch:
      torch === null
        ? null
        : {
            imported: true,
            error: null,
            version: '2.6.0+cu124',
            cuda_available: true,
            cuda_version: '12.4',
            torchvision_version: '0.21.0',
            torchvision_error: null,
            devices: [],
            ...torch,
          },
    training_scripts: [],
  }
  return r
}

describe('Verify: torch and torchvision problems, with the hint for torch "none"', () => {
  const torchNone = planned(input({ choices: { torch: 'none' } }))
  const userExpect = torchNone.steps.find((s) => s.id === 'verify')!.probe!
  const managed = { torch: true, cuda: true, trainingScripts: true }
  const ctx = (expect: ProbeContext['expect']): ProbeContext => ({
    expect,
    pythonRange: { min: '3.10', max: '3.11' },
    tag: 'v0.10.1',
    extras: [],
  })
  const cases: Array<[string, ProbeReport]> = [
    ['torch missing', report(null, {})],
    ['torch broken', report({ imported: false, error: 'OSError: libcudnn.so.9' }, { torch: '2.6.0' })],
    ['torchvision missing', report({ torchvision_version: null }, { torch: '2.6.0' })],
    [
      'torchvision broken',
      report(
        { torchvision_version: null, torchvision_error: 'RuntimeError: operator torchvision::nms' },
        { torch: '2.6.0', torchvision: '0.21.0' },
      ),
    ],
  ]

  it('the plan for torch "none" carries the install command beside its English hint', () => {
    expect(userExpect.torchFixCommand).toMatch(
      /uv pip install --python .*torch==2\.6\.0 torchvision==0\.21\.0/,
    )
    expect(userExpect.torchFix).toBe(
      `This environment leaves torch to you (torch: none). Install torch and torchvision into it, e.g. ${userExpect.torchFixCommand} (or the build your GPU needs), then press Resume (or Verify).`,
    )
  })

  for (const [name, r] of cases) {
    it(`${name}: Repair's words for an app-installed torch, the install command for torch "none"`, () => {
      const [repairable] = evaluateProbe(r, ctx(managed))
      expect(repairable!.repair).toEqual(['torch'])
      expectRussian(repairable!)
      const [user] = evaluateProbe(r, ctx(userExpect))
      expect(user!.repair).toEqual([])
      expect(user!.message).toContain(userExpect.torchFixCommand)
      const russian = expectRussian(user!)
      expect(russian).toContain(userExpect.torchFixCommand)
      expect(russian).toContain('«Продолжить»')
    })
  }

  it('a record written before the command was kept still names the fix (in English)', () => {
    const [p] = evaluateProbe(report(null, {}), ctx({ ...managed, torchFix: 'Install torch yourself.' }))
    expect(p).toMatchObject({ message: 'torch is not installed. Install torch yourself.', repair: [] })
    expect(p!.code).toBeUndefined()
  })

  it("sd-scripts' requirements that are missing or at other versions are named in Russian", () => {
    const req = (missing: string[], mismatched: Array<[string, string, string]>) => {
      const r = report({}, { torch: '2.6.0', torchvision: '0.21.0' })
      r.requirements = {
        ...r.requirements,
        missing,
        mismatched: mismatched.map(([name, installed, required]) => ({ name, installed, required })),
      }
      return evaluateProbe(r, ctx(managed))[0]!
    }
    const cases = [
      req(['voluptuous', 'toml'], []),
      req([], [['diffusers', '0.24.0', '0.25.0']]),
      req(['voluptuous'], [['diffusers', '0.24.0', '0.25.0']]),
    ]
    expect(cases.map((p) => p.code)).toEqual([
      'probe_requirements_missing',
      'probe_requirements_versions',
      'probe_requirements_both',
    ])
    expect(cases[2]!.message).toBe(
      "sd-scripts' requirements are not all installed: missing voluptuous; installed versions differ from sd-scripts' pins: diffusers 0.24.0 (sd-scripts: 0.25.0).",
    )
    for (const p of cases) expectRussian(p)
  })

  it('a replaced CPU build names the planned one without English words', () => {
    const [p] = evaluateProbe(report({ version: '2.6.0', cuda_version: '12.4' }, { torch: '2.6.0' }), {
      ...ctx(managed),
      torchBuild: { torch: '2.6.0', index: 'cpu', cuda: null },
    })
    expect(p!.params!.index).toBe('CPU')
    expectRussian(p!)
  })

  it('a failed verify step lists its problems, each translated, and names the step in Russian', () => {
    const problems = evaluateProbe(report(null, {}), ctx(userExpect))
    const items = problems.map(({ message, code, params }) => ({ message, code, params }))
    const failure = {
      message: `The environment does not verify:\n- ${items[0]!.message}\nPress Repair to fix it.`,
      code: 'fail_verify',
      params: {},
      parts: { problemLines: items },
    }
    const russian = expectRussian(failure)
    expect(russian.split('\n')[1]).toMatch(/^- torch не установлен\./)
  })
})

describe('install failures: advice for the step that failed', () => {
  const torchTitle = 'Install torch 2.6.0 and torchvision 0.21.0 (cu124)'
  const cases: Array<[string, string, number | null, string, string]> = [
    [
      'torch step, network',
      'torch',
      1,
      'error: Failed to fetch: `https://download.pytorch.org/whl/cu124/torch/`\n  Caused by: error sending request',
      'fail_torch_network',
    ],
    [
      'torch step, no such build',
      'torch',
      1,
      'ERROR: Could not find a version that satisfies the requirement torch==2.6.0+cu124\nERROR: No matching distribution found for torch==2.6.0+cu124',
      'fail_torch_bad_package',
    ],
    [
      'source step, missing tag',
      'source',
      128,
      'fatal: Remote branch v9.9.9 not found in upstream origin',
      'fail_source',
    ],
    [
      'requirements step, the index has no setuptools',
      'requirements',
      1,
      '  cause: Because setuptools was not found in the package registry and you require setuptools>=40.8.0',
      'fail_build_tools_missing',
    ],
    ['source step, command failed', 'source', 128, 'fatal: repository not found', 'fail_source_exit'],
    ['source step, stopped', 'source', null, 'Cloning into sd-scripts...', 'fail_source_stopped'],
  ]
  for (const [name, step, exit, log, code] of cases) {
    it(name, () => {
      const d = diagnose(torchTitle, exit, log, step as 'torch' | 'source' | 'requirements')
      expect(d.code).toBe(code)
      const russian = expectRussian(d, step)
      expect(russian).toMatch(/^Шаг «(Установить torch|Загрузить sd-scripts|Установить зависимости)/)
      if (step === 'torch') expect(russian).toContain('Настройки → Загрузки и зеркала')
    })
  }
})

describe('the torch index: its kind, what PyPI serves, and refusals', () => {
  /** A CPU environment from a PyPI-style mirror (named by its address). */
  const pypiCpu = input({
    gpu: null,
    choices: {
      torch: 'cpu',
      mirrors: { pypiIndex: null, torchIndex: 'https://mirror.example/simple', hfEndpoint: null },
    },
  })

  it('the torch choice gives its reasons coded, for the official index, a torch root and PyPI', () => {
    const official = planned(input()).torch!
    const mirror = planned(
      input({
        choices: { mirrors: { pypiIndex: null, torchIndex: 'https://m.example/whl', hfEndpoint: null } },
      }),
    ).torch!
    const pypi = planned(pypiCpu).torch!
    for (const t of [official, mirror, pypi]) {
      expect(t.whyParts, t.why).toBeDefined()
      const english = t.whyParts!.map((p) => render('en', { message: '', code: p.code, params: p.params }))
      expect(english.join('; ')).toBe(t.why)
      for (const p of t.whyParts!)
        expectRussian({ message: render('en', { message: '', ...p }), code: p.code, params: p.params })
    }
    expect(pypi.whyParts!.map((p) => p.code)).toEqual([
      'torch_why_cpu',
      'torch_index_name_pypi',
      'torch_pypi_cuda_on_cpu',
    ])
  })

  it('every way the index kind is found out reads in Russian', () => {
    for (const asked of [undefined, 'no_page', 'unasked'] as const)
      for (const url of ['https://pypi.example/simple', 'https://torch.example/whl']) {
        const f = layoutByName(url, asked)
        expectRussian({ message: f.why, code: f.code, params: f.params })
      }
  })

  it('a PyPI-style index that cannot serve the build is refused in words a Russian user reads', () => {
    const withPypi = (over: Parameters<typeof input>[0]) =>
      plan(
        input({
          ...over,
          torchIndex: layoutByName('https://pypi.org/simple'),
          choices: {
            ...over?.choices,
            mirrors: { pypiIndex: null, torchIndex: 'https://pypi.org/simple', hfEndpoint: null },
          },
        }),
      )
    const refusals = [
      withPypi({ os: 'win32', choices: { envDir: 'C:\\SDXL\\envs\\default' } }),
      withPypi({ gpu: { ...RTX_4090, driverCuda: '12.2', driverVersion: '535.183.01' } }),
    ]
    const codes = refusals.map((r) => (r.ok ? null : r.error.code))
    expect(codes).toEqual(['plan_torch_pypi_cpu_only', 'plan_torch_pypi_driver_too_old'])
    for (const r of refusals) if (!r.ok) expectRussian(r.error as EnvMessage)
  })

  it("a PyPI-served torch step's title names the build in Russian", () => {
    const p = planned(pypiCpu)
    const step = p.steps.find((s) => s.id === 'torch')!
    expectRussian({ message: step.title, code: step.titleCode, params: step.titleParams })
  })
})

describe('readiness: why an environment cannot train', () => {
  let root: string
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'env-ready-ru-'))
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  async function managed(name: string, state: InstallState | null, more: Partial<EnvRecord> = {}) {
    const envDir = path.join(root, name)
    mkdirSync(envDir, { recursive: true })
    if (state) await writeJsonAtomic(path.join(envDir, 'install-state.json'), state)
    const rec: EnvRecord = {
      name,
      kind: 'managed',
      envDir,
      srcDir: path.join(envDir, 'sd-scripts'),
      venvPython: path.join(envDir, 'venv', 'bin', 'python'),
      version: 'v0.10.1',
      choices: null,
      createdAt: 1,
      ...more,
    }
    return rec
  }

  it('each reason is coded and reads in Russian, with the failure or the problems inside it', async () => {
    const p = planned(input({ choices: { torch: 'none' } }))
    const problems = evaluateProbe(report(null, {}), {
      expect: p.steps.find((s) => s.id === 'verify')!.probe!,
      pythonRange: { min: '3.10', max: '3.11' },
      tag: 'v0.10.1',
      extras: [],
    })
    const items = problems.map(({ message, code, params }) => ({ message, code, params }))
    const failed = (step: 'torch' | 'verify', d: EnvMessage & { kind: FailureKind }) => {
      const s = initialState('x', p, 1)
      s.status = 'failed'
      s.lastError = { step, kind: d.kind, message: d.message, code: d.code, params: d.params, parts: d.parts }
      return s
    }
    const torchTitle = p.steps.find((s) => s.id === 'torch')!.title
    const network = diagnose(torchTitle, 1, 'error sending request', 'torch')
    const verify = {
      kind: 'verify' as const,
      message: `The environment does not verify:\n- ${items[0]!.message}\nPress Repair to fix it.`,
      code: 'fail_verify',
      params: {},
      parts: { problemLines: items },
    }
    const running = initialState('x', p, 1)
    const interrupted = failed('torch', network)
    interrupted.status = 'interrupted'
    const done = initialState('x', p, 1)
    done.status = 'done'
    const lastVerify = {
      ok: false,
      at: Date.now(),
      problems: problems.map((q) => ({ check: q.check, message: q.message, code: q.code, params: q.params })),
      packages: [],
    }
    const recs = [
      await managed('none', null),
      await managed('running', running),
      await managed('net', failed('torch', network)),
      await managed('verify', failed('verify', verify)),
      await managed('stopped', interrupted),
      await managed('broken', done, { lastVerify }),
      { ...(await managed('theirs', null)), kind: 'external' as const },
      { ...(await managed('theirs-broken', null)), kind: 'external' as const, lastVerify },
    ]
    const codes: string[] = []
    for (const rec of recs) {
      const reason = await notReadyReason(rec)
      expect(reason, rec.name).not.toBeNull()
      codes.push(reason!.code!)
      const russian = expectRussian(reason!)
      expect(russian).toContain(`«${rec.name}»`)
    }
    expect(codes).toEqual([
      'ready_not_installed',
      'ready_installing',
      'ready_failed',
      'ready_verify_failed',
      'ready_interrupted',
      'ready_broken',
      'ready_external_unverified',
      'ready_external_broken',
    ])
    // The failed verify names the torch the user installs; the network failure its first line only.
    const verifyReason = (await notReadyReason(recs[3]!))!
    expect(render('ru', verifyReason)).toContain('torch не установлен')
    expect(render('ru', (await notReadyReason(recs[2]!))!)).toMatch(
      /на шаге «Установить torch»: Шаг «Установить torch» не выполнен: error sending request\. Откройте/,
    )
  })
})

describe('settings refused before they are saved or used: the setting named in the UI language', () => {
  /** The Settings page's labels, as the Russian text names each setting. */
  const RUSSIAN_LABEL = {
    source: 'Источник sd-scripts',
    pypiIndex: 'Индекс PyPI',
    torchIndex: 'Индекс torch',
    hfEndpoint: 'Адрес Hugging Face',
    pythonMirror: 'Зеркало загрузки Python',
    proxy: 'Прокси',
  }

  it('every mirror field, every way an address is refused', () => {
    const seen = new Set<string>()
    for (const field of MIRROR_FIELDS) {
      const problems = [
        mirrorUrlProblem(field, 'not a url', 'linux'),
        mirrorUrlProblem(field, 'зеркало', 'linux'),
        mirrorUrlProblem(field, 'x'.repeat(10_000), 'linux'),
        mirrorUrlProblem(field, 'ftp://alice:s3cret@mirror.example/simple', 'linux'),
        mirrorUrlProblem(field, 'https://mirror.example/a b', 'linux'),
        maskedPasswordProblem(field, 'https://alice:****@other.example/simple'),
      ]
      const folder = acceptsFolder(field)
      expect(problems.map((p) => p?.code)).toEqual([
        'mirror_not_url',
        'mirror_not_url',
        'mirror_not_url',
        folder ? 'mirror_scheme_folder' : 'mirror_scheme',
        'mirror_space',
        'setting_password_masked',
      ])
      if (folder) {
        // A local wheel folder: each way its address or the folder itself is refused.
        const fileProblems = [
          mirrorUrlProblem(field, '/srv/колёса/simple', 'linux'),
          mirrorUrlProblem(field, 'file://nas/wheels/simple', 'linux'),
          mirrorUrlProblem(field, 'file:///C:/wheels/simple', 'linux'),
          mirrorUrlProblem(field, 'file:///srv/wheels/simple', 'win32'),
          mirrorUrlProblem(field, 'file:///srv/a%2Fb/simple', 'linux'),
          mirrorFolderMessage(field, 'file:///srv/колёса', '/srv/колёса', 'missing'),
          mirrorFolderMessage(field, 'file:///srv/index.html', '/srv/index.html', 'not-a-folder'),
          mirrorFolderMessage(field, 'file:///srv/wheels', '/srv/wheels', 'no-index'),
        ]
        expect(fileProblems.map((p) => p?.code)).toEqual([
          'mirror_path_not_url',
          'mirror_file_host',
          'mirror_file_windows_path',
          'mirror_file_no_drive',
          'mirror_file_bad_path',
          'mirror_folder_missing',
          'mirror_not_folder',
          'mirror_folder_flat',
        ])
        problems.push(...fileProblems)
      } else {
        // Where only a web address works, a folder path is simply not one.
        expect(mirrorUrlProblem(field, 'file:///srv/wheels', 'linux')?.code).toBe('mirror_scheme')
      }
      for (const p of problems) {
        seen.add(p!.code)
        // The setting by its id in the parameters; its English label in the CLI's text.
        expect(p!.params.field).toBe(field)
        expect(p!.message).toMatch(new RegExp(`^The ${ENV_FIELD_LABELS[field]} `))
        expect(JSON.stringify(p)).not.toContain('s3cret')
        const russian = expectRussian(p!)
        expect(russian).toContain(`«${RUSSIAN_LABEL[field]}»`)
      }
    }
    expect([...seen].sort()).toEqual(
      Object.keys(ENV_MESSAGES)
        .filter((c) => c.startsWith('mirror_') || c.startsWith('setting_'))
        .sort(),
    )
  })

  it('the English names each setting as the CLI user knows it', () => {
    expect(mirrorUrlProblem('hfEndpoint', 'hf-mirror', 'linux')!.message).toBe(
      'The Hugging Face endpoint is not a web address: "hf-mirror". Enter a full URL such as https://mirror.example.com/simple, or leave it empty to use the default.',
    )
    expect(maskedPasswordProblem('source', 'https://me:****@git.example/sd-scripts.git')!.message).toBe(
      'The sd-scripts source address was changed, so its stored password no longer applies. Type the password again in place of ****.',
    )
  })

  it('every source that is refused, typed in Settings or on the Environment page', () => {
    const refused = [
      '',
      'a\nb',
      '-x',
      'ext::sh -c id',
      'https://example.com/a b',
      'https://[oops/x',
      'ssh:///x',
      'ssh://-oProxyCommand=id/x',
    ].map((v) => sourceSyntaxProblem(v)!)
    // Settings trims what was typed; the plan sees the source as it was given.
    const untrimmed = parseSource(' https://example.com/x')
    if (untrimmed.kind !== 'invalid') throw new Error('not refused')
    const folder = [
      sourceFolderMessage('/no/such', 'missing'),
      sourceFolderMessage('/a/file.txt', 'not-a-folder'),
    ]
    const all = [...refused, untrimmed, ...folder]
    expect(all.map((p) => p.code).sort()).toEqual(
      [
        ...Object.keys(ENV_MESSAGES).filter((c) => c.startsWith('source_')),
        'plan_source_folder_missing',
        'plan_source_not_folder',
      ].sort(),
    )
    for (const p of all) expectRussian({ message: p.message, code: p.code, params: p.params })
  })
})

describe('existing installs: advice that never offers Repair, which does not apply to them', () => {
  const v = findVersion('v0.10.1')!
  const command = existingTorchCommand(v, '/home/me/kohya_ss/venv/bin/python', 'linux')
  const ctx = (existing: boolean): ProbeContext => ({
    // What Verify expects of an install it did not plan (manager.verify).
    expect: { torch: true, cuda: false, trainingScripts: true },
    pythonRange: { min: '3.10', max: '3.11' },
    tag: existing ? null : 'v0.10.1',
    extras: [],
    ...(existing ? { existing: { torchCommand: command } } : {}),
  })
  const torchless = { torch: '2.6.0', torchvision: '0.21.0' }
  const cases: Array<[string, ProbeReport, string]> = [
    ['torch missing', report(null, {}), 'probe_torch_missing'],
    [
      'torch broken',
      report({ imported: false, error: 'OSError: libcudnn.so.9' }, torchless),
      'probe_torch_import',
    ],
    [
      'torchvision missing',
      report({ torchvision_version: null }, { torch: '2.6.0' }),
      'probe_torchvision_missing',
    ],
    [
      'torchvision broken',
      report(
        { torchvision_version: null, torchvision_error: 'RuntimeError: operator torchvision::nms' },
        torchless,
      ),
      'probe_torchvision_import',
    ],
  ]

  it("the command installs sd-scripts' tested torch with the install's own Python", () => {
    expect(command).toBe(
      '/home/me/kohya_ss/venv/bin/python -m pip install torch==2.6.0 torchvision==0.21.0 --index-url https://download.pytorch.org/whl/cu124',
    )
    expect(existingTorchCommand(v, 'C:\\AI\\kohya ss\\venv\\Scripts\\python.exe', 'win32')).toMatch(
      // PowerShell, where Windows users paste it.
      /^& 'C:\\AI\\kohya ss\\venv\\Scripts\\python\.exe' -m pip install torch==2\.6\.0 /,
    )
  })

  for (const [name, r, code] of cases) {
    it(`${name}: Repair for a managed install, the command and Verify for an existing one`, () => {
      const [managed] = evaluateProbe(r, ctx(false))
      expect(managed).toMatchObject({ code, repair: ['torch'] })
      expect(managed!.message).toMatch(/Repair reinstalls it|does not import/)
      const [existing] = evaluateProbe(r, ctx(true))
      expect(existing).toMatchObject({ check: 'torch', code: `${code}_existing`, repair: [] })
      expect(existing!.message).not.toMatch(/Repair (reinstalls|recreates)|press Resume/)
      expect(existing!.message).toContain(`e.g. ${command} (or the build your GPU needs), then press Verify.`)
      const russian = expectRussian(existing!)
      expect(russian).toContain(command)
      expect(russian).toContain('«Проверить»')
      expect(russian).not.toContain('«Продолжить»')
    })
  }

  it('a Python sd-scripts cannot use: Repair recreates a managed venv; an existing one is recreated by hand', () => {
    const old = report({}, torchless)
    old.python.version = '3.8.10'
    const [managed] = evaluateProbe(old, ctx(false))
    expect(managed).toMatchObject({
      code: 'probe_python',
      repair: ['venv', 'torch', 'requirements', 'extras'],
    })
    const [existing] = evaluateProbe(old, ctx(true))
    expect(existing).toMatchObject({ code: 'probe_python_existing', repair: [] })
    expect(existing!.message).not.toMatch(/Repair recreates/)
    expectRussian(existing!)
  })

  it('no problem of an existing install names a step for Repair', () => {
    const bad = report({ imported: false, error: 'x' }, { torch: '2.6.0' })
    bad.python.in_venv = false
    bad.requirements.missing = ['toml']
    bad.library = { importable: false, error: 'ImportError', path: null }
    const problems = evaluateProbe(bad, ctx(true))
    expect(problems.length).toBeGreaterThan(3)
    for (const p of problems) expect(p.repair, p.message).toEqual([])
  })
})
