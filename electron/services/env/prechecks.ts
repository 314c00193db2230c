import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { EnvOs } from '../../../core/env/layout'
import { evaluatePrechecks, type PrecheckFacts, type PrecheckReport } from '../../../core/env/prechecks'
import type { SdScriptsVersion } from '../../../core/env/versions'
import { execShort } from './detect'

/** The folder itself if it exists, else its nearest existing parent. */
export async function nearestExisting(p: string): Promise<string> {
  let cur = path.resolve(p)
  for (;;) {
    try {
      await fs.stat(cur)
      return cur
    } catch {
      const parent = path.dirname(cur)
      if (parent === cur) return cur
      cur = parent
    }
  }
}

export async function freeBytes(p: string): Promise<number | null> {
  try {
    const st = await fs.statfs(await nearestExisting(p))
    return st.bavail * st.bsize
  } catch {
    return null
  }
}

/** Creates and removes a scratch folder where the environment will go; returns the error text or null. */
export async function writeError(p: string): Promise<string | null> {
  const base = await nearestExisting(p)
  try {
    const dir = await fs.mkdtemp(path.join(base, '.sdxl-studio-write-test-'))
    await fs.writeFile(path.join(dir, 'probe'), 'ok')
    await fs.rm(dir, { recursive: true, force: true })
    return null
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    return e.code ? `${e.code}: ${base} is not writable` : String(error)
  }
}

/** /proc/mounts escapes spaces and tabs as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
}

/** The file system type under p: /proc/mounts on Linux, .NET DriveInfo through PowerShell on Windows (best effort). */
export async function fsType(p: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const existing = await fs.realpath(await nearestExisting(p)).catch(() => path.resolve(p))
  if (process.platform === 'linux') {
    try {
      const mounts = await fs.readFile('/proc/mounts', 'utf8')
      let best: { mount: string; type: string } | null = null
      for (const line of mounts.split('\n')) {
        const [, mountRaw, type] = line.split(' ')
        if (!mountRaw || !type) continue
        const mount = unescapeMount(mountRaw)
        const inside = mount === '/' || existing === mount || existing.startsWith(`${mount}/`)
        if (inside && (!best || mount.length >= best.mount.length)) best = { mount, type }
      }
      return best?.type ?? null
    } catch {
      return null
    }
  }
  if (process.platform === 'win32') {
    const root = path.parse(existing).root.replace(/'/g, "''")
    const r = await execShort(
      'powershell.exe',
      ['-NoProfile', '-NonInteractive', '-Command', `[System.IO.DriveInfo]::new('${root}').DriveFormat`],
      { env, timeoutMs: 15_000 },
    )
    const out = r.stdout.trim()
    return r.code === 0 && /^[\w-]+$/.test(out) ? out : null
  }
  return null
}

export function oneDriveRoots(env: NodeJS.ProcessEnv): string[] {
  return [env.OneDrive, env.OneDriveConsumer, env.OneDriveCommercial].filter((v): v is string => !!v)
}

export interface PrecheckContext {
  envDir: string
  neededBytes: number
  gitAvailable: boolean
  sourceIsUrl: boolean
  pythonVersions: string[]
  uvAvailable: boolean
  installer: 'uv' | 'pip'
  env: NodeJS.ProcessEnv
}

export async function gatherPrecheckFacts(ctx: PrecheckContext): Promise<PrecheckFacts> {
  const [free, werr, type] = await Promise.all([
    freeBytes(ctx.envDir),
    writeError(ctx.envDir),
    fsType(ctx.envDir, ctx.env),
  ])
  return {
    os: (process.platform === 'win32' ? 'win32' : 'linux') satisfies EnvOs,
    envDir: ctx.envDir,
    neededBytes: ctx.neededBytes,
    freeBytes: free,
    writeError: werr,
    fsType: type,
    oneDriveRoots: oneDriveRoots(ctx.env),
    gitAvailable: ctx.gitAvailable,
    sourceIsUrl: ctx.sourceIsUrl,
    pythonVersions: ctx.pythonVersions,
    uvAvailable: ctx.uvAvailable,
    installer: ctx.installer,
  }
}

export async function runPrechecks(ctx: PrecheckContext, version: SdScriptsVersion): Promise<PrecheckReport> {
  return evaluatePrechecks(await gatherPrecheckFacts(ctx), version)
}
