import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect, test } from './fixtures'
import { chooseOption } from './train-page'
import { repoRoot } from './server'
import { writeImage } from '../helpers/dataset-images'
import { writeSdxlCheckpoint } from '../helpers/safetensors'

/** A tiny safetensors file with SDXL key names, a dataset folder of real images and an output folder. */
async function inputs() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sdxl-train-e2e-'))
  const model = path.join(dir, 'sd_xl_base.safetensors')
  writeSdxlCheckpoint(model)
  const images = path.join(dir, 'data', '10_sks dog')
  mkdirSync(images, { recursive: true })
  for (let i = 0; i < 4; i++) {
    // Real images: the dataset scan reads their sizes for the buckets and steps.
    await writeImage(path.join(images, `${i}.png`), { format: 'png', width: 1024, height: 1024 })
    writeFileSync(path.join(images, `${i}.txt`), 'sks dog')
  }
  const out = path.join(dir, 'out')
  mkdirSync(out)
  return { model, images, out }
}

test('pick a preset, break a rule, see the message, apply the fix, see the command', async ({
  page,
  server,
}) => {
  const { model, images, out } = await inputs()
  await page.goto(server.url)
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Train')

  await chooseOption(page, 'train-preset', 'SDXL LoRA · 12 GB')
  await expect(page.getByTestId('train-preset-rationale')).toContainText('12 GB')

  await page.getByTestId('field-base_model').fill(model)
  await page.getByTestId('train-add-folder').click()
  // Pick the dataset folder with the server-side browser: its name gives repeats and class tokens.
  const subset = page.getByTestId('train-subset-0')
  await subset.getByLabel('Image folder').fill(path.dirname(images))
  await page.getByTestId('browse-dataset.subsets.0.image_dir').click()
  await expect(page.getByTestId('browse-path')).toHaveText(path.dirname(images))
  await page.getByRole('dialog').getByText('10_sks dog').click()
  await expect(page.getByTestId('browse-path')).toHaveText(images)
  await expect(page.getByRole('dialog')).toContainText('4 images in this folder')
  await page.getByTestId('browse-choose').click()
  await expect(subset.getByLabel('Image folder')).toHaveValue(images)
  await expect(subset.getByLabel('Class tokens')).toHaveValue('sks dog')
  await expect(subset.getByLabel('Repeats')).toHaveValue('10')
  await page.getByTestId('field-saving.output_dir').fill(out)

  await expect(page.getByTestId('train-model-ok')).toContainText('SDXL base')
  await expect(page.getByTestId('train-steps')).toContainText('40 steps per epoch')
  await expect(page.getByTestId('train-valid')).toHaveText('Ready')

  // Break a rule: text encoder outputs are cached (preset), so the text encoders cannot be trained.
  await page.getByLabel('Train U-Net only').uncheck()
  const issue = page.getByTestId('issue-te_cache.needs_unet_only')
  await expect(issue).toContainText('Train U-Net only')
  await expect(page.getByTestId('train-valid')).toHaveText('Needs changes')

  await page.getByTestId('fix-te_cache.needs_unet_only').click()
  await expect(issue).toHaveCount(0)
  await expect(page.getByLabel('Train U-Net only')).toBeChecked()
  await expect(page.getByTestId('train-valid')).toHaveText('Ready')

  const command = page.getByTestId('train-command')
  await expect(command).toContainText('sdxl_train_network.py')
  await expect(command).toContainText('--config_file')
  await expect(command).toContainText('--dataset_config')
})

test('imports a kohya_ss config and reports what it could not map', async ({ page, server }) => {
  await page.goto(server.url)
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByTestId('train-import-kohya').click(),
  ])
  await chooser.setFiles(path.join(repoRoot, 'tests/fixtures/kohya/lycoris-locon-strings.json'))
  await expect(page.getByTestId('train-import-note')).toContainText('my_custom_field')
  await expect(page.getByTestId('train-type').getByRole('radio', { name: 'LoCon' })).toBeChecked()
  await expect(page.getByTestId('train-command')).toContainText('sdxl_train_network.py')
})

test('shows checks and fixes in Russian', async ({ page, server }) => {
  await page.goto(server.url)
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-language-ru').click()
  await page.getByTestId('nav-train').click()
  // The first check waits for the server (and the preset chosen for the GPU): generous on a busy machine.
  await expect(page.getByTestId('issue-model.missing')).toContainText('Выберите базовую модель SDXL', {
    timeout: 30_000,
  })
  await page.getByTestId('section-toggle-memory').click()
  await chooseOption(page, 'field-memory.attention', 'Нет (намного больше памяти)')
  await expect(page.getByTestId('fix-attention.none')).toHaveText('Исправить: Использовать SDPA')
  await page.getByTestId('fix-attention.none').click()
  await expect(page.getByTestId('issue-attention.none')).toHaveCount(0)
})

test('saves, renames, duplicates and deletes a user preset', async ({ page, server }) => {
  await page.goto(server.url)
  await chooseOption(page, 'train-preset', 'SDXL LoRA · 8 GB')
  const presetDir = path.join(server.dataDir, 'presets')

  await page.getByTestId('train-preset-name').fill('My dog')
  await page.getByTestId('train-save-preset').click()
  await expect(page.getByTestId('train-preset-saved')).toHaveText('Saved as "My dog".')
  await expect(page.getByTestId('train-preset')).toHaveValue('My dog (yours)')
  expect(readdirSync(presetDir)).toHaveLength(1)

  await page.getByTestId('train-preset-name').fill('My dog v2')
  await page.getByTestId('train-rename-preset').click()
  await expect(page.getByTestId('train-preset-saved')).toHaveText('Renamed to "My dog v2".')
  await expect(page.getByTestId('train-preset')).toHaveValue('My dog v2 (yours)')

  await page.getByTestId('train-preset-name').fill('')
  await page.getByTestId('train-duplicate-preset').click()
  await expect(page.getByTestId('train-preset-saved')).toHaveText('Copied as "My dog v2 (copy)".')
  expect(readdirSync(presetDir)).toHaveLength(2)

  await page.getByTestId('train-delete-preset').click()
  await expect(page.getByTestId('train-preset-saved')).toHaveText('Deleted "My dog v2 (copy)".')
  expect(readdirSync(presetDir)).toHaveLength(1)
  const left = JSON.parse(readFileSync(path.join(presetDir, readdirSync(presetDir)[0]!), 'utf8')) as {
    name: string
  }
  expect(left.name).toBe('My dog v2')
})
