import { describe, expect, it } from 'vitest'
import type { DatasetProblem } from '../../core/api/domains/dataset'
import { TrainingConfig, type TrainingConfigInput } from '../../core/config/schema'
import { buildScan, type FolderFacts, type ImageFacts } from '../../core/dataset/scan'
import { groupProblems, scanConfigFor } from '../../core/dataset/train-summary'
import { withLargestBucket } from '../../core/vram/bucket-basis'
import { scenarioFromConfig } from '../../core/vram/from-config'
import { predict } from '../../core/vram/model'
import { draftFromConfig, toConfig } from '../../renderer/src/components/dataset/draft'

/*
 * The Train page's use of the dataset scan: the VRAM gauge sizes activations for the largest bucket
 * the scan found (a real scan, built by core/dataset from image facts), and the summary lists the
 * problems in short.
 */

function image(name: string, width: number, height: number): ImageFacts {
  return {
    name,
    path: `/data/10_cat/${name}`,
    bytes: 1000 + width,
    format: 'png',
    width,
    height,
    realWidth: width,
    realHeight: height,
    orientation: null,
    damage: null,
    hash: null,
  }
}

function folder(images: ImageFacts[]): FolderFacts {
  return {
    dir: '/data/10_cat',
    state: 'ok',
    images,
    captions: new Map(
      images.map((i) => [
        i.name,
        {
          name: `${i.name}.txt`,
          path: `${i.path}.txt`,
          tokens: 3,
          status: 'ok',
          caption: 'a cat',
          multiline: false,
          bom: false,
        },
      ]),
    ),
    orphanCaptions: [],
    notRead: [],
  } as FolderFacts
}

function config(over: Partial<TrainingConfigInput['dataset']> = {}): TrainingConfig {
  return TrainingConfig.parse({
    type: 'lora',
    base_model: '/m/sdxl.safetensors',
    dataset: { subsets: [{ image_dir: '/data/10_cat', num_repeats: 10 }], ...over },
    training: { max_train_epochs: 2, batch_size: 2 },
    saving: { output_dir: '/out', output_name: 'cat' },
  })
}

function scanOf(c: TrainingConfig, images: ImageFacts[]) {
  return buildScan(c, [folder(images)], { tokenizer: 'estimate', scannedMs: 1, cachedFiles: 0 })
}

const scenario = (c: TrainingConfig) => scenarioFromConfig(c, 'linux').scenario

describe('the VRAM gauge and the largest bucket', () => {
  it('sizes activations for the largest bucket the scan found, not the nominal resolution', () => {
    // Small images without upscaling land in small buckets: the run never trains at 1024 × 1024.
    const c = config({ bucket_no_upscale: true })
    const scan = scanOf(c, [image('a.png', 640, 512), image('b.png', 448, 512), image('c.png', 512, 512)])
    expect(scan.largest_bucket).toEqual([640, 512])
    const nominal = scenario(c)
    const { scenario: s, basis } = withLargestBucket(nominal, scan)
    expect(basis).toEqual({
      kind: 'largest_bucket',
      width: 640,
      height: 512,
      nominal: { width: 1024, height: 1024 },
    })
    expect(s.resolution).toEqual({ width: 640, height: 512 })
    // Everything else about the run is the same.
    expect({ ...s, resolution: nominal.resolution }).toEqual(nominal)
    // And the prediction follows: less activation memory than at the nominal size.
    expect(predict(s).peak_gib).toBeLessThan(predict(nominal).peak_gib)
  })

  it('uses the aspect bucket of a landscape set (same area class, other shape)', () => {
    const c = config({ bucket_no_upscale: false })
    const scan = scanOf(c, [image('wide.png', 1600, 1000), image('wide2.png', 1600, 1000)])
    const [w, h] = scan.largest_bucket!
    expect(w).toBeGreaterThan(h)
    expect(w * h).toBeLessThanOrEqual(1024 * 1024)
    const { scenario: s, basis } = withLargestBucket(scenario(c), scan)
    expect(basis.kind).toBe('largest_bucket')
    expect(s.resolution).toEqual({ width: w, height: h })
  })

  it('keeps the nominal resolution without a scan, without images, or with a scan made at another resolution', () => {
    const c = config()
    const nominal = scenario(c)
    expect(withLargestBucket(nominal, null)).toEqual({
      scenario: nominal,
      basis: { kind: 'nominal', width: 1024, height: 1024, reason: 'no_scan' },
    })
    const empty = scanOf(c, [])
    expect(empty.largest_bucket).toBeNull()
    expect(withLargestBucket(nominal, empty).basis).toMatchObject({ kind: 'nominal', reason: 'no_images' })
    // The user changed the resolution; the scan for the new one has not answered yet.
    const old = scanOf(config({ resolution: { width: 768, height: 768 } }), [image('a.png', 768, 768)])
    const r = withLargestBucket(nominal, old)
    expect(r.basis).toMatchObject({ kind: 'nominal', reason: 'stale' })
    expect(r.scenario).toBe(nominal)
  })

  it('never hands the model a size it cannot take', () => {
    const nominal = scenario(config())
    for (const bucket of [
      [0, 0],
      [32, 1024],
      [1024, 9000],
      [1000.5, 1024],
    ] as const) {
      const r = withLargestBucket(nominal, { settings: { resolution: [1024, 1024] }, largest_bucket: bucket })
      expect(r.basis, String(bucket)).toMatchObject({ kind: 'nominal', reason: 'no_images' })
      expect(r.scenario).toBe(nominal)
    }
  })
})

describe("the Train page's dataset summary", () => {
  const p = (kind: DatasetProblem['kind'], severity: DatasetProblem['severity'], file: string | null) =>
    ({ kind, severity, file, subset: 0, params: {} }) as DatasetProblem

  it('lists errors first, then warnings by count, one line per kind; info stays on the Dataset page', () => {
    const groups = groupProblems([
      p('caption_missing', 'warning', 'a.png'),
      p('caption_orphan', 'info', 'x.txt'),
      p('image_duplicate', 'warning', 'b.png'),
      p('caption_missing', 'warning', 'c.png'),
      p('image_unreadable', 'error', 'd.png'),
      p('caption_missing', 'warning', 'e.png'),
    ])
    expect(groups.map((g) => [g.kind, g.severity, g.count, g.first.file])).toEqual([
      ['image_unreadable', 'error', 1, 'd.png'],
      ['caption_missing', 'warning', 3, 'a.png'],
      ['image_duplicate', 'warning', 1, 'b.png'],
    ])
    expect(groupProblems([])).toEqual([])
  })

  it('groups the problems of a real scan (missing captions)', () => {
    const c = config()
    const f = folder([image('a.png', 1024, 1024), image('b.png', 1024, 1024)])
    f.captions.set('b.png', null)
    const scan = buildScan(c, [f], { tokenizer: 'estimate', scannedMs: 1, cachedFiles: 0 })
    const groups = groupProblems(scan.problems)
    expect(groups.find((g) => g.kind === 'caption_missing')).toMatchObject({ count: 1, severity: 'warning' })
  })

  it('scans only folders that have a path, and nothing when there is none', () => {
    const c = TrainingConfig.parse({
      ...config(),
      dataset: { subsets: [{ image_dir: '  ' }, { image_dir: '/data/10_cat' }, { image_dir: '' }] },
    })
    expect(scanConfigFor(c)?.dataset.subsets.map((s) => s.image_dir)).toEqual(['/data/10_cat'])
    expect(
      scanConfigFor(TrainingConfig.parse({ ...config(), dataset: { subsets: [{ image_dir: '' }] } })),
    ).toBeNull()
  })

  it("opens the Dataset page with the Train page's folders and bucket settings", () => {
    const c = TrainingConfig.parse({
      ...config({
        min_bucket_reso: 256,
        max_bucket_reso: 1536,
        bucket_reso_steps: 32,
        bucket_no_upscale: false,
      }),
      dataset: {
        subsets: [
          { image_dir: '/data/10_cat', num_repeats: 10, class_tokens: 'sks cat' },
          { image_dir: '/data/reg', num_repeats: 1, is_reg: true, caption_extension: '.caption' },
          { image_dir: '' },
        ],
        min_bucket_reso: 256,
        max_bucket_reso: 1536,
        bucket_reso_steps: 32,
        bucket_no_upscale: false,
      },
      training: { max_train_epochs: 4, batch_size: 3, gradient_accumulation_steps: 2, max_token_length: 225 },
    })
    const back = toConfig(draftFromConfig(c))!
    expect(back.dataset?.subsets).toEqual([
      {
        image_dir: '/data/10_cat',
        num_repeats: 10,
        is_reg: false,
        caption_extension: '.txt',
        class_tokens: 'sks cat',
      },
      { image_dir: '/data/reg', num_repeats: 1, is_reg: true, caption_extension: '.caption' },
    ])
    expect(back.dataset).toMatchObject({
      min_bucket_reso: 256,
      max_bucket_reso: 1536,
      bucket_reso_steps: 32,
      bucket_no_upscale: false,
    })
    expect(back.training).toEqual({
      batch_size: 3,
      max_train_epochs: 4,
      gradient_accumulation_steps: 2,
      max_token_length: 225,
    })
  })

  it('leaves a setting the Dataset page cannot hold at its default (no epochs, an odd bucket step)', () => {
    const c = TrainingConfig.parse({
      ...config({ bucket_reso_steps: 48 }),
      training: { max_train_steps: 1000 },
    })
    const d = draftFromConfig(c)
    expect(d.bucket_reso_steps).toBe(64)
    expect(d.max_train_epochs).toBe(10)
    expect(toConfig(d)).not.toBeNull()
  })
})
