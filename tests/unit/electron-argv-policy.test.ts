import { describe, expect, it } from 'vitest'
import { fileUrlToPath, filesFromArgv, MAX_LAUNCH_FILES } from '../../electron/main/argv-policy'

describe('files on a launch command line', () => {
  it('packaged app: paths after the binary, switches skipped, relative paths resolved where the launch ran', () => {
    const argv = [
      '/opt/SDXL Studio/sdxl-studio',
      '--no-sandbox',
      '--original-process-start-time=13385',
      'config.toml',
      '../data/10_кот',
      '/abs/model.safetensors',
      'config.toml',
      '',
    ]
    expect(filesFromArgv(argv, '/home/me/projects', { defaultApp: false, platform: 'linux' })).toEqual([
      '/home/me/projects/config.toml',
      '/home/me/data/10_кот',
      '/abs/model.safetensors',
    ])
  })

  it('development (electron . file): the app path is not a file', () => {
    expect(
      filesFromArgv(['electron', '--inspect=0', '.', 'a.json'], '/repo', {
        defaultApp: true,
        platform: 'linux',
      }),
    ).toEqual(['/repo/a.json'])
    expect(filesFromArgv(['electron', '.'], '/repo', { defaultApp: true, platform: 'linux' })).toEqual([])
  })

  it('Windows: "Open with" paths, drive-relative and UNC paths', () => {
    const argv = [
      'C:\\Program Files\\SDXL Studio\\SDXL Studio.exe',
      'D:\\Мои данные\\lora.json',
      'cfg\\a.toml',
      '\\\\nas\\share\\x.toml',
    ]
    expect(filesFromArgv(argv, 'C:\\Users\\me', { defaultApp: false, platform: 'win32' })).toEqual([
      'D:\\Мои данные\\lora.json',
      'C:\\Users\\me\\cfg\\a.toml',
      '\\\\nas\\share\\x.toml',
    ])
  })

  it('file:// URLs from a Linux launcher (%U), other URLs ignored', () => {
    const argv = [
      '/usr/bin/sdxl-studio',
      'file:///home/me/my%20lora/config.toml',
      'https://example.com/x.toml',
      'file://otherhost/x',
    ]
    expect(filesFromArgv(argv, '/', { defaultApp: false, platform: 'linux' })).toEqual([
      '/home/me/my lora/config.toml',
    ])
    expect(fileUrlToPath('file:///C:/d%C3%A9j%C3%A0/a.json', 'win32')).toBe('C:\\déjà\\a.json')
    expect(fileUrlToPath('file://server/share/a.json', 'win32')).toBe('\\\\server\\share\\a.json')
    expect(fileUrlToPath('file:///bad%ZZ', 'linux')).toBeNull()
    expect(fileUrlToPath('not a url', 'linux')).toBeNull()
  })

  it('stops at a sane number of files', () => {
    const argv = ['bin', ...Array.from({ length: 500 }, (_, i) => `f${i}.json`)]
    expect(filesFromArgv(argv, '/w', { defaultApp: false, platform: 'linux' })).toHaveLength(MAX_LAUNCH_FILES)
  })
})
