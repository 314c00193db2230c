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

  it('Windows path characters: refuses cmd metacharacters, warns on spaces and non-ASCII', () => {
    const bang = evaluatePrechecks(facts({ os: 'win32', envDir: 'C:\\AI!\\env' }), version)
    expect(bang.ok).toBe(false)
    expect(bang.problems[0]!.message).toContain('"!"')
    for (const ch of ['%', '^', '&', ';']) {
      expect(evaluatePrechecks(facts({ os: 'win32', envDir: `C:\\a${ch}b\\env` }), version).ok).toBe(false)
    }
    const spaces = evaluatePrechecks(facts({ os: 'win32', envDir: 'C:\\SDXL Studio\\env' }), version)
    expect(spaces.ok).toBe(true)
    expect(ids(spaces)).toEqual(['path_chars:warning'])
    const cyr = evaluatePrechecks(facts({ os: 'win32', envDir: 'C:\\Users\\Иван\\env' }), version)
    expect(cyr.ok).toBe(true)
    expect(cyr.problems[0]!.message).toMatch(/non-English/)
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
    const none = evaluatePrechecks(facts({ pythonVersions: [] }), version)
    expect(none.ok).toBe(false)
    expect(evaluatePrechecks(facts({ pythonVersions: [], uvAvailable: true }), version).ok).toBe(true)
  })
})
