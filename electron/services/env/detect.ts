import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { findExecutable } from '../which'

/** Finds an executable on PATH (with PATHEXT on Windows); null when absent. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  return findExecutable(name, env)
}

export interface ExecResult {
  code: number | null
  stdout: string
  stderr: string
  error?: string
}

/** Runs a short command without a shell; never throws. */
export function execShort(
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        env: options.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 15_000,
        windowsHide: true,
        maxBuffer: 8 << 20,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr),
          ...(error ? { error: error.message } : {}),
        })
      },
    )
  })
}

export interface PythonCandidate {
  path: string
  version: string
}

/**
 * Prints the version and sys.executable as UTF-8 bytes whatever the console code page or
 * PYTHONIOENCODING says: on Windows a pipe gets the ANSI code page, which garbles (or cannot
 * encode) C:\\Users\\Иван\\…; UTF-8 mode (-X utf8, PYTHONUTF8=1) covers the rest of the run.
 */
const VERSION_SCRIPT =
  "import sys;sys.stdout.buffer.write(('%d.%d.%d\\n%s\\n' % (tuple(sys.version_info[:3]) + (sys.executable,)))" +
  ".encode('utf-8', 'surrogateescape'));sys.stdout.flush()"

/** Asks one interpreter for its version; null when it does not run (pyenv shims for absent versions, Store stubs). */
export async function pythonVersion(exe: string, env: NodeJS.ProcessEnv): Promise<PythonCandidate | null> {
  const r = await execShort(exe, ['-X', 'utf8', '-c', VERSION_SCRIPT], {
    env: { ...env, PYTHONUTF8: '1', PYTHONIOENCODING: 'utf-8' },
    timeoutMs: 10_000,
  })
  if (r.code !== 0) return null
  const [version, executable] = r.stdout.trim().split(/\r?\n/)
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) return null
  return { path: executable?.trim() || exe, version }
}

async function globDirs(parent: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await fs.readdir(parent)).filter((n) => pattern.test(n)).map((n) => path.join(parent, n))
  } catch {
    return []
  }
}

/**
 * Pythons installed on this machine: PATH, the Windows `py` launcher, the usual Windows install
 * folders, pyenv, and SDXL_STUDIO_PYTHON. Each is run once (in UTF-8 mode) to read its real version.
 */
export async function findPythons(env: NodeJS.ProcessEnv): Promise<PythonCandidate[]> {
  const names = new Set<string>()
  if (env.SDXL_STUDIO_PYTHON) names.add(env.SDXL_STUDIO_PYTHON)
  for (const n of ['python3.11', 'python3.10', 'python3', 'python']) {
    const found = await findOnPath(n, env)
    if (found) names.add(found)
  }
  const home = env.HOME ?? env.USERPROFILE ?? os.homedir()
  if (process.platform === 'win32') {
    const py = await findOnPath('py', env)
    if (py) {
      const r = await execShort(py, ['-0p'], { env })
      for (const line of r.stdout.split(/\r?\n/)) {
        const m = /([A-Za-z]:\\.*python\.exe)\s*$/i.exec(line)
        if (m?.[1]) names.add(m[1])
      }
    }
    const roots = [
      path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'Programs', 'Python'),
      env.ProgramFiles ?? 'C:\\Program Files',
      'C:\\',
    ]
    for (const root of roots) {
      for (const dir of await globDirs(root, /^Python3\d+$/i)) names.add(path.join(dir, 'python.exe'))
    }
  } else {
    // /usr/bin and /usr/local/bin are on every session's PATH, where python3.10/3.11 were looked up above.
    for (const dir of await globDirs(
      path.join(env.PYENV_ROOT ?? path.join(home, '.pyenv'), 'versions'),
      /^3\.\d+/,
    )) {
      names.add(path.join(dir, 'bin', 'python3'))
    }
  }
  const existing: string[] = []
  for (const n of names) {
    try {
      await fs.access(n)
      existing.push(n)
    } catch {
      // not installed
    }
  }
  const results = await Promise.all(existing.map((exe) => pythonVersion(exe, env)))
  const seen = new Set<string>()
  const out: PythonCandidate[] = []
  for (const r of results) {
    if (!r || seen.has(r.path)) continue
    seen.add(r.path)
    out.push(r)
  }
  return out
}
