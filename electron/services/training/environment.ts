import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import type { TrainEnvironment } from '../../../core/api/domains/training'
import { ApiError } from '../../../core/api/errors'
import { envLayout } from '../../../core/env/layout'
import { envText } from '../../../core/env/messages'
import type { EnvManager } from '../env/manager'
import { checkReady } from '../env/readiness'

export const NO_ENVIRONMENT =
  'No sd-scripts environment is set up. Open Environment and click Install, or use an existing install.'

/** The folders sd-scripts looks for under --tokenizer_cache_dir (hub id with "/" → "_"). */
export const TOKENIZER_FOLDERS = ['openai_clip-vit-large-patch14', 'laion_CLIP-ViT-bigG-14-laion2B-39B-b160k']

export interface ResolvedEnvironment extends TrainEnvironment {
  /** `<venv>/bin/accelerate` (Scripts\accelerate.exe) when present, else null (then python -m). */
  accelerate: string | null
  /** Installed packages from the install's last probe (managed installs), for the package rules. */
  packages: string[] | undefined
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

export function tokenizersCached(dir: string): boolean {
  return TOKENIZER_FOLDERS.every((f) => existsSync(path.join(dir, f, 'tokenizer_config.json')))
}

/**
 * The active environment as a run needs it. Throws ApiError('domain', …) with a fix when there is none,
 * when its Python or sd-scripts folder has gone, or when it is not installed and verified (checkReady);
 * it does not run the (slow) probe: the last verify's outcome is kept with the environment.
 */
export async function resolveTrainingEnvironment(
  manager: EnvManager,
  options: { requireReady?: boolean } = {},
): Promise<ResolvedEnvironment> {
  const registry = await manager.registry()
  const rec = registry.environments.find((e) => e.name === registry.active)
  if (!rec) throw new ApiError('domain', NO_ENVIRONMENT, { kind: 'no_environment' })
  const broken = (reason: ReturnType<typeof envText>) =>
    new ApiError('domain', reason.message, { kind: 'environment_broken', environment: rec.name, reason })
  if (!existsSync(rec.venvPython)) {
    throw broken(
      envText(rec.kind === 'managed' ? 'ready_python_missing' : 'ready_python_missing_external', {
        env: rec.name,
        python: rec.venvPython,
      }),
    )
  }
  if (!isDir(rec.srcDir)) {
    // An existing install is never repaired: it is registered again where it is now.
    const code = rec.kind === 'managed' ? 'ready_source_missing' : 'ready_source_missing_external'
    throw broken(envText(code, { env: rec.name, dir: rec.srcDir }))
  }
  if (options.requireReady !== false) await checkReady(rec)
  const os = process.platform === 'win32' ? 'win32' : 'linux'
  const layout = envLayout(os, rec.envDir)
  // A managed install owns its cache folder (sd-scripts fills it on the first online run if the
  // install could not); an existing install gets one only if it has the folder already.
  const cacheDir = rec.kind === 'managed' || isDir(layout.tokenizerCacheDir) ? layout.tokenizerCacheDir : null
  const binDir = path.dirname(rec.venvPython)
  const accelerate = path.join(binDir, os === 'win32' ? 'accelerate.exe' : 'accelerate')
  return {
    name: rec.name,
    kind: rec.kind,
    sd_scripts_dir: rec.srcDir,
    python: rec.venvPython,
    tokenizer_cache_dir: cacheDir,
    offline: cacheDir !== null && tokenizersCached(cacheDir),
    // Managed installs keep Hugging Face files (accelerate config, caches) inside the environment.
    hf_home: rec.kind === 'managed' ? layout.hfHome : null,
    accelerate: existsSync(accelerate) ? accelerate : null,
    packages: manager.packagesOf(rec),
  }
}
