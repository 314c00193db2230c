export type EnvOs = 'linux' | 'win32'

/** Joins path parts with the target OS's separator (the plan is pure and may describe another OS). */
export function joinPath(os: EnvOs, ...parts: string[]): string {
  const sep = os === 'win32' ? '\\' : '/'
  const cleaned = parts
    .filter((p) => p !== '')
    .map((p, i) => {
      let s = os === 'win32' ? p.replace(/\//g, '\\') : p
      if (i > 0) s = s.replace(/^[\\/]+/, '')
      if (i < parts.length - 1) s = s.replace(/[\\/]+$/, '')
      return s
    })
  return cleaned.join(sep)
}

/** Where everything lives inside one environment folder. */
export function envLayout(os: EnvOs, envDir: string) {
  const j = (...p: string[]) => joinPath(os, envDir, ...p)
  const venvDir = j('venv')
  const bootstrapDir = j('.bootstrap')
  const bin = (dir: string, exe: string) =>
    os === 'win32' ? joinPath(os, dir, 'Scripts', `${exe}.exe`) : joinPath(os, dir, 'bin', exe)
  const hfHome = j('hf_home')
  return {
    envDir,
    srcDir: j('sd-scripts'),
    venvDir,
    venvPython: bin(venvDir, 'python'),
    bootstrapDir,
    bootstrapPython: bin(bootstrapDir, 'python'),
    bootstrapUv: bin(bootstrapDir, 'uv'),
    downloadsDir: j('downloads'),
    constraintsFile: j('constraints.txt'),
    /** torch: none: what uv must leave out of every install (--excludes). */
    torchExcludesFile: j('torch-excluded.txt'),
    hfHome,
    accelerateConfig: joinPath(os, hfHome, 'accelerate', 'default_config.yaml'),
    tokenizerCacheDir: j('tokenizers'),
    probeFile: j('probe.json'),
    stateFile: j('install-state.json'),
    logsDir: j('logs'),
  }
}
export type EnvLayout = ReturnType<typeof envLayout>
