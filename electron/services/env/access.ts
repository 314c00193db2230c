import { randomBytes } from 'node:crypto'
import { existsSync, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { MASK, netrcText, secretStrings, type HostCredential } from '../../../core/env/credentials'
import { envValue } from '../../../core/platform/path-lookup'
import { ensurePrivateDir } from '../store/private-file'
import { proxyVariables } from './net'

/** What an install's commands need to reach password-protected mirrors and proxies. */
export interface RunAccess {
  credentials: HostCredential[]
  proxy: string | null
}

export const NO_ACCESS: RunAccess = { credentials: [], proxy: null }

/** Every string to hide from logs and messages for this access: passwords, tokens, the proxy's password. */
export function accessSecrets(access: RunAccess): string[] {
  const all = [...access.credentials]
  if (access.proxy) {
    try {
      const u = new URL(access.proxy)
      if (u.password || u.username) {
        all.push({
          origin: u.origin,
          hostname: u.hostname,
          username: decodeURIComponent(u.username),
          password: decodeURIComponent(u.password),
        })
      }
    } catch {
      // not a URL; nothing to hide
    }
  }
  return secretStrings(all).filter((s) => s !== MASK)
}

/** The user's own netrc (NETRC, else ~/.netrc or ~/_netrc), whose entries must keep working. */
async function userNetrc(env: NodeJS.ProcessEnv): Promise<string> {
  const home =
    envValue(env, 'HOME', process.platform) ?? envValue(env, 'USERPROFILE', process.platform) ?? os.homedir()
  const candidates = [
    envValue(env, 'NETRC', process.platform),
    path.join(home, '.netrc'),
    path.join(home, '_netrc'),
  ]
  for (const file of candidates) {
    if (file && existsSync(file)) return fs.readFile(file, 'utf8').catch(() => '')
  }
  return ''
}

/**
 * Prepares the variables that carry credentials to the commands, never their argv:
 * - NETRC: a user-only file in <dataDir>/private with our mirror hosts (pip, uv, uv's Python
 *   downloads and huggingface_hub read it), followed by the user's own entries for other hosts;
 * - GIT_CONFIG_*: an Authorization header for those hosts, for a git source with a password;
 * - the proxy variables.
 * `cleanup` deletes the netrc file when the run ends.
 */
export async function accessEnvironment(
  access: RunAccess,
  dataDir: string,
  baseEnv: NodeJS.ProcessEnv,
): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const env: Record<string, string> = proxyVariables({ proxy: access.proxy, env: baseEnv })
  if (access.credentials.length === 0) return { env, cleanup: async () => undefined }
  const dir = await ensurePrivateDir(dataDir)
  const file = path.join(dir, `netrc-${process.pid}-${randomBytes(4).toString('hex')}`)
  const ours = netrcText(access.credentials)
  const theirs = await userNetrc(baseEnv)
  // A user entry for one of our hosts would compete with ours; ours were given for this install.
  const clash = access.credentials.some((c) =>
    new RegExp(`\\bmachine\\s+${c.hostname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(theirs),
  )
  await fs.writeFile(file, clash || !theirs ? ours : `${ours}\n${theirs}`, { mode: 0o600 })
  env.NETRC = file
  const count = Number(envValue(baseEnv, 'GIT_CONFIG_COUNT', process.platform) ?? '0') || 0
  let i = count
  for (const c of access.credentials) {
    env[`GIT_CONFIG_KEY_${i}`] = `http.${c.origin}/.extraHeader`
    env[`GIT_CONFIG_VALUE_${i}`] =
      `Authorization: Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`
    i++
  }
  env.GIT_CONFIG_COUNT = String(i)
  return { env, cleanup: () => fs.rm(file, { force: true }) }
}
