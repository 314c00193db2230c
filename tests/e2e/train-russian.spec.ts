/// <reference lib="dom" />
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { TrainingConfig, type TrainingConfigInput } from '../../core/config/schema'
import { RULE_IDS, validateConfig } from '../../core/sdscripts/validate'
import { englishWords } from '../helpers/english'
import { safetensorsBytes } from '../helpers/safetensors'
import { expect, test } from './fixtures'
import { openEveryTrainControl } from './train-page'

/*
 * In Russian, no English reaches the page for any check the validator can produce: configs that
 * trigger every rule (and the file checks) are opened as drafts, and each message and fix button is
 * read back from the page with the values it was built from taken out.
 */

const BASE: TrainingConfigInput = {
  type: 'lora',
  base_model: '/m/sd_xl_base_1.0.safetensors',
  dataset: { subsets: [{ image_dir: '/d/10_cat', num_repeats: 10 }] },
  training: { max_train_epochs: 5 },
  saving: { output_dir: '/out', output_name: 'cat' },
}

/** Two configs that break nearly every rule at once, and one for the rules the first two cannot both break. */
const RULE_CONFIGS: TrainingConfigInput[] = [
  {
    ...BASE,
    base_model: '',
    dataset: {
      subsets: [{ image_dir: '', is_reg: true, shuffle_caption: true }],
      resolution: { width: 1000, height: 1000 },
      bucket_reso_steps: 48,
      min_bucket_reso: 2048,
    },
    network: { dim: 32, alpha: 64, conv_dim: 8 },
    optimizer: { type: 'DAdaptAdam', learning_rate: 1e-4, lr_scheduler: 'constant', lr_warmup_steps: 5.5 },
    training: { gradient_accumulation_steps: 2 },
    memory: {
      cache_text_encoder_outputs: true,
      fp8_base: true,
      mixed_precision: 'no',
      fused_backward_pass: true,
      attention: 'none',
      full_bf16: true,
      full_fp16: true,
    },
    sampling: { enabled: true, prompts: [{ prompt: 'a cat' }] },
    saving: { output_dir: '', output_name: 'cat', save_model_as: 'diffusers' },
    launch: { gpu_ids: '0,1' },
    extra_args: {
      blocks_to_swap: 4,
      '--debug_dataset': true,
      lr_scheduler_power: 'abc',
      learning_rate: 0.001,
    },
  },
  {
    ...BASE,
    type: 'dreambooth',
    optimizer: { type: 'Adam8bit', train_text_encoder: true, text_encoder_lr: 0 },
    memory: { mixed_precision: 'fp16', fp8_base: true, cache_text_encoder_outputs: true },
    loss: { prior_loss_weight: 0.5 },
    sampling: { enabled: true, prompts: [] },
    saving: { output_dir: '/out', output_name: 'cat', save_model_as: 'pt' },
    logging: { log_with: 'tensorboard' },
    extra_args: { fused_optimizer_groups: 2, text_encoder_lr1: 1e-5, cache_text: true, seed: 'x' },
  },
  {
    ...BASE,
    extra_args: { cache_text_encoder: true, ddp_timeout: 60 },
    optimizer: { type: 'AdamW', learning_rate: 1e-4 },
    sampling: { enabled: true, every_n_epochs: 1, prompts: [{ prompt: 'a cat', width: 1024, height: 1024 }] },
  },
  // Two GPUs (the process count the page derives from the list, given here as well): DDP's rules.
  {
    ...BASE,
    type: 'dreambooth',
    launch: { gpu_ids: '0,1', num_processes: 2 },
    extra_args: { fused_optimizer_groups: 2 },
  },
]

/**
 * Rules the page cannot show: the run takes its process count from the GPU list
 * (electron/services/training/launch.ts: withGpus), and the page checks the config as it will run.
 * Their messages are still checked in Russian by tests/unit/i18n-codes.test.ts.
 */
const DERIVED_AT_LAUNCH = new Set([
  'launch.gpu_count',
  // The GPU list itself: the page checks the list as the run takes it (deduplicated, as process ids),
  // so a malformed or missing id is reported where the GPUs are chosen (tests/e2e/multi-gpu.spec.ts).
  'launch.gpu_ids',
  'launch.gpu_missing',
  // Needs Windows; its Russian text is checked by tests/unit/i18n-codes.test.ts like every rule's.
  'multi_gpu.windows_gloo',
])

async function openDraft(page: Page, dataDir: string, config: TrainingConfigInput) {
  const draft = {
    version: 1,
    config: TrainingConfig.parse(config),
    texts: {},
    touched: true,
    preset_id: null,
  }
  mkdirSync(path.join(dataDir, 'drafts'), { recursive: true })
  writeFileSync(path.join(dataDir, 'drafts', 'train.json'), JSON.stringify(draft))
  await page.reload()
  await expect(page.getByTestId('train-sections')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('train-valid')).toBeVisible({ timeout: 30_000 })
}

/** Every issue and fix text on the page, by rule. */
async function shownChecks(page: Page): Promise<Array<{ rule: string; text: string }>> {
  return page.getByTestId('train-issues').evaluate((panel) =>
    Array.from(panel.querySelectorAll<HTMLElement>('[data-testid^="issue-"]')).map((el) => ({
      rule: (el.dataset.testid ?? '').slice('issue-'.length),
      text: el.innerText,
    })),
  )
}

function paramValues(config: TrainingConfigInput, extra: string[] = []): Record<string, string> {
  const values: Record<string, string> = {}
  let i = 0
  for (const issue of validateConfig(TrainingConfig.parse(config))) {
    for (const v of Object.values(issue.params ?? {})) values[`p${i++}`] = String(v)
    for (const v of Object.values(issue.fix?.params ?? {})) values[`p${i++}`] = String(v)
  }
  for (const v of extra) values[`p${i++}`] = v
  return values
}

test('every check and fix the validator can produce is shown in Russian', async ({ page, server }) => {
  test.setTimeout(300_000)
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  await page.goto(server.url)
  const seen = new Set<string>()
  for (const config of RULE_CONFIGS) {
    await openDraft(page, server.dataDir, config)
    const expected = new Set(
      validateConfig(TrainingConfig.parse(config))
        .map((i) => i.rule)
        .filter((r) => !DERIVED_AT_LAUNCH.has(r)),
    )
    const shown = await shownChecks(page)
    for (const rule of expected)
      expect(
        shown.map((s) => s.rule),
        `shown: ${rule}`,
      ).toContain(rule)
    const params = paramValues(config)
    for (const s of shown) {
      seen.add(s.rule)
      expect(englishWords(s.text, params), `${s.rule}: ${s.text}`).toEqual([])
    }
  }
  // Every rule of the validator was driven (a new rule needs a config here).
  expect(RULE_IDS.filter((r) => !seen.has(r) && !DERIVED_AT_LAUNCH.has(r))).toEqual([])
})

test('file checks (model, folders, captions, output) are shown in Russian', async ({ page, server }) => {
  test.setTimeout(180_000)
  const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-ru-files-'))
  const notSdxl = path.join(dir, 'sd15.safetensors')
  // An SD 1.x checkpoint's key names: the U-Net with CLIP-L under cond_stage_model.
  writeFileSync(
    notSdxl,
    safetensorsBytes({
      'model.diffusion_model.input_blocks.0.0.weight': [4, 4, 3, 3],
      'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight': [8, 4],
    }),
  )
  const uncaptioned = path.join(dir, '5_dog')
  mkdirSync(uncaptioned)
  for (let i = 0; i < 3; i++) writeFileSync(path.join(uncaptioned, `${i}.png`), 'x')
  const empty = path.join(dir, 'empty')
  mkdirSync(empty)
  const blocked = path.join(notSdxl, 'out')
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  await page.goto(server.url)
  await openDraft(page, server.dataDir, {
    ...BASE,
    base_model: notSdxl,
    dataset: {
      subsets: [
        { image_dir: uncaptioned, num_repeats: 10 },
        { image_dir: empty, num_repeats: 1 },
        { image_dir: path.join(dir, 'missing'), num_repeats: 1 },
      ],
    },
    saving: { output_dir: blocked, output_name: 'cat' },
  })
  const shown = await shownChecks(page)
  const rules = shown.map((s) => s.rule)
  for (const rule of [
    'model.file',
    'dataset.folder',
    'dataset.captions',
    'dataset.repeats_name',
    'output.folder',
  ])
    expect(rules, rule).toContain(rule)
  const values = paramValues(BASE, [
    notSdxl,
    uncaptioned,
    empty,
    path.join(dir, 'missing'),
    blocked,
    '0.png, 1.png, 2.png',
    '.txt',
  ])
  for (const s of shown) expect(englishWords(s.text, values), `${s.rule}: ${s.text}`).toEqual([])
  // The model note and the dataset summary are in Russian too.
  await expect(page.getByTestId('train-steps')).toContainText('Шагов за эпоху')
})

test('the whole Train page reads in Russian', async ({ page, server }) => {
  test.setTimeout(180_000)
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  await page.goto(server.url)
  await expect(page.getByTestId('train-sections')).toBeVisible({ timeout: 30_000 })
  await openEveryTrainControl(page)
  await expect(page.getByTestId('train-valid')).toBeVisible({ timeout: 30_000 })
  // Everything the page shows, except what the user typed and the files and command (sd-scripts' own).
  const text = await page.evaluate(() => {
    const clone = document.body.cloneNode(true) as HTMLElement
    for (const el of Array.from(
      // Style sheets Mantine puts in the page (responsive grids) are not text a user reads.
      clone.querySelectorAll('pre, code, input, textarea, style, script, [data-testid="vram-gpu"]'),
    ))
      el.remove()
    return clone.innerText
  })
  const gpu = 'NVIDIA GeForce RTX 4090'
  expect(englishWords(text, { gpu, name: 'SDXL Studio', prompt: 'a photo' })).toEqual([])
})
