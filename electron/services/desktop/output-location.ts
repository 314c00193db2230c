import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { OutputLocation } from '../../../core/api/domains/desktop'
import type { RunRecord } from '../../../core/runs/record'

async function exists(p: string, kind: 'dir' | 'file'): Promise<boolean> {
  try {
    const st = await fs.stat(p)
    return kind === 'dir' ? st.isDirectory() : st.isFile()
  } catch {
    return false
  }
}

/**
 * The last file a run saved, as an absolute path. sd-scripts prints `saving checkpoint: <output_dir>/<name>`
 * with the output folder as given, so a relative one is relative to the run's working folder; a bare file
 * name is in the output folder.
 */
export function savedFilePath(run: Pick<RunRecord, 'cwd' | 'output_dir' | 'summary'>): string | null {
  const printed = run.summary.saved_checkpoints.at(-1)
  if (!printed) return null
  if (!/[\\/]/.test(printed) && run.output_dir) return path.join(run.output_dir, printed)
  return path.resolve(run.cwd, printed)
}

export async function outputLocation(run: RunRecord): Promise<OutputLocation> {
  const folder = run.output_dir
  const file = savedFilePath(run)
  return {
    folder,
    folder_exists: folder ? await exists(folder, 'dir') : false,
    file,
    file_exists: file ? await exists(file, 'file') : false,
  }
}
