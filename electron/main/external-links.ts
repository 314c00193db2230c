/**
 * The sites the desktop app may open in the system browser: where its messages and docs point (the
 * project, sd-scripts, git, uv, PyPI, PyTorch, Hugging Face, NVIDIA drivers). Nothing else leaves the
 * app: shell.openExternal hands a URL to the OS, and an unchecked one can start any registered handler.
 */
export const EXTERNAL_LINK_HOSTS: readonly string[] = [
  'github.com',
  'git-scm.com',
  'docs.astral.sh',
  'pypi.org',
  'pytorch.org',
  'huggingface.co',
  'www.nvidia.com',
]

/**
 * Whether a link may go to the system browser: https only, a host on the list (exactly: a subdomain
 * is another site), no user name or password in it, no port other than 443.
 */
export function isAllowedExternalUrl(url: string, hosts: readonly string[] = EXTERNAL_LINK_HOSTS): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  if (u.protocol !== 'https:' || u.username || u.password || (u.port !== '' && u.port !== '443')) return false
  const host = u.hostname.toLowerCase()
  return hosts.includes(host)
}
