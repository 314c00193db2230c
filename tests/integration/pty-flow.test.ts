import * as pty from 'node-pty'
import { describe, expect, it } from 'vitest'
import { PtyFlow } from '../../electron/services/pty-flow'

const python = process.platform === 'win32' ? 'python' : 'python3'

describe('PtyFlow', () => {
  it('keeps what a process wrote before exiting while flow control had its pty paused', async () => {
    // 3,000 bytes fit in the kernel's pty buffer, so the process exits while nothing reads them; node-pty
    // drops a paused socket 200 ms after the exit unless it is read again.
    const term = pty.spawn(python, ['-c', "import sys; sys.stdout.write('y' * 3000); sys.stdout.flush()"], {
      cols: 80,
      rows: 24,
    })
    const flow = new PtyFlow(term)
    flow.pause()
    let received = ''
    term.onData((d) => (received += d))
    await new Promise<void>((resolve) =>
      term.onExit(() => {
        flow.dispose()
        resolve()
      }),
    )
    expect(received.replace(/\r?\n/g, '').length).toBe(3000)
  })

  it('pauses and resumes the pty, and stops watching once the process is gone', async () => {
    const calls: string[] = []
    let alive = true
    const flow = new PtyFlow(
      { pid: 1, pause: () => calls.push('pause'), resume: () => calls.push('resume') },
      () => alive,
      10,
    )
    flow.pause()
    flow.pause()
    flow.resume()
    flow.pause()
    alive = false
    await new Promise((r) => setTimeout(r, 50))
    flow.pause() // the process is gone: nothing to hold back any more
    expect(calls).toEqual(['pause', 'resume', 'pause', 'resume'])
  })
})
