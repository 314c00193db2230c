import { describe, expect, it } from 'vitest'
import { loadPty, PtyUnavailableError, spawnPty } from '../../electron/services/pty'

describe('node-pty, loaded on first use', () => {
  it('a module that fails to load becomes one clear error naming the cause and the fix', () => {
    const broken = () => {
      throw new Error(
        '/opt/SDXL Studio/resources/app.asar.unpacked/node_modules/node-pty/build/Release/pty.node: invalid ELF header\n    at Module._extensions',
      )
    }
    let caught: unknown
    try {
      loadPty(broken)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(PtyUnavailableError)
    const message = (caught as Error).message
    expect(message).toContain('node-pty')
    expect(message).toContain('invalid ELF header')
    expect(message).toContain('Reinstall SDXL Studio')
    expect(message).not.toContain('Module._extensions')
  })

  it('a module without spawn() is refused the same way', () => {
    expect(() => loadPty(() => ({}))).toThrow(PtyUnavailableError)
    expect(() => loadPty(() => null)).toThrow(PtyUnavailableError)
  })

  it('the real module loads and runs a command in a terminal', async () => {
    expect(typeof loadPty().spawn).toBe('function')
    const term = spawnPty(
      process.execPath,
      ['-e', 'process.stdout.write("pty-ok " + process.stdout.isTTY)'],
      {
        cols: 80,
        rows: 24,
        cwd: process.cwd(),
        env: { PATH: process.env.PATH ?? '' },
      },
    )
    let out = ''
    term.onData((d) => (out += d))
    const code = await new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)))
    expect(code).toBe(0)
    expect(out).toContain('pty-ok true')
  })
})
