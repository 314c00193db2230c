import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import yauzl from 'yauzl'
import {
  parseSimpleHtml,
  parseSimpleJson,
  pickUvWheel,
  projectPageUrl,
  uvPathInWheel,
  type UvTarget,
} from '../../../core/env/uv-wheel'
import { redactUrls } from '../../../core/env/credentials'
import { execShort } from './detect'
import { DownloadError, downloadFile, fetchText, type NetAccess } from './net'

/** uv's wheels are 15-20 MB; anything far larger is not what we asked for. */
const MAX_WHEEL_BYTES = 200 << 20

/** This machine as a wheel target: OS, CPU, and on Linux glibc or musl. */
export function currentUvTarget(): UvTarget {
  const arch = process.arch === 'arm64' ? 'arm64' : process.arch === 'ia32' ? 'ia32' : 'x64'
  if (process.platform === 'win32') return { os: 'win32', arch }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header
  return { os: 'linux', arch, libc: header?.glibcVersionRuntime ? 'glibc' : 'musl' }
}

/** Unpacks one file of a zip (a wheel) to `to`; false when the zip has no such entry. */
export async function extractZipEntry(zip: string, entryName: string, to: string): Promise<boolean> {
  const zipfile = await yauzl.openPromise(zip, { lazyEntries: true, validateEntrySizes: true })
  try {
    return await new Promise<boolean>((resolve, reject) => {
      zipfile.on('error', reject)
      zipfile.on('end', () => resolve(false))
      zipfile.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== entryName) {
          zipfile.readEntry()
          return
        }
        zipfile.openReadStream(entry, (err, stream) => {
          if (err) {
            reject(err)
            return
          }
          pipeline(stream, createWriteStream(to, { mode: 0o755 })).then(() => resolve(true), reject)
        })
      })
      zipfile.readEntry()
    })
  } finally {
    zipfile.close()
  }
}

export interface FetchUvOptions {
  index: string
  version: string
  /** Folder that will hold the uv binary (replaced as a whole, never half-written). */
  to: string
  access: NetAccess
  target?: UvTarget
  log?: (line: string) => void
  signal?: AbortSignal
}

/**
 * Gets uv without Python: reads uv's page on the simple index (PEP 691 JSON, else PEP 503 HTML),
 * downloads the wheel for this machine, checks it against the index's sha256, unpacks the uv
 * binary, checks that it runs and reports the expected version, then moves it into place.
 * Returns the binary's path.
 */
export async function fetchUv(o: FetchUvOptions): Promise<string> {
  const log = o.log ?? (() => undefined)
  const target = o.target ?? currentUvTarget()
  const page = projectPageUrl(o.index)
  log(`reading ${redactUrls(page)}\r\n`)
  const answer = await fetchText(page, o.access, {
    accept: 'application/vnd.pypi.simple.v1+json, text/html;q=0.1',
    ...(o.signal ? { signal: o.signal } : {}),
  })
  const files =
    (/json/i.test(answer.contentType) || answer.body.trimStart().startsWith('{')
      ? parseSimpleJson(answer.body, answer.url)
      : null) ?? parseSimpleHtml(answer.body, answer.url)
  const wheel = pickUvWheel(files, o.version, target)
  const where = `${target.os} ${target.arch}${target.os === 'linux' ? ` (${target.libc ?? 'glibc'})` : ''}`
  if (!wheel) {
    throw new DownloadError(
      `The index ${redactUrls(o.index)} has no uv ${o.version} wheel for ${where} (${files.length} files listed). ` +
        'Use a PyPI mirror that has it, or install uv yourself (https://docs.astral.sh/uv/) and put it on PATH.',
    )
  }
  if (!wheel.sha256) {
    throw new DownloadError(
      `The index ${redactUrls(o.index)} lists ${wheel.filename} without a sha256, so the download could not be checked. ` +
        'Use a mirror that publishes hashes (PyPI and its mirrors do), or install uv yourself and put it on PATH.',
    )
  }
  const work = `${o.to}.tmp-${randomBytes(4).toString('hex')}`
  const bin = path.join(work, 'bin')
  const exe = path.join(bin, target.os === 'win32' ? 'uv.exe' : 'uv')
  try {
    await fs.mkdir(bin, { recursive: true })
    log(`downloading ${wheel.filename} (sha256 ${wheel.sha256})\r\n`)
    const whl = path.join(work, wheel.filename)
    const got = await downloadFile(wheel.url, whl, o.access, {
      sha256: wheel.sha256,
      maxBytes: MAX_WHEEL_BYTES,
      ...(o.signal ? { signal: o.signal } : {}),
    })
    log(`downloaded ${got.bytes} bytes, sha256 matches the index\r\n`)
    if (!(await extractZipEntry(whl, uvPathInWheel(o.version, target.os), exe))) {
      throw new DownloadError(
        `${wheel.filename} holds no ${uvPathInWheel(o.version, target.os)}; it is not a uv wheel.`,
      )
    }
    if (target.os !== 'win32') await fs.chmod(exe, 0o755)
    const check = await execShort(exe, ['--version'], { env: o.access.env, timeoutMs: 30_000 })
    if (check.code !== 0 || !check.stdout.includes(o.version)) {
      throw new DownloadError(
        `The downloaded uv does not run on this machine (${(check.stderr || check.error || check.stdout).trim().slice(0, 300)}). ` +
          'Install uv yourself (https://docs.astral.sh/uv/) and put it on PATH.',
      )
    }
    log(`${check.stdout.trim()}\r\n`)
    await fs.rm(o.to, { recursive: true, force: true })
    await fs.mkdir(path.dirname(o.to), { recursive: true })
    await fs.rename(bin, o.to)
  } finally {
    await fs.rm(work, { recursive: true, force: true })
  }
  const final = path.join(o.to, path.basename(exe))
  if (!existsSync(final)) throw new DownloadError(`uv was not placed at ${final}.`)
  return final
}
