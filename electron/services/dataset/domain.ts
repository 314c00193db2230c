import { promises as fs } from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import { adjustMinMaxBucketReso, bucketSelector } from '../../../core/dataset/buckets'
import { editorText, SD_SCRIPTS_IMAGE_EXTENSIONS, extensionOf } from '../../../core/dataset/folder'
import { buildScan } from '../../../core/dataset/scan'
import { ScanConfig } from '../../../core/api/domains/dataset'
import type { ServiceOptions } from '../context'
import type { EnvManager } from '../env/manager'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { CaptionStore } from './captions'
import { ScanCache } from './scan-cache'
import { DatasetScanner } from './scanner'
import { Tagger } from './tagger'
import { Thumbnails } from './thumbnails'
import { TokenCounter } from './tokenizer'

/** Files the thumbnail request serves: images only, so it is no general file reader. */
const PREVIEWABLE = new Set([...SD_SCRIPTS_IMAGE_EXTENSIONS, '.gif', '.avif', '.tif', '.tiff'])

export function createDatasetDomain(options: ServiceOptions, deps: { env: EnvManager }) {
  const cache = new ScanCache(path.join(options.dataDir, 'cache', 'dataset'))
  const tokens = new TokenCounter(options.env, deps.env)
  const scanner = new DatasetScanner(cache, tokens)
  const captions = new CaptionStore(path.join(options.dataDir, 'caption-history'))
  const thumbnails = new Thumbnails(path.join(options.dataDir, 'cache', 'thumbs'))
  const tagger = new Tagger(options, deps.env, captions)

  const requests = {
    'dataset.scan': ({ config }) => scanner.scan(config),
    'dataset.images': async ({ dir, caption_extension, offset, limit, query, problem, config }) => {
      const cfg = ScanConfig.parse(
        config ?? { dataset: { subsets: [{ image_dir: dir, caption_extension }] } },
      )
      const subset = cfg.dataset.subsets.find((s) => path.resolve(s.image_dir) === path.resolve(dir))
      const scanConfig = ScanConfig.parse({
        ...cfg,
        dataset: { ...cfg.dataset, subsets: [{ ...(subset ?? {}), image_dir: dir, caption_extension }] },
      })
      const read = await scanner.readFolder(dir, caption_extension)
      if (read.facts.state !== 'ok')
        throw new ApiError('domain', `Dataset folder not found: ${dir}. Choose an existing folder.`, {
          kind: 'folder_missing',
        })
      const counter = await tokens.get()
      await cache.save()
      const scan = buildScan(scanConfig, [read.facts], {
        tokenizer: counter.kind,
        scannedMs: 0,
        cachedFiles: read.cached,
      })
      const problemsOf = new Map<string, string[]>()
      for (const p of scan.problems) {
        if (!p.file) continue
        const key = p.file
        problemsOf.set(key, [...(problemsOf.get(key) ?? []), p.kind])
      }
      const d = scanConfig.dataset
      const adjusted = adjustMinMaxBucketReso(
        [d.resolution.width, d.resolution.height],
        d.min_bucket_reso,
        d.max_bucket_reso,
        d.bucket_reso_steps,
      )
      const select = bucketSelector({
        enableBucket: d.enable_bucket,
        resolution: [d.resolution.width, d.resolution.height],
        minBucketReso: adjusted.min,
        maxBucketReso: adjusted.max,
        bucketResoSteps: d.bucket_reso_steps,
        noUpscale: d.bucket_no_upscale,
      })
      const q = query.trim().toLowerCase()
      const rows = read.facts.images.map((img) => {
        const cap = read.facts.captions.get(img.name) ?? null
        const kinds = [...(problemsOf.get(img.path) ?? []), ...(cap ? (problemsOf.get(cap.path) ?? []) : [])]
        const choice = select(img.width, img.height)
        return {
          img,
          cap,
          kinds,
          bucket: 'reso' in choice ? ([choice.reso[0], choice.reso[1]] as [number, number]) : null,
        }
      })
      const filtered = rows.filter(
        (r) =>
          (!q ||
            r.img.name.toLowerCase().includes(q) ||
            (r.cap?.caption.toLowerCase().includes(q) ?? false)) &&
          (!problem || r.kinds.includes(problem)),
      )
      const page = filtered.slice(offset, offset + limit)
      const items = await Promise.all(
        page.map(async (r) => {
          // The editor shows and edits the whole file (sd-scripts trains on its first line).
          const raw = r.cap ? await fs.readFile(r.cap.path, 'utf8').catch(() => null) : null
          return {
            name: r.img.name,
            path: r.img.path,
            width: r.img.width,
            height: r.img.height,
            format: r.img.format,
            caption_file: r.cap?.path ?? null,
            caption: raw === null ? null : editorText(raw),
            tokens: r.cap?.tokens ?? null,
            bucket: r.bucket,
            problems: [...new Set(r.kinds)] as never[],
          }
        }),
      )
      return {
        total: filtered.length,
        items,
        tokenizer: counter.kind,
        max_tokens: scanConfig.training.max_token_length,
      }
    },
    'dataset.thumbnails': async ({ paths, size }) => {
      const allowed = paths.map((p) => PREVIEWABLE.has(extensionOf(p).toLowerCase()))
      const made = await thumbnails.many(
        paths.filter((_, i) => allowed[i]),
        size,
      )
      const byPath = new Map(made.map((t) => [t.path, t]))
      return {
        items: paths.map((p, i) =>
          allowed[i] ? byPath.get(p)! : { path: p, mime: null, data: null, error: 'not_an_image' },
        ),
      }
    },
    'dataset.captions.write': ({ dir, caption_extension, writes, label }) =>
      captions.write(dir, caption_extension, writes, label),
    'dataset.captions.apply': ({ dir, caption_extension, op, preview }) =>
      captions.apply(dir, caption_extension, op, preview),
    'dataset.captions.history': ({ dir }) => captions.history(dir),
    'dataset.captions.undo': ({ dir, id }) => captions.undo(dir, id),
    'dataset.tagger.check': () => tagger.check(),
    'dataset.tagger.start': async (input) => ({ job: await tagger.start(input) }),
    'dataset.tagger.cancel': async ({ job }) => ({ cancelled: await tagger.cancel(job) }),
  } satisfies Partial<RequestHandlers>

  const subscriptions = {
    'dataset.tagger.progress': ({ job }, sink) => {
      let stop: (() => void) | null = null
      stop = tagger.subscribe(job, (p) => {
        sink.emit(p)
        if (p.phase === 'done' || p.phase === 'failed' || p.phase === 'cancelled') {
          // End after this payload has gone out; the subscription may not be set up yet on the first call.
          queueMicrotask(() => {
            stop?.()
            sink.end()
          })
        }
      })
      return () => stop?.()
    },
  } satisfies Partial<SubscriptionHandlers>

  return { requests, subscriptions, scanner, captions, tagger, dispose: () => tagger.dispose() }
}
