/// <reference lib="dom" />
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { writeImage } from '../helpers/dataset-images'

/** A dataset folder with captions (one missing), several aspect ratios, and a class folder. */
async function dataset() {
  const root = mkdtempSync(path.join(tmpdir(), 'sdxl-dataset-e2e-'))
  const dir = path.join(root, '10_sks dog')
  const sizes: Array<[number, number]> = [
    [1024, 1024],
    [1024, 1024],
    [832, 1216],
    [1216, 832],
    [640, 480],
  ]
  for (const [i, [w, h]] of sizes.entries()) {
    await writeImage(path.join(dir, `dog${i}.png`), {
      format: 'png',
      width: w,
      height: h,
      color: `#${i}0${i}0a0`,
    })
    if (i < 4) writeFileSync(path.join(dir, `dog${i}.txt`), `dog, grass, photo ${i}\n`)
  }
  const reg = path.join(root, 'reg')
  mkdirSync(reg)
  for (let i = 0; i < 3; i++)
    await writeImage(path.join(reg, `r${i}.jpg`), {
      format: 'jpeg',
      width: 1024,
      height: 1024,
      color: `#a0${i}0${i}0`,
    })
  return { root, dir, reg }
}

/** Buttons and inputs inside the page are not cut off, and nothing makes the page scroll sideways. */
async function expectLayoutFits(page: Page) {
  const problems = await page.evaluate(() => {
    const out: string[] = []
    if (document.documentElement.scrollWidth > window.innerWidth + 1)
      out.push(`page scrolls sideways: ${document.documentElement.scrollWidth}px`)
    for (const el of Array.from(
      document.querySelectorAll<HTMLElement>(
        '[data-testid="dataset-page"] :is(button, label, .mantine-SegmentedControl-innerLabel, .mantine-Tabs-tabLabel)',
      ),
    )) {
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0) continue
      if (el.scrollWidth > el.clientWidth + 2)
        out.push(`clipped: "${el.innerText.slice(0, 40)}" (${el.scrollWidth} > ${el.clientWidth})`)
      if (r.right > window.innerWidth + 1) out.push(`off screen: "${el.innerText.slice(0, 40)}"`)
    }
    return out
  })
  expect(problems).toEqual([])
}

test.use({ viewport: { width: 1280, height: 720 } })

test('scan a folder: summary, steps, buckets, problems; edit, bulk-edit and undo captions', async ({
  page,
  server,
}) => {
  const { dir, reg } = await dataset()
  await page.goto(`${server.url}#/dataset`)
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Dataset')
  await page.getByTestId('dataset-add-folder').click()
  await page.getByTestId('dataset-folder-0-dir').fill(dir)
  // The folder name gives the repeats.
  await expect(page.getByTestId('dataset-folder-0-repeats')).toHaveValue('10')
  await expect(page.getByTestId('dataset-subset-0-images')).toHaveText('5')
  await expect(page.getByTestId('dataset-subset-0-captioned')).toHaveText('4')
  // 5 images × 10 repeats in 4 buckets at batch 1, 10 epochs.
  await expect(page.getByTestId('dataset-batches')).toHaveText('50')
  await expect(page.getByTestId('dataset-total-steps')).toHaveText('500')
  await expectLayoutFits(page)

  // A class folder: balanced to the 50 training images.
  await page.getByTestId('dataset-add-reg').click()
  await page.getByTestId('dataset-folder-1-dir').fill(reg)
  await expect(page.getByTestId('dataset-balance')).toHaveAttribute('data-balance', 'reg_short')
  await expect(page.getByTestId('dataset-batches')).toHaveText('100')
  await page.getByTestId('dataset-folder-1-remove').click()
  await expect(page.getByTestId('dataset-batches')).toHaveText('50')

  await page.getByTestId('dataset-setting-batch_size').fill('4')
  await page.getByTestId('dataset-tab-buckets').click()
  await expect(page.getByTestId('bucket-1024x1024')).toContainText('20')
  await expect(page.getByTestId('bucket-640x448')).toBeVisible()
  await expectLayoutFits(page)

  await page.getByTestId('dataset-tab-problems').click()
  await expect(page.getByTestId('problem-caption_missing')).toContainText('No caption file')
  await expectLayoutFits(page)

  // Caption editor: thumbnails, edit one caption, save on blur.
  await page.getByTestId('dataset-tab-captions').click()
  const card = page.getByTestId('caption-card-dog0.png')
  await expect(card.getByTestId('caption-thumb')).toBeVisible()
  await card.getByTestId('caption-text').fill('sks dog, grass, собака')
  await card.getByTestId('caption-save').click()
  await expect(card.getByTestId('caption-save')).toHaveText('Saved')
  expect(readFileSync(path.join(dir, 'dog0.txt'), 'utf8')).toBe('sks dog, grass, собака\n')
  await expectLayoutFits(page)

  // Trigger word first in every caption: preview, apply, check the files, then undo.
  await page.getByTestId('caption-bulk-kind').getByText('Trigger word first').click()
  await page.getByTestId('caption-bulk-tag').fill('sks dog')
  await page.getByTestId('caption-bulk-preview').click()
  await expect(page.getByTestId('caption-bulk-result')).toContainText('4 captions would change')
  await page.getByTestId('caption-bulk-apply').click()
  await expect(page.getByTestId('caption-bulk-done')).toContainText('4 captions changed')
  expect(readFileSync(path.join(dir, 'dog1.txt'), 'utf8')).toBe('sks dog, dog, grass, photo 1\n')
  expect(readFileSync(path.join(dir, 'dog4.txt'), 'utf8')).toBe('sks dog\n')
  await expect(page.getByTestId('caption-card-dog1.png').getByTestId('caption-text')).toHaveValue(
    'sks dog, dog, grass, photo 1',
  )
  await page.getByTestId('caption-history').getByRole('button', { name: 'Undo' }).first().click()
  await expect(page.getByTestId('caption-undo-result')).toContainText('4 captions restored')
  expect(readFileSync(path.join(dir, 'dog1.txt'), 'utf8')).toBe('dog, grass, photo 1\n')
  await expect(page.getByTestId('caption-card-dog1.png').getByTestId('caption-text')).toHaveValue(
    'dog, grass, photo 1',
  )

  // The page remembers its folders across a reload.
  await page.reload()
  await expect(page.getByTestId('dataset-folder-0-dir')).toHaveValue(dir)
})

test('hostile settings show field errors, never a blank page', async ({ page, server }) => {
  const { dir } = await dataset()
  await page.goto(`${server.url}#/dataset`)
  await page.getByTestId('dataset-add-folder').click()
  await page.getByTestId('dataset-folder-0-dir').fill(dir)
  await expect(page.getByTestId('dataset-batches')).toHaveText('50')
  for (const value of ['0', '-1', '1.5', '1e-4', 'abc', '', '9'.repeat(40)]) {
    await page.getByTestId('dataset-setting-batch_size').fill(value)
    await expect(page.getByTestId('dataset-page')).toBeVisible()
  }
  await page.getByTestId('dataset-setting-batch_size').fill('2')
  await page.getByTestId('dataset-setting-bucket_reso_steps').fill('50')
  await expect(page.getByText('A multiple of 32')).toBeVisible()
  await page.getByTestId('dataset-setting-bucket_reso_steps').fill('64')
  await page.getByTestId('dataset-folder-0-dir').fill(`${dir}/Папка ${'x'.repeat(300)}`)
  await page.getByTestId('dataset-tab-problems').click()
  await expect(page.getByTestId('problem-folder_missing')).toBeVisible()
})

test('the Dataset page in Russian: every tab translated and fitting 1280×720', async ({ page, server }) => {
  const { dir } = await dataset()
  await page.goto(`${server.url}#/settings`)
  await page.getByTestId('settings-language-ru').click()
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru')
  await page.getByTestId('nav-dataset').click()
  await page.getByTestId('dataset-add-folder').click()
  await page.getByTestId('dataset-folder-0-dir').fill(dir)
  await expect(page.getByTestId('dataset-batches')).toHaveText('50')
  // Words that may stay Latin: names of formats, tools and options, and what the user's files contain.
  const allowed = new Set([
    'sd-scripts',
    'sd',
    'scripts',
    'png',
    'jpg',
    'jpeg',
    'webp',
    'bmp',
    'txt',
    'gif',
    'WebP',
    'JPEG',
    'EXIF',
    'UTF',
    'BOM',
    'CLIP',
    'WD14',
    'WD',
    'Hugging',
    'Face',
    'huggingface',
    'co',
    'onnx',
    'onnxruntime',
    'BLIP',
    'Google',
    'timm',
    'fairscale',
    'keep_tokens',
    'finetune',
    'tag_images_by_wd14_tagger.py',
    'v0.10.1',
    'SmilingWolf',
    'wd',
    'v1',
    'v2',
    'convnext',
    'tagger',
    'SDXL',
    'sks',
    'dog',
    'grass',
    'photo',
  ])
  for (const tab of ['summary', 'buckets', 'problems', 'captions', 'tagging']) {
    await page.getByTestId(`dataset-tab-${tab}`).click()
    await page.waitForTimeout(300)
    const text = (await page.getByTestId('dataset-page').innerText()).split(dir).join(' ')
    const latin = [...new Set(text.match(/[A-Za-z][A-Za-z0-9_.-]*/g) ?? [])].filter(
      (w) =>
        !allowed.has(w) &&
        !/^dog\d|^r\d|^\d/.test(w) &&
        !w.split(/[._-]/).every((p) => allowed.has(p) || /^\d*$/.test(p)),
    )
    expect(latin, `English words on the ${tab} tab`).toEqual([])
    await expectLayoutFits(page)
  }
})
