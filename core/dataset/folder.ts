/**
 * Which files of an image folder sd-scripts v0.10.1 reads, and how (library/train_util.py glob_images and
 * DreamBoothDataset's read_caption), from the folder's file names and the caption files' text.
 */

/** The extensions glob_images matches (exact case; Windows' file system ignores case). */
export const SD_SCRIPTS_IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp']
/** Image files sd-scripts skips without an optional plugin (or at all), worth telling the user about. */
const OTHER_IMAGE_EXTENSIONS = ['.avif', '.jxl', '.gif', '.tif', '.tiff', '.heic', '.heif']

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(dot) : ''
}

export function stemOf(name: string): string {
  const ext = extensionOf(name)
  return ext ? name.slice(0, -ext.length) : name
}

export interface FolderListing {
  /** Image files sd-scripts reads, sorted by name. */
  images: string[]
  /** Image name → its caption file name, or null. */
  captionOf: Map<string, string | null>
  /** Caption files (with the caption extension) no image uses. */
  orphanCaptions: string[]
  /** Image-like files sd-scripts does not read (other extension or letter case). */
  notRead: string[]
}

/**
 * Sorts out one folder's file names. `caseInsensitive`: the file system ignores letter case (Windows),
 * where `a.PNG` matches sd-scripts' '*.png' pattern too.
 */
export function listFolder(
  dir: string,
  names: string[],
  captionExtension: string,
  caseInsensitive: boolean,
): FolderListing {
  const lowerExts = SD_SCRIPTS_IMAGE_EXTENSIONS
  const isImage = (ext: string) =>
    caseInsensitive
      ? lowerExts.includes(ext.toLowerCase())
      : lowerExts.includes(ext) || (lowerExts.includes(ext.toLowerCase()) && ext === ext.toUpperCase())
  const images: string[] = []
  const notRead: string[] = []
  for (const name of names) {
    const ext = extensionOf(name)
    // glob's '*' skips hidden names (macOS '._x.png' copies among them).
    if (!ext || name.startsWith('.')) continue
    if (isImage(ext)) images.push(name)
    else if (lowerExts.includes(ext.toLowerCase()) || OTHER_IMAGE_EXTENSIONS.includes(ext.toLowerCase()))
      notRead.push(name)
  }
  images.sort()
  const key = (n: string) => (caseInsensitive ? n.toLowerCase() : n)
  const present = new Map(names.map((n) => [key(n), n]))
  const used = new Set<string>()
  const captionOf = new Map<string, string | null>()
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/'
  const prefix = dir.endsWith(sep) ? dir : dir + sep
  for (const img of images) {
    const stem = stemOf(img)
    const candidates = [stem + captionExtension]
    // read_caption also tries the path without its last four "_" parts (face-crop outputs); it splits
    // the whole path, so a folder name with "_" counts too. A result outside the folder is not looked up.
    const parts = (prefix + stem).split('_')
    if (parts.length >= 5) {
      const face = parts.slice(0, -4).join('_') + captionExtension
      if (face.startsWith(prefix) && !face.slice(prefix.length).includes(sep))
        candidates.push(face.slice(prefix.length))
    }
    const found = candidates.map((c) => present.get(key(c))).find((c) => c !== undefined) ?? null
    captionOf.set(img, found)
    if (found) used.add(found)
  }
  const extKey = key(captionExtension)
  const orphanCaptions = names
    .filter((n) => key(n).endsWith(extKey) && !used.has(n) && n.length > captionExtension.length)
    .sort()
  return { images, captionOf, orphanCaptions, notRead: notRead.sort() }
}

export type CaptionStatus = 'ok' | 'empty_file' | 'not_utf8'

export interface CaptionText {
  status: CaptionStatus
  /** What sd-scripts trains with: the first line, stripped. */
  caption: string
  /** More than one non-empty line: only the first is used. */
  multiline: boolean
  /** Starts with a UTF-8 byte order mark (read as part of the first tag). */
  bom: boolean
}

/**
 * A caption file's bytes as sd-scripts reads them: UTF-8 (an error otherwise), the first line only,
 * stripped; an empty file stops training (an assertion), a file with only a newline is an empty caption.
 */
export function readCaptionBytes(bytes: Uint8Array): CaptionText {
  if (bytes.length === 0) return { status: 'empty_file', caption: '', multiline: false, bom: false }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return { status: 'not_utf8', caption: '', multiline: false, bom: false }
  }
  const bom = text.startsWith('\ufeff')
  const lines = text.split(/\r\n|\n|\r/)
  const nonEmpty = lines.filter((l) => l.trim() !== '')
  return { status: 'ok', caption: (lines[0] ?? '').trim(), multiline: nonEmpty.length > 1, bom }
}

/** The text the caption editor shows for a file's content: without one trailing line break. */
export function editorText(content: string): string {
  return content.replace(/\r?\n$/, '')
}

/** What the caption editor writes for a text: one trailing newline, as sd-scripts' taggers write. */
export function fileContent(text: string): string {
  return `${text}\n`
}
