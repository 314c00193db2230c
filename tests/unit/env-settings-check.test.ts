import { describe, expect, it } from 'vitest'
import {
  acceptsFolder,
  MIRROR_FIELDS,
  mirrorFolderPath,
  mirrorUrlProblem,
  sourceFolderMessage,
  sourceIsFolder,
} from '../../core/env/settings-check'

describe('env settings checks', () => {
  it('accepts http and https mirrors, with or without surrounding spaces', () => {
    expect(mirrorUrlProblem('pypiIndex', 'https://mirror.example.com/simple', 'linux')).toBeNull()
    expect(mirrorUrlProblem('torchIndex', ' http://10.0.0.5:8080/whl ', 'linux')).toBeNull()
  })

  it('names the field and the value when a mirror is not a web address', () => {
    expect(mirrorUrlProblem('hfEndpoint', 'hf-mirror', 'linux')).toMatchObject({
      code: 'mirror_not_url',
      params: { field: 'hfEndpoint', value: 'hf-mirror' },
      message: expect.stringMatching(/^The Hugging Face endpoint is not a web address: "hf-mirror"/),
    })
    expect(mirrorUrlProblem('pypiIndex', 'ftp://mirror.example.com/simple', 'linux')).toMatchObject({
      code: 'mirror_scheme_folder',
      params: { field: 'pypiIndex', scheme: 'ftp:' },
      message: expect.stringMatching(
        /PyPI index must start with http:\/\/, https:\/\/ or file:\/\/, not "ftp:"/,
      ),
    })
    expect(mirrorUrlProblem('proxy', 'ftp://proxy.example.com:21', 'linux')).toMatchObject({
      code: 'mirror_scheme',
      message: expect.stringMatching(/proxy must start with http:\/\/ or https:\/\/, not "ftp:"/),
    })
  })

  it('quotes a very long value shortened, so the message under the field stays readable', () => {
    const p = mirrorUrlProblem('proxy', 'x'.repeat(10_000), 'linux')!
    expect(p.params.value).toBe(`${'x'.repeat(200)}…`)
    expect(p.message.length).toBeLessThan(400)
  })

  it('treats git URLs as URLs and everything else as a folder to check on disk', () => {
    expect(sourceIsFolder('https://github.com/kohya-ss/sd-scripts.git')).toBe(false)
    expect(sourceIsFolder('git@github.com:kohya-ss/sd-scripts.git')).toBe(false)
    expect(sourceIsFolder('/home/me/sd-scripts')).toBe(true)
    expect(sourceIsFolder('D:\\sd-scripts')).toBe(true)
    expect(sourceFolderMessage('/x', 'missing').message).toContain(
      'neither a git URL nor an existing folder: "/x"',
    )
    expect(sourceFolderMessage('/x/a.txt', 'not-a-folder').message).toContain('is a file, not a folder')
  })
})

describe('mirror and proxy values a user may type', () => {
  it('hostile values are refused with the field named; real addresses (IDN too) pass', () => {
    for (const field of MIRROR_FIELDS) {
      for (const v of [
        '0',
        '-1',
        '1.5',
        '1e-4',
        'text',
        '',
        ' ',
        'зеркало',
        `https://m/${'\n'}x`,
        'ftp://m/x',
      ]) {
        const p = mirrorUrlProblem(field, v, 'linux')
        expect(p, `${field} ${JSON.stringify(v)}`).not.toBeNull()
        expect(p!.params.field).toBe(field)
      }
      expect(mirrorUrlProblem(field, 'https://зеркало.рф/simple', 'linux')).toBeNull()
      expect(mirrorUrlProblem(field, `https://m.example/${'a'.repeat(5000)}`, 'linux')).toBeNull()
    }
  })

  it('file:// is a package index or Python mirror folder; the Hugging Face endpoint and the proxy stay web addresses', () => {
    expect(MIRROR_FIELDS.filter(acceptsFolder)).toEqual(['pypiIndex', 'torchIndex', 'pythonMirror'])
    for (const field of ['pypiIndex', 'torchIndex', 'pythonMirror'] as const) {
      for (const v of [
        'file:///srv/wheels/simple',
        'file:/srv/wheels/simple',
        'file://localhost/srv/wheels/simple',
        'file:///srv/%D0%BA%D0%BE%D0%BB%D1%91%D1%81%D0%B0/simple',
        'file:///srv/колёса/simple',
        'file:///srv/my%20wheels/simple/',
      ]) {
        expect(mirrorUrlProblem(field, v, 'linux'), v).toBeNull()
      }
      expect(mirrorUrlProblem(field, 'FILE:///srv/wheels/simple', 'linux')).toBeNull()
      // Raw spaces are refused as in any address: the message says to write %20.
      expect(mirrorUrlProblem(field, 'file:///srv/my wheels/simple', 'linux')?.code).toBe('mirror_space')
    }
    for (const field of ['hfEndpoint', 'proxy'] as const) {
      expect(mirrorUrlProblem(field, 'file:///srv/hf', 'linux')).toMatchObject({
        code: 'mirror_scheme',
        params: { scheme: 'file:' },
      })
    }
    // pip and our own downloads cannot use a SOCKS proxy (pip has no PySocks), so it is refused now.
    expect(mirrorUrlProblem('proxy', 'socks5://127.0.0.1:1080', 'linux')?.code).toBe('mirror_scheme')
    expect(mirrorUrlProblem('proxy', 'socks5h://u:pw@127.0.0.1:1080', 'linux')?.message).not.toContain('pw')
  })

  it('a folder path typed without file:// gets the address to write instead', () => {
    expect(mirrorUrlProblem('pypiIndex', '/srv/my wheels/simple', 'linux')).toMatchObject({
      code: 'mirror_path_not_url',
      params: { suggested: 'file:///srv/my%20wheels/simple' },
    })
    expect(mirrorUrlProblem('torchIndex', 'C:\\Users\\Иван\\wheels', 'win32')).toMatchObject({
      code: 'mirror_path_not_url',
      params: { suggested: 'file:///C:/Users/Иван/wheels' },
    })
    expect(mirrorUrlProblem('pythonMirror', '\\\\nas\\python', 'win32')).toMatchObject({
      code: 'mirror_path_not_url',
      params: { suggested: 'file://nas/python' },
    })
    // Where a folder is no use, a path is just not an address.
    expect(mirrorUrlProblem('proxy', '/srv/proxy', 'linux')?.code).toBe('mirror_not_url')
  })

  it('the folder a file:// address names, per system of the machine that runs the installs', () => {
    const at = (v: string, os: 'linux' | 'win32') => mirrorFolderPath('pypiIndex', v, os)
    expect(at('file:///srv/wheels/simple', 'linux')).toEqual({ path: '/srv/wheels/simple' })
    expect(at('file:///srv/%D0%BA%D0%BE%D0%BB%D1%91%D1%81%D0%B0', 'linux')).toEqual({ path: '/srv/колёса' })
    expect(at('file:///C:/wheels/simple', 'win32')).toEqual({ path: 'C:\\wheels\\simple' })
    expect(at('file://C:/wheels/simple', 'win32')).toEqual({ path: 'C:\\wheels\\simple' })
    expect(at('file://nas/share/wheels', 'win32')).toEqual({ path: '\\\\nas\\share\\wheels' })
    // A Windows path on the Linux GPU box: refused, saying where the folder must be.
    const windowsOnLinux = mirrorUrlProblem('pypiIndex', 'file:///C:/wheels/simple', 'linux')!
    expect(windowsOnLinux.code).toBe('mirror_file_windows_path')
    expect(windowsOnLinux.message).toMatch(/installs run on Linux.*GPU server/)
    expect(mirrorUrlProblem('pypiIndex', 'file://nas/wheels', 'linux')).toMatchObject({
      code: 'mirror_file_host',
      params: { host: 'nas' },
    })
    // file://wheels/simple: "wheels" is read as a computer's name, not a relative folder.
    expect(mirrorUrlProblem('pypiIndex', 'file://wheels/simple', 'linux')?.code).toBe('mirror_file_host')
    expect(mirrorUrlProblem('pypiIndex', 'file:///srv/wheels', 'win32')?.code).toBe('mirror_file_no_drive')
    expect(mirrorUrlProblem('pypiIndex', 'file:///srv/a%2Fb', 'linux')?.code).toBe('mirror_file_bad_path')
    expect(mirrorUrlProblem('pypiIndex', 'file:///srv/a%00b', 'linux')?.code).toBe('mirror_file_bad_path')
    expect(mirrorUrlProblem('pypiIndex', 'file:///srv/%E0%A4%A', 'linux')?.code).toBe('mirror_file_bad_path')
  })
})
