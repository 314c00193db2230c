import { promises as fs } from 'node:fs'
import type { EnvCodedText } from '../../../core/env/messages'
import {
  mirrorFolderMessage,
  mirrorFolderPath,
  wantsPackageIndex,
  type MirrorField,
  type MirrorOs,
} from '../../../core/env/settings-check'

/** This machine, the one whose folders a file:// mirror names (installs run here). */
export function thisMirrorOs(): MirrorOs {
  return process.platform === 'win32' ? 'win32' : 'linux'
}

const PACKAGE_FILE = /\.(whl|tar\.gz|zip)$/i

/**
 * Why a file:// mirror (already well formed: mirrorUrlProblem) cannot be read here, or null: the folder
 * is missing or a file, or, for a package index, it holds package files loose instead of one folder per
 * package (pip and uv would find nothing in it and say so only minutes into the install).
 */
export async function mirrorFolderProblem(
  field: MirrorField,
  value: string,
  os: MirrorOs = thisMirrorOs(),
): Promise<EnvCodedText | null> {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    return null
  }
  if (url.protocol !== 'file:') return null
  const where = mirrorFolderPath(field, value, os)
  if ('problem' in where) return where.problem
  const st = await fs.stat(where.path).catch(() => null)
  if (!st) return mirrorFolderMessage(field, value, where.path, 'missing')
  if (!st.isDirectory()) return mirrorFolderMessage(field, value, where.path, 'not-a-folder')
  if (wantsPackageIndex(field)) {
    const entries = await fs.readdir(where.path, { withFileTypes: true }).catch(() => [])
    const loose = entries.some((e) => e.isFile() && PACKAGE_FILE.test(e.name))
    const folders = entries.some((e) => e.isDirectory() || e.isSymbolicLink())
    if (loose && !folders) return mirrorFolderMessage(field, value, where.path, 'no-index')
  }
  return null
}
