import { isGitUrl } from './plan'

/** The env settings a user can type in; the names match EnvSettings / Mirrors. */
export type EnvSettingField = 'source' | 'pypiIndex' | 'torchIndex' | 'hfEndpoint'

const LABELS: Record<Exclude<EnvSettingField, 'source'>, string> = {
  pypiIndex: 'PyPI index',
  torchIndex: 'torch index',
  hfEndpoint: 'Hugging Face endpoint',
}

/**
 * Why a mirror value cannot be used, or null when it can. pip, uv and huggingface_hub only accept
 * http(s) addresses here, so anything else would fail much later, in the middle of an install.
 */
export function mirrorUrlProblem(field: Exclude<EnvSettingField, 'source'>, value: string): string | null {
  const label = LABELS[field]
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    return `The ${label} is not a web address: "${value}". Enter a full URL such as https://mirror.example.com/simple, or leave it empty to use the default.`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `The ${label} must start with http:// or https://, not "${url.protocol}": "${value}". Enter a web address, or leave it empty to use the default.`
  }
  return null
}

/** Whether the sd-scripts source needs checking on disk (a local folder) rather than being a git URL. */
export function sourceIsFolder(value: string): boolean {
  return !isGitUrl(value.trim())
}

export function sourceFolderProblem(value: string, state: 'missing' | 'not-a-folder'): string {
  return state === 'missing'
    ? `The sd-scripts source is neither a git URL nor an existing folder: "${value}". Enter a git URL (https://…/sd-scripts.git) or the path of a local sd-scripts checkout.`
    : `The sd-scripts source is a file, not a folder: "${value}". Choose the sd-scripts folder itself, or enter a git URL.`
}
