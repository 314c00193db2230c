import { describe, expect, it } from 'vitest'
import {
  envValue,
  executableNames,
  pathCandidates,
  pathDirs,
  pathExts,
} from '../../core/platform/path-lookup'

describe('PATH lookup: Windows rules as pure functions', () => {
  it('reads "Path" (the name Windows uses) case-insensitively, but only on Windows', () => {
    const env = { Path: 'C:\\Windows\\system32;C:\\Program Files\\Git\\cmd' }
    expect(envValue(env, 'PATH', 'win32')).toBe(env.Path)
    expect(envValue(env, 'PATH', 'linux')).toBeUndefined()
    // An exact match wins over another spelling.
    expect(envValue({ PATH: 'a', Path: 'b' }, 'PATH', 'win32')).toBe('a')
    expect(envValue({ pAtH: 'x' }, 'PATH', 'win32')).toBe('x')
  })

  it('splits Path on ";" with quoted and empty entries, PATH on ":" on Linux', () => {
    expect(
      pathDirs(
        {
          Path: 'C:\\Windows;;"C:\\Program Files\\NVIDIA Corporation\\NVSMI"; C:\\Tools ;C:\\Users\\Иван\\bin',
        },
        'win32',
      ),
    ).toEqual([
      'C:\\Windows',
      'C:\\Program Files\\NVIDIA Corporation\\NVSMI',
      'C:\\Tools',
      'C:\\Users\\Иван\\bin',
    ])
    expect(pathDirs({ PATH: '/usr/bin::/opt/my tools/bin:' }, 'linux')).toEqual([
      '/usr/bin',
      '/opt/my tools/bin',
    ])
    expect(pathDirs({}, 'linux')).toEqual([])
    expect(pathDirs({ PATH: '' }, 'win32')).toEqual([])
  })

  it('PATHEXT: lower-cased, its order kept, junk entries dropped, a default when unset or useless', () => {
    expect(pathExts({ PATHEXT: '.COM;.EXE;.BAT;.CMD;.VBS;.PY' }, 'win32')).toEqual([
      '.com',
      '.exe',
      '.bat',
      '.cmd',
      '.vbs',
      '.py',
    ])
    expect(pathExts({ PathExt: '.EXE' }, 'win32')).toEqual(['.exe'])
    expect(pathExts({}, 'win32')).toEqual(['.com', '.exe', '.bat', '.cmd'])
    expect(pathExts({ PATHEXT: ';;exe;..;' }, 'win32')).toEqual(['.com', '.exe', '.bat', '.cmd'])
    expect(pathExts({ PATHEXT: '.EXE' }, 'linux')).toEqual([''])
  })

  it('names: PATHEXT variants; a name that already has one is tried as it is first', () => {
    const env = { PATHEXT: '.COM;.EXE;.CMD' }
    expect(executableNames('git', env, 'win32')).toEqual(['git.com', 'git.exe', 'git.cmd'])
    expect(executableNames('nvidia-smi.exe', env, 'win32')).toEqual([
      'nvidia-smi.exe',
      'nvidia-smi.exe.com',
      'nvidia-smi.exe.exe',
      'nvidia-smi.exe.cmd',
    ])
    expect(executableNames('NVIDIA-SMI.EXE', env, 'win32')[0]).toBe('NVIDIA-SMI.EXE')
    expect(executableNames('python3.11', env, 'win32')).toEqual([
      'python3.11.com',
      'python3.11.exe',
      'python3.11.cmd',
    ])
    expect(executableNames('uv', env, 'linux')).toEqual(['uv'])
  })

  it('candidates: every folder in order, each with every name; paths are never looked up', () => {
    const env = { Path: 'C:\\a\\;D:\\b', PATHEXT: '.EXE;.CMD' }
    expect(pathCandidates('uv', env, 'win32')).toEqual([
      'C:\\a\\uv.exe',
      'C:\\a\\uv.cmd',
      'D:\\b\\uv.exe',
      'D:\\b\\uv.cmd',
    ])
    expect(pathCandidates('.\\uv', env, 'win32')).toEqual([])
    expect(pathCandidates('C:/x/uv', env, 'win32')).toEqual([])
    expect(pathCandidates('', env, 'win32')).toEqual([])
    expect(pathCandidates('uv', { PATH: '/usr/local/bin:/' }, 'linux')).toEqual(['/usr/local/bin/uv', '/uv'])
    expect(pathCandidates('./uv', { PATH: '/bin' }, 'linux')).toEqual([])
    // A backslash is an ordinary character in a Linux file name.
    expect(pathCandidates('a\\b', { PATH: '/bin' }, 'linux')).toEqual(['/bin/a\\b'])
    // Windows accepts forward slashes; a folder written with them keeps them.
    expect(pathCandidates('uv', { Path: 'C:/tools/', PATHEXT: '.EXE' }, 'win32')).toEqual(['C:/tools/uv.exe'])
  })
})
