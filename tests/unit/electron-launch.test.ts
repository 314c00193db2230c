import { describe, expect, it } from 'vitest'
import { launchRequest, nodeEnv, userArgs } from '../../electron/main/launch'

describe('launchRequest: window, CLI or headless from the desktop binary', () => {
  it('opens the window with no arguments, Chromium switches, or a stray word', () => {
    expect(launchRequest([])).toEqual({ kind: 'window' })
    expect(launchRequest(['--no-sandbox'])).toEqual({ kind: 'window' })
    expect(launchRequest(['--inspect=0', '--remote-debugging-port=0'])).toEqual({ kind: 'window' })
    expect(launchRequest(['/home/me/model.safetensors'])).toEqual({ kind: 'window' })
    expect(launchRequest(['client'])).toEqual({ kind: 'window' })
  })

  it('`cli <command…>` passes everything after `cli` to the CLI, switches before it aside', () => {
    expect(launchRequest(['cli', 'env', 'list', '--json'])).toEqual({
      kind: 'node',
      cliArgs: ['env', 'list', '--json'],
    })
    expect(launchRequest(['--no-sandbox', 'cli', '--version'])).toEqual({
      kind: 'node',
      cliArgs: ['--version'],
    })
    expect(launchRequest(['cli'])).toEqual({ kind: 'node', cliArgs: [] })
    // A --serve after `cli` belongs to the CLI command line.
    expect(launchRequest(['cli', 'gpu', 'list', '--serve'])).toEqual({
      kind: 'node',
      cliArgs: ['gpu', 'list', '--serve'],
    })
    // Cyrillic and spaces travel untouched.
    expect(launchRequest(['cli', 'preset', 'export', 'C:\\Пользователи\\Иван\\мой пресет.json'])).toEqual({
      kind: 'node',
      cliArgs: ['preset', 'export', 'C:\\Пользователи\\Иван\\мой пресет.json'],
    })
  })

  it('`--serve [--port N] [--host H]` runs the serve command with the options that follow', () => {
    expect(launchRequest(['--serve'])).toEqual({ kind: 'node', cliArgs: ['serve'] })
    expect(launchRequest(['--serve', '--port', '8000', '--host', '0.0.0.0'])).toEqual({
      kind: 'node',
      cliArgs: ['serve', '--port', '8000', '--host', '0.0.0.0'],
    })
    expect(launchRequest(['--no-sandbox', '--serve', '--port=0', '--json'])).toEqual({
      kind: 'node',
      cliArgs: ['serve', '--port=0', '--json'],
    })
    // Bad values are the serve command's to refuse (with its usage error), not the launcher's.
    expect(launchRequest(['--serve', '--port', '-1'])).toEqual({
      kind: 'node',
      cliArgs: ['serve', '--port', '-1'],
    })
  })
})

describe('userArgs', () => {
  it('drops the binary, and the app path when Electron runs an unpackaged app', () => {
    expect(userArgs(['/opt/SDXL Studio/sdxl-studio', 'cli', 'gpu', 'list'], false)).toEqual([
      'cli',
      'gpu',
      'list',
    ])
    expect(userArgs(['/x/electron', '.', 'cli', 'gpu', 'list'], true)).toEqual(['cli', 'gpu', 'list'])
    expect(userArgs(['/x/electron'], true)).toEqual([])
    // Switches before the app path stay; the app path goes.
    expect(userArgs(['/x/electron', '--no-sandbox', '/src/app', 'cli', '--version'], true)).toEqual([
      '--no-sandbox',
      'cli',
      '--version',
    ])
    expect(
      launchRequest(userArgs(['/x/electron', '--no-sandbox', '/src/app', 'cli', '--version'], true)),
    ).toEqual({
      kind: 'node',
      cliArgs: ['--version'],
    })
  })
})

describe('nodeEnv', () => {
  it('sets ELECTRON_RUN_AS_NODE and keeps the rest, without changing the input', () => {
    const env = { PATH: '/usr/bin', SDXL_STUDIO_DATA_DIR: '/data' }
    expect(nodeEnv(env)).toEqual({ ...env, ELECTRON_RUN_AS_NODE: '1' })
    expect(env).not.toHaveProperty('ELECTRON_RUN_AS_NODE')
  })
})
