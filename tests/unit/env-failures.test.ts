import { describe, expect, it } from 'vitest'
import { diagnose, diagnoseError } from '../../core/env/failures'

const title = "Install sd-scripts' requirements"

describe('diagnose: what a failed step tells the user', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    [
      'pip: no such package',
      'ERROR: Could not find a version that satisfies the requirement nope-pkg==1.0 (from versions: none)\r\nERROR: No matching distribution found for nope-pkg==1.0\r\n',
      'bad_package',
      /No matching distribution found for nope-pkg==1\.0.*package index/s,
    ],
    [
      'uv: no such package',
      '  × No solution found when resolving dependencies:\n  ╰─▶ Because nope-pkg was not found in the package registry and you require nope-pkg==1.0, we can conclude that your requirements are unsatisfiable.\n',
      'bad_package',
      /nope-pkg was not found in the package registry/,
    ],
    [
      'pip: network down',
      "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError(': Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')'",
      'network',
      /Temporary failure in name resolution.*mirror/s,
    ],
    [
      'uv: network',
      'error: Failed to fetch: `https://pypi.org/simple/toml/`\n  Caused by: error sending request',
      'network',
      /error sending request.*connection/s,
    ],
    [
      'disk full',
      'ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device',
      'disk_full',
      /disk is full/,
    ],
    [
      'read-only',
      'error: failed to create directory `/x/venv/lib`: Read-only file system (os error 30)',
      'read_only',
      /writable/,
    ],
    [
      'git tag missing',
      'warning: Could not find remote branch v9.9.9 to clone.\nfatal: Remote branch v9.9.9 not found in upstream origin',
      'tag_missing',
      /no such version tag/,
    ],
  ]
  for (const [name, log, kind, message] of cases) {
    it(name, () => {
      const d = diagnose(title, 1, log)
      expect(d.kind).toBe(kind)
      expect(d.message).toMatch(message)
      expect(d.message.startsWith(`${title} failed:`)).toBe(true)
    })
  }

  it('an unreachable index is a network failure, even though the resolver then reports packages missing', () => {
    const log =
      '  × No solution found when resolving: `setuptools>=40.8.0`\n  ├─▶ Request failed after 3 retries\n  ├─▶ Failed to fetch: `http://127.0.0.1:9/simple/setuptools/`\n  ╰─▶ Connection refused (os error 111)\n'
    expect(diagnose(title, 1, log).kind).toBe('network')
  })

  it('a Python import error is not a network, disk or permission failure (error codes are whole words)', () => {
    const log =
      'Traceback (most recent call last):\n  File "prefill_tokenizers.py", line 36, in main\n' +
      "ModuleNotFoundError: No module named 'torch.utils'\n" +
      'transformers does not import in this environment, so the tokenizers cannot be saved. Run Verify, then Repair.\n'
    const d = diagnose('Pre-fill the SDXL tokenizer cache', 1, log)
    expect(d.kind).toBe('command')
    expect(d.message).toMatch(/exited with code 1.*ModuleNotFoundError.*Run Verify, then Repair\./s)
    // The codes themselves still count.
    expect(diagnose(title, 1, 'getaddrinfo ENOTFOUND pypi.org').kind).toBe('network')
    expect(diagnose(title, 1, "EPERM: operation not permitted, open 'x'").kind).toBe('read_only')
    expect(diagnose(title, 1, 'ENOSPC: write failed').kind).toBe('disk_full')
  })

  it('reads messages the tool wrapped at the terminal width', () => {
    const log =
      '  cause: failed to copy file from /cache/lycoris/modules/lokr.py\r\n         to /env/venv/lib/python3.11/site-packages/lycoris/modules/.tmpBqRmsr: No\r\n         space left on device (os error 28)\r\n'
    const d = diagnose(title, 2, log)
    expect(d.kind).toBe('disk_full')
    expect(d.message).toMatch(/No space left on device/)
  })

  it('unknown failures quote the last lines without terminal codes', () => {
    const log =
      'line 1\n\x1b[31mTraceback (most recent call last):\x1b[0m\r\n  File "x.py"\r\nValueError: boom\r\n'
    const d = diagnose(title, 2, log)
    expect(d.kind).toBe('command')
    expect(d.message).toMatch(/exited with code 2/)
    expect(d.message).toContain('ValueError: boom')
    expect(d.message).not.toContain('\x1b')
  })

  it('Node file errors', () => {
    const e = Object.assign(new Error("EACCES: permission denied, mkdir '/ro/hf_home/accelerate'"), {
      code: 'EACCES',
    })
    expect(diagnoseError("Write accelerate's default config", e).kind).toBe('read_only')
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    expect(diagnoseError('Copy', full).kind).toBe('disk_full')
  })

  it('a uv message wrapped over several lines is quoted whole, never cut mid-sentence', () => {
    // What uv printed for torch==2.6.0+cpu on a PyPI-style index (wrapped at the pty's 120 columns).
    const log =
      '  × No solution found when resolving dependencies:\r\n' +
      '  ╰─▶ Because torch==2.6.0+cpu was not found in the package registry and you\r\n' +
      '      require torch==2.6.0+cpu, we can conclude that your requirements are\r\n' +
      '      unsatisfiable.\r\n'
    const d = diagnose('Install torch 2.6.0 and torchvision 0.21.0 (cpu)', 1, log, 'torch')
    expect(d.kind).toBe('bad_package')
    expect(d.message).toContain(
      'Because torch==2.6.0+cpu was not found in the package registry and you require torch==2.6.0+cpu, we can conclude that your requirements are unsatisfiable.',
    )
  })

  it("an index without setuptools or wheel says to add them, in uv's and pip's words; other missing packages do not", () => {
    const step = "Install sd-scripts' requirements (and its library package)"
    for (const log of [
      // uv 0.13.9 building `-e .` against a wheel folder made an index (tests/integration/env-offline-install.test.ts)
      'error: Failed to resolve requirements from `setup.py` build\n  cause: No solution found when resolving: `setuptools>=40.8.0`\n  cause: Because setuptools was not found in the package registry and you require setuptools>=40.8.0, we can conclude\n         that your requirements are unsatisfiable.\n',
      // pip in its isolated build environment
      'ERROR: Could not find a version that satisfies the requirement setuptools>=40.8.0 (from versions: none)\nERROR: No matching distribution found for setuptools>=40.8.0\n',
      'ERROR: Could not find a version that satisfies the requirement wheel (from versions: none)\nERROR: No matching distribution found for wheel\n',
    ]) {
      const d = diagnose(step, 1, log, 'requirements')
      expect(d.kind).toBe('bad_package')
      expect(d.code).toBe('fail_build_tools_missing')
      expect(d.message).toMatch(/(setuptools|wheel)/)
      expect(d.message).toContain('Add setuptools and wheel to the index')
    }
    for (const log of [
      'ERROR: No matching distribution found for setuptools-scm-git-archive==9.9\n',
      'ERROR: No matching distribution found for wheelhouse-helper==1.0\n',
      '  ╰─▶ Because toml==9.9 was not found in the package registry and you require toml==9.9, we can conclude that your requirements are unsatisfiable.\n',
    ])
      expect(diagnose(step, 1, log, 'requirements').code, log).toBe('fail_bad_package')
  })

  it('the torch step names the torch index option (not --index-url) and what a PyPI index gives', () => {
    for (const log of [
      'error: Failed to fetch: `https://download.pytorch.org/whl/cu124/torch/`\n  Caused by: error sending request',
      '  × No solution found when resolving dependencies:\n  ╰─▶ Because torch==2.6.0+cu124 was not found in the package registry and you require torch==2.6.0+cu124, we can conclude that your requirements are unsatisfiable.\n',
    ]) {
      const d = diagnose('Install torch', 1, log, 'torch')
      expect(d.message).toMatch(/--torch-index-url/)
      expect(d.message).toMatch(/PyPI-style index.*Windows torch CPU-only/s)
      expect(d.message).not.toMatch(/--index-url,|set a mirror: --index-url/)
    }
    // Other steps keep the PyPI mirror advice.
    expect(diagnose(title, 1, 'getaddrinfo ENOTFOUND pypi.org', 'requirements').message).toMatch(
      /--index-url/,
    )
  })

  it('a source that is wrong is not "resumed": the advice is to choose another source and install again', () => {
    for (const log of [
      'fatal: Remote branch v0.10.1 not found in upstream origin',
      "fatal: repository '/nowhere/sd-scripts' does not exist",
    ]) {
      const d = diagnose('Fetch sd-scripts v0.10.1 with git', 128, log, 'source')
      expect(d.message).not.toMatch(/press Resume/)
      expect(d.message).toMatch(/Resume would fetch the same source again.*--source.*Install again/s)
    }
    // A network failure of the source step can still be resumed.
    expect(
      diagnose(
        'Fetch',
        128,
        "fatal: unable to access 'https://github.com/x/': Could not resolve host",
        'source',
      ).message,
    ).toMatch(/press Resume/)
  })
})
