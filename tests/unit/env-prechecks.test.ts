import { describe, expect, it } from 'vitest'
import { evaluatePrechecks, type PrecheckFacts } from '../../core/env/prechecks'
import { findVersion } from '../../core/env/versions'

const version = findVersion('v0.10.1')!
const GiB = 1024 ** 3

function facts(over: Partial<PrecheckFacts> = {}): PrecheckFacts {
  return {
    os: 'linux',
    envDir: '/home/u/.local/share/sdxl-studio/envs/default',
    neededBytes: 9 * GiB,
    freeBytes: 200 * GiB,
    writeError: null,
    fsType: 'ext4',
    oneDriveRoots: [],
    gitAvailable: true,
    sourceIsUrl: true,
    pythonVersions: ['3.11.9'],
    uvAvailable: false,
    installer: 'uv',
    ...over,
  }
}

const ids = (r: ReturnType<typeof evaluatePrechecks>) => r.problems.map((p) => `${p.id}:${p.severity}`)

describe('evaluatePrechecks', () => {
  it('a good folder passes with no problems', () => {
    expect(evaluatePrechecks(facts(), version)).toEqual({ ok: true, problems: [] })
  })

  it('disk: refuses below the need, warns when tight', () => {
    const low = evaluatePrechecks(facts({ freeBytes: 4 * GiB }), version)
    expect(low.ok).toBe(false)
    expect(low.problems[0]!.message).toMatch(/4 GB free.*9 GB needed.*another drive/s)
    expect(low.problems[0]).toMatchObject({ code: 'pre_disk_short', params: { free: 4, need: 9 } })
    expect(ids(evaluatePrechecks(facts({ freeBytes: 10 * GiB }), version))).toEqual(['disk:warning'])
  })

  it('not writable', () => {
    const r = evaluatePrechecks(facts({ writeError: 'EACCES: /opt is not writable' }), version)
    expect(r.ok).toBe(false)
    expect(r.problems[0]!.message).toMatch(/Cannot write.*EACCES.*permissions/)
  })

  for (const type of ['vfat', 'exfat', 'FAT32', 'exFAT']) {
    it(`refuses ${type}`, () => {
      const r = evaluatePrechecks(facts({ fsType: type }), version)
      expect(ids(r)).toEqual(['filesystem:error'])
      expect(r.problems[0]!.message).toContain('4 GB')
    })
  }
  it('accepts NTFS and ntfs-3g (fuseblk)', () => {
    expect(evaluatePrechecks(facts({ fsType: 'fuseblk' }), version).ok).toBe(true)
    expect(
      evaluatePrechecks(facts({ os: 'win32', envDir: 'D:\\SDXL\\envs\\a', fsType: 'NTFS' }), version).ok,
    ).toBe(true)
  })

  it('OneDrive: by environment variable (case-insensitive on Windows) and by folder name', () => {
    const byVar = evaluatePrechecks(
      facts({
        os: 'win32',
        envDir: 'c:\\users\\u\\onedrive - contoso\\ai\\env',
        oneDriveRoots: ['C:\\Users\\u\\OneDrive - Contoso'],
      }),
      version,
    )
    expect(byVar.ok).toBe(false)
    expect(byVar.problems.find((p) => p.id === 'cloud')!.message).toMatch(
      /outside OneDrive.*C:\\SDXL-Studio/s,
    )
    const byName = evaluatePrechecks(facts({ os: 'win32', envDir: 'E:\\OneDrive\\env' }), version)
    expect(ids(byName)).toContain('cloud:error')
    // A folder merely starting with the same letters is not inside it.
    const near = evaluatePrechecks(
      facts({
        os: 'win32',
        envDir: 'C:\\Users\\u\\OneDriveBackup\\env',
        oneDriveRoots: ['C:\\Users\\u\\OneDrive'],
      }),
      version,
    )
    expect(ids(near)).not.toContain('cloud:error')
  })

  it('Windows path characters: refuses cmd metacharacters, warns on non-ASCII; spaces inside names are fine', () => {
    const bang = evaluatePrechecks(facts({ os: 'win32', envDir: 'C:\\AI!\\env' }), version)
    expect(bang.ok).toBe(false)
    expect(bang.problems[0]!.message).toContain('"!"')
    for (const ch of ['%', '^', '&', ';']) {
      expect(evaluatePrechecks(facts({ os: 'win32', envDir: `C:\\a${ch}b\\env` }), version).ok).toBe(false)
    }
    const spaces = evaluatePrechecks(facts({ os: 'win32', envDir: 'C:\\SDXL Studio\\env' }), version)
    expect(spaces.ok).toBe(true)
    expect(ids(spaces)).toEqual([])
    const cyr = evaluatePrechecks(facts({ os: 'win32', envDir: 'C:\\Users\\Иван\\env' }), version)
    expect(cyr.ok).toBe(true)
    expect(cyr.problems[0]!.message).toMatch(/non-English/)
  })

  it('the default data folder (%LOCALAPPDATA%\\SDXL Studio) trips no warning of ours', () => {
    for (const envDir of [
      'C:\\Users\\john\\AppData\\Local\\SDXL Studio\\envs\\default',
      'C:/Users/john/AppData/Local/SDXL Studio/envs/default',
      '\\\\server\\home share\\john\\SDXL Studio\\envs\\default',
      'D:\\My Programs\\SDXL Studio\\envs\\my env',
    ]) {
      const r = evaluatePrechecks(facts({ os: 'win32', envDir }), version)
      expect(r.problems, envDir).toEqual([])
    }
  })

  it('Windows: a name that starts or ends with a space, ends with a dot, or is a device name is refused', () => {
    for (const [envDir, bad] of [
      ['C:\\Users\\john\\ SDXL\\env', ' SDXL'],
      ['C:\\Users\\john\\SDXL \\env', 'SDXL '],
      ['C:\\AI\\envs.\\default', 'envs.'],
      ['C:\\AI\\con\\default', 'con'],
      ['C:\\AI\\NUL.txt\\default', 'NUL.txt'],
      ['D:/data/lpt1/env', 'lpt1'],
    ] as const) {
      const r = evaluatePrechecks(facts({ os: 'win32', envDir }), version)
      expect(r.ok, envDir).toBe(false)
      expect(r.problems.find((p) => p.id === 'path_chars')!.message).toContain(`"${bad}"`)
    }
    // The same names are fine on Linux, and a drive root or "." segments are not names.
    expect(evaluatePrechecks(facts({ envDir: '/data/con/ x /env.' }), version).ok).toBe(true)
    expect(evaluatePrechecks(facts({ os: 'win32', envDir: 'C:\\.\\AI\\..\\env' }), version).ok).toBe(true)
  })

  it('folder: a folder holding files that are not ours is refused, naming the folder and the files', () => {
    const foreign = evaluatePrechecks(
      facts({ folder: { kind: 'foreign', entries: ['holiday.jpg', 'notes.txt'], otherEnv: null } }),
      version,
    )
    expect(foreign.ok).toBe(false)
    const msg = foreign.problems.find((p) => p.id === 'folder')!.message
    expect(msg).toContain('/home/u/.local/share/sdxl-studio/envs/default')
    expect(msg).toContain('"holiday.jpg", "notes.txt"')
    expect(msg).toMatch(/Choose a new or empty folder\.$/)
    // An existing install there: say how to use it instead.
    const kohya = evaluatePrechecks(
      facts({ folder: { kind: 'foreign', entries: ['sd-scripts', 'venv'], otherEnv: null } }),
      version,
    )
    expect(kohya.problems[0]!.message).toMatch(/Use existing.*env use-existing/)
    const many = evaluatePrechecks(
      facts({
        folder: { kind: 'foreign', entries: Array.from({ length: 40 }, (_, i) => `f${i}`), otherEnv: null },
      }),
      version,
    )
    expect(many.problems[0]!.message).toContain('and 28 more')
    expect(
      evaluatePrechecks(facts({ folder: { kind: 'not_a_folder', entries: [], otherEnv: null } }), version).ok,
    ).toBe(false)
    const other = evaluatePrechecks(
      facts({ folder: { kind: 'ours', entries: [], otherEnv: 'main' } }),
      version,
    )
    expect(other.problems[0]!.message).toMatch(/holds the environment "main"/)
    for (const kind of ['absent', 'empty', 'ours'] as const) {
      expect(evaluatePrechecks(facts({ folder: { kind, entries: [], otherEnv: null } }), version).ok).toBe(
        true,
      )
    }
  })

  it('Linux: refuses ":" (PATH separator); long Windows paths warn', () => {
    expect(evaluatePrechecks(facts({ envDir: '/data/a:b/env' }), version).ok).toBe(false)
    const long = evaluatePrechecks(facts({ os: 'win32', envDir: `C:\\${'x'.repeat(120)}` }), version)
    expect(ids(long)).toEqual(['path_length:warning'])
  })

  it('git missing: a warning that says what happens instead', () => {
    const url = evaluatePrechecks(facts({ gitAvailable: false }), version)
    expect(url.ok).toBe(true)
    expect(url.problems[0]!.message).toMatch(/archive will be downloaded/)
    const folder = evaluatePrechecks(facts({ gitAvailable: false, sourceIsUrl: false }), version)
    expect(folder.problems[0]!.message).toMatch(/copied as it is/)
  })

  it('Python: too new is fine with uv (info), an error with pip', () => {
    const uv = evaluatePrechecks(facts({ pythonVersions: ['3.12.3', '3.9.18'] }), version)
    expect(ids(uv)).toEqual(['python:info'])
    const pip = evaluatePrechecks(facts({ pythonVersions: ['3.12.3'], installer: 'pip' }), version)
    expect(pip.ok).toBe(false)
    expect(pip.problems[0]!.message).toMatch(/3\.12\.3.*3\.10–3\.11.*untested/s)
    // Nothing on the machine: uv comes from the PyPI index, then installs Python.
    const none = evaluatePrechecks(facts({ pythonVersions: [], uvAvailable: false }), version)
    expect(none.ok).toBe(true)
    expect(none.problems[0]!.message).toMatch(
      /No Python found; uv \(downloaded from the PyPI index first\) will download Python 3\.11/,
    )
    expect(evaluatePrechecks(facts({ pythonVersions: [], installer: 'pip' }), version).ok).toBe(false)
  })
})
