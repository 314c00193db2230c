import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeImage } from '../helpers/dataset-images'
import { expect, test } from './fixtures'

/*
 * The Train page shows the dataset scan next to the image folders: images, steps per epoch and in
 * all as sd-scripts batches them, the problems, and a way to the Dataset page; the VRAM gauge sizes
 * activations for the largest bucket and says so.
 */

/** Three small images (no upscaling: buckets 640×512 and 576×512), one without a caption. */
async function smallImages() {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sdxl-train-scan-')), '10_cat')
  await writeImage(path.join(dir, 'a.png'), { format: 'png', width: 640, height: 512 })
  await writeImage(path.join(dir, 'b.png'), { format: 'png', width: 640, height: 512, color: '#c08040' })
  await writeImage(path.join(dir, 'c.png'), { format: 'png', width: 576, height: 512, color: '#40c080' })
  writeFileSync(path.join(dir, 'a.txt'), 'a cat\n')
  writeFileSync(path.join(dir, 'b.txt'), 'a cat, sitting\n')
  return dir
}

const gib = (text: string | null) => Number((text ?? '').replace(',', '.'))

test('the dataset summary and the gauge follow the scan of the image folders', async ({ page, server }) => {
  test.setTimeout(180_000)
  const dir = await smallImages()
  await page.goto(server.url)
  await expect(page.getByTestId('train-sections')).toBeVisible({ timeout: 30_000 })
  // The fresh form starts from the preset for the (stand-in) GPU; then batch 1 and 4 epochs.
  await expect(page.getByTestId('train-preset-suggested')).toBeVisible({ timeout: 30_000 })
  await page.getByTestId('field-training.batch_size').fill('1')
  await page.getByTestId('field-training.max_train_epochs').fill('4')
  await page.getByTestId('train-add-folder').click()
  const basis = page.getByTestId('vram-basis')
  await expect(basis).toHaveAttribute('data-basis', 'nominal')
  await expect(basis).toContainText('1024 × 1024')
  const peak = page.getByTestId('vram-peak')
  const nominalPeak = gib(await peak.textContent())

  await page.getByTestId('field-dataset.subsets.0.image_dir').fill(dir)

  // 2 images × 10 repeats in the 640×512 bucket and 1 × 10 in 576×512, batch 1: 30 steps per epoch.
  await expect(page.getByTestId('train-scan-images')).toHaveText('3', { timeout: 30_000 })
  await expect(page.getByTestId('train-scan-steps-per-epoch')).toHaveText('30')
  await expect(page.getByTestId('train-scan-total-steps')).toHaveText('120')
  await expect(page.getByTestId('train-scan-largest-bucket')).toHaveText('640 × 512')
  await expect(page.getByTestId('train-steps')).toHaveText('30 steps per epoch; 120 steps in 4 epochs.')
  const missing = page.getByTestId('train-scan-problem-caption_missing')
  await expect(missing).toContainText('1 file:')
  await expect(missing).toHaveAttribute('data-severity', 'warning')

  // The gauge sizes activations for the largest bucket, says so, and predicts less than at 1024².
  await expect(basis).toHaveAttribute('data-basis', 'largest_bucket')
  await expect(basis).toContainText('640 × 512')
  await expect(basis).toContainText('not the nominal 1024 × 1024')
  // (The peak itself drops only where activations set it; for this preset another phase may.)
  await expect.poll(async () => gib(await peak.textContent())).toBeLessThanOrEqual(nominalPeak)

  // A larger batch: the scan answers again with fewer steps.
  await page.getByTestId('field-training.batch_size').fill('2')
  await expect(page.getByTestId('train-scan-steps-per-epoch')).toHaveText('15', { timeout: 30_000 })

  // A caption written: the warning goes on the next scan.
  writeFileSync(path.join(dir, 'c.txt'), 'a cat, lying\n')
  await page.getByTestId('field-training.max_train_epochs').fill('5')
  await expect(page.getByTestId('train-scan-total-steps')).toHaveText('75', { timeout: 30_000 })
  await expect(missing).toHaveCount(0)
  await expect(page.getByTestId('train-scan-clean')).toBeVisible()

  // The Dataset page opens with the same folder and settings, and counts the same steps.
  await page.getByTestId('train-open-dataset').click()
  await expect(page.getByTestId('dataset-page')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('dataset-folder-0-dir')).toHaveValue(dir)
  await expect(page.getByTestId('dataset-steps-per-epoch')).toHaveText('15', { timeout: 30_000 })
  await expect(page.getByTestId('dataset-total-steps')).toHaveText('75')
})

test('in Russian, the summary and the gauge note read in Russian', async ({ page, server }) => {
  test.setTimeout(120_000)
  const dir = await smallImages()
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  await page.goto(server.url)
  await expect(page.getByTestId('train-sections')).toBeVisible({ timeout: 30_000 })
  await page.getByTestId('train-add-folder').click()
  await page.getByTestId('field-dataset.subsets.0.image_dir').fill(dir)
  await expect(page.getByTestId('train-scan-largest-bucket')).toHaveText('640 × 512', { timeout: 30_000 })
  await expect(page.getByTestId('train-scan')).toContainText('Шагов за эпоху')
  await expect(page.getByTestId('train-scan-problem-caption_missing')).toContainText('1 файл:')
  await expect(page.getByTestId('vram-basis')).toContainText('самая большая корзина, 640 × 512')
  await expect(page.getByTestId('train-open-dataset')).toHaveText('Открыть на странице «Датасет»')
})
