import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { RunScalars } from '../../../core/api/domains/tensorboard'
import { scalarsFromRecords } from '../../../core/tensorboard/events'
import { ScalarSeries } from '../../../core/tensorboard/scalars'
import { readRecords, type RecordProblem } from '../../../core/tensorboard/tfrecord'

/** How deep and how wide the search for event files goes (sd-scripts nests two or three folders). */
const MAX_DEPTH = 6
const MAX_FILES = 500
/** New bytes read per file per call; the rest is read on the next call. */
const MAX_READ = 32 * 1024 * 1024

/** Event files (`events.out.tfevents.*`) under `root`, in path order. */
export async function findEventFiles(root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || out.length >= MAX_FILES) return
    let entries
    try {
      entries = await fs.readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) await walk(p, depth + 1)
      else if (e.isFile() && e.name.includes('tfevents') && out.length < MAX_FILES) out.push(p)
    }
  }
  await walk(root, 0)
  return out
}

interface FileState {
  offset: number
  size: number
  problem: { code: string; message: string } | null
}

function describe(file: string, p: RecordProblem): { code: string; message: string } {
  const where = `${file} at byte ${p.offset}`
  if (p.kind === 'too_large')
    return {
      code: 'too_large',
      message: `Event file ${where} declares a record of ${p.length} bytes, more than a TensorBoard file holds: the file is damaged. The scalars before it are shown.`,
    }
  return {
    code: 'bad_crc',
    message: `Event file ${where} fails its checksum: the file is damaged. The scalars before it are shown.`,
  }
}

/**
 * A run's event files, read incrementally: each call reads only the bytes written since the last
 * one (a record still being written is read next time), so polling a live run stays cheap.
 */
export class EventFilesReader {
  private files = new Map<string, FileState>()
  private series = new ScalarSeries()

  constructor(readonly root: string) {}

  private resets = 0

  private reset(): void {
    this.resets++
    this.files.clear()
    this.series = new ScalarSeries()
  }

  private async readFile(file: string): Promise<void> {
    let state = this.files.get(file)
    let size: number
    try {
      size = (await fs.stat(file)).size
    } catch {
      return
    }
    if (state && size < state.size) {
      // The file was replaced or cut short: everything read from it may be wrong, start over.
      this.reset()
      state = undefined
    }
    if (!state) this.files.set(file, (state = { offset: 0, size, problem: null }))
    state.size = size
    if (state.problem || state.offset >= size) return
    const length = Math.min(size - state.offset, MAX_READ)
    const buf = new Uint8Array(length)
    let handle
    try {
      handle = await fs.open(file, 'r')
      const { bytesRead } = await handle.read(buf, 0, length, state.offset)
      const read = readRecords(buf.subarray(0, bytesRead), state.offset)
      const { points, undecodable } = scalarsFromRecords(read.records)
      this.series.add(points)
      state.offset = read.next
      if (read.problem) state.problem = describe(file, read.problem)
      else if (undecodable > 0)
        state.problem = {
          code: 'undecodable',
          message: `Event file ${file} holds ${undecodable} record(s) that are not TensorBoard events; they were skipped.`,
        }
      // A whole MAX_READ window with no complete record means one record larger than the window.
      if (!read.problem && read.records.length === 0 && bytesRead === MAX_READ)
        state.problem = {
          code: 'too_large',
          message: `Event file ${file} has a record larger than ${MAX_READ} bytes at byte ${state.offset}; it is not read further.`,
        }
    } catch (error) {
      state.problem = {
        code: 'unreadable',
        message: `Cannot read event file ${file}: ${(error as Error).message}.`,
      }
    } finally {
      await handle?.close()
    }
  }

  async read(): Promise<Omit<RunScalars, 'logging_dir'>> {
    const list = await findEventFiles(this.root)
    for (const f of [...this.files.keys()]) if (!list.includes(f)) this.reset()
    const before = this.resets
    for (const f of list) await this.readFile(f)
    // A file was replaced mid-pass: the files before it were dropped with the rest, read them again.
    if (this.resets !== before) for (const f of list) await this.readFile(f)
    const problems = [...this.files.entries()]
      .filter(
        (e): e is [string, FileState & { problem: { code: string; message: string } }] => !!e[1].problem,
      )
      .map(([file, s]) => ({ file, ...s.problem }))
    return { files: list.length, scalars: this.series.toRecord(), problems }
  }
}
