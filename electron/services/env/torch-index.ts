import { indexFacts, layoutByName, type TorchIndexFacts } from '../../../core/env/torch-source'
import { urlAnswers, type NetAccess } from './net'

const TIMEOUT_MS = 6000

/**
 * Whether `<url>/<project>/` exists on a PEP 503 index: an http(s) page that answers 200, or a file://
 * folder with its index.html (net.ts reads file:// as pip does); null: not reachable from here.
 */
function hasProject(base: string, project: string, access: NetAccess): Promise<boolean | null> {
  return urlAnswers(`${base.replace(/\/+$/, '')}/${project}/`, access, TIMEOUT_MS)
}

/**
 * What kind of index the user's torch index is (core/env/torch-source.ts): asked, not guessed, when it
 * answers. A torch root has the build's folder (`/<build>/torch/`); a PyPI-style index has `/torch/`
 * directly (download.pytorch.org/whl has both, so the build folder is asked first). When it answers
 * neither (offline, a proxy in the way) its address decides.
 */
export async function detectTorchIndex(
  url: string,
  build: string | null,
  access: NetAccess,
): Promise<TorchIndexFacts> {
  const base = url.trim().replace(/\/+$/, '')
  if (build && (await hasProject(`${base}/${build}`, 'torch', access))) {
    return indexFacts('torch', 'torch_index_has_build', { url, build })
  }
  const flat = await hasProject(base, 'torch', access)
  if (flat) return indexFacts('pypi', 'torch_index_flat', { url })
  return layoutByName(url, flat === false ? 'no_page' : 'unasked')
}
