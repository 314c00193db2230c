import { promises as fs } from 'node:fs'
import path from 'node:path'
import { parseRepeatsFolder } from '../../../core/config/steps'
import { msg } from '../../../core/sdscripts/messages'

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.avif', '.jxl']

export interface FolderInspection {
  path: string
  exists: boolean
  images: number
  captioned: number
  /** A few image names without a caption file, to show. */
  missingCaptionExamples: string[]
  /** Repeats and class tokens read from a `<repeats>_<name>` folder name, if it has one. */
  fromName: { num_repeats: number; class_tokens: string } | null
  problem: string | null
  /** The problem's code (issues.* in train.json; its one parameter is the path). */
  problem_code: 'dataset_not_found' | 'dataset_not_folder' | 'dataset_no_images' | null
}

/** The inspection of a path that is not a readable folder: nothing counted, `problem` says why. */
function unusableFolder(
  dir: string,
  fromName: FolderInspection['fromName'],
  code: 'dataset_not_found' | 'dataset_not_folder',
): FolderInspection {
  const problem = msg(code, { path: dir }).message
  return {
    path: dir,
    exists: false,
    images: 0,
    captioned: 0,
    missingCaptionExamples: [],
    fromName,
    problem,
    problem_code: code,
  }
}

/** Counts images and their caption files in one folder (not recursive, like sd-scripts). */
export async function inspectImageFolder(dir: string, captionExtension = '.txt'): Promise<FolderInspection> {
  const fromName = parseRepeatsFolder(path.basename(dir))
  let entries: string[]
  try {
    const st = await fs.stat(dir)
    if (!st.isDirectory()) return unusableFolder(dir, fromName, 'dataset_not_folder')
    entries = await fs.readdir(dir)
  } catch {
    return unusableFolder(dir, fromName, 'dataset_not_found')
  }
  const names = new Set(entries)
  const images = entries.filter((e) => IMAGE_EXTENSIONS.includes(path.extname(e).toLowerCase())).sort()
  const missing: string[] = []
  let captioned = 0
  for (const img of images) {
    const stem = img.slice(0, img.length - path.extname(img).length)
    if (names.has(stem + captionExtension)) captioned++
    else missing.push(img)
  }
  return {
    path: dir,
    exists: true,
    images: images.length,
    captioned,
    missingCaptionExamples: missing.slice(0, 5),
    fromName,
    problem: images.length === 0 ? msg('dataset_no_images', { path: dir }).message : null,
    problem_code: images.length === 0 ? 'dataset_no_images' : null,
  }
}

/** Sub-folders named `<repeats>_<name>` of a parent folder (sd-scripts' train_data_dir convention). */
export async function listRepeatFolders(
  parent: string,
): Promise<Array<{ dir: string; num_repeats: number; class_tokens: string }>> {
  const entries = await fs.readdir(parent, { withFileTypes: true })
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => ({ e, parsed: parseRepeatsFolder(e.name) }))
    .filter(
      (x): x is { e: (typeof entries)[number]; parsed: { num_repeats: number; class_tokens: string } } =>
        x.parsed !== null,
    )
    .sort((a, b) => a.e.name.localeCompare(b.e.name))
    .map(({ e, parsed }) => ({ dir: path.join(parent, e.name), ...parsed }))
}
