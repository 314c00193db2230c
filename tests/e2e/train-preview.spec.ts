import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeImage } from '../helpers/dataset-images'
import { writeSdxlCheckpoint } from '../helpers/safetensors'
import { expect, test } from './fixtures'
import { chooseOption } from './train-page'

/*
 * Settings that kohya_ss users reach for and that the old form hid (resolution, LR scheduler with
 * warmup, sample prompts, extra sd-scripts options) end up in the files sd-scripts will read.
 */

test('resolution, scheduler with warmup, a sample prompt and an extra option reach the rendered files', async ({
  page,
  server,
}) => {
  test.setTimeout(180_000)
  const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-train-preview-'))
  const model = path.join(dir, 'sd_xl_base.safetensors')
  writeSdxlCheckpoint(model)
  const images = path.join(dir, '10_cat')
  for (let i = 0; i < 2; i++)
    await writeImage(path.join(images, `${i}.png`), { format: 'png', width: 1024, height: 1024 })
  const out = path.join(dir, 'out')
  mkdirSync(out)

  await page.goto(server.url)
  await expect(page.getByTestId('train-sections')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('train-preset-suggested')).toBeVisible({ timeout: 30_000 })
  await page.getByTestId('field-base_model').fill(model)
  await page.getByTestId('train-add-folder').click()
  await page.getByTestId('field-dataset.subsets.0.image_dir').fill(images)
  await page.getByTestId('field-saving.output_dir').fill(out)

  await page.getByTestId('field-dataset.resolution.width').fill('896')
  await page.getByTestId('field-dataset.resolution.height').fill('1152')
  await chooseOption(page, 'field-optimizer.lr_scheduler', 'cosine_with_restarts', true)
  await page.getByTestId('field-optimizer.lr_warmup_steps').fill('150')

  await page.getByTestId('section-toggle-samples').click()
  await page.getByTestId('field-sampling.enabled').check()
  await page.getByTestId('field-sampling.every_n_epochs').fill('2')
  await page.getByTestId('prompt-add').click()
  await page.getByTestId('field-sampling.prompts.0.prompt').fill('a photo of sks cat on a sofa')
  await page.getByTestId('field-sampling.prompts.0.negative').fill('blurry')

  await page.getByTestId('section-toggle-advanced').click()
  await page.getByTestId('extra-new-name').fill('ip_noise_gamma')
  await page.getByTestId('extra-new-value').fill('0.05')
  await page.getByTestId('extra-add').click()
  await expect(page.getByTestId('extra-row-ip_noise_gamma')).toBeVisible()

  await expect(page.getByTestId('train-valid')).toHaveText('Ready', { timeout: 30_000 })
  await page.getByTestId('preview-tab-config.toml').click()
  const config = page.getByTestId('preview-config.toml')
  await expect(config).toContainText('lr_scheduler = "cosine_with_restarts"')
  await expect(config).toContainText('lr_warmup_steps = 150')
  await expect(config).toContainText('ip_noise_gamma = 0.05')
  await expect(config).toContainText('sample_every_n_epochs = 2')
  await page.getByTestId('preview-tab-dataset.toml').click()
  await expect(page.getByTestId('preview-dataset.toml')).toContainText(/resolution = \[\s*896,\s*1152\s*\]/)
  await page.getByTestId('preview-tab-prompts.txt').click()
  await expect(page.getByTestId('preview-prompts.txt')).toContainText('a photo of sks cat on a sofa')
  await expect(page.getByTestId('preview-prompts.txt')).toContainText('--n blurry')
})
