import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { trainingMetadata, writeLora } from '../helpers/lora'
import { makeLoraWorld } from '../integration/lora-world'
import type { TrainingWorld } from '../integration/training-helpers'
import { expect, test } from './fixtures'
import { repoRoot, type RunningServer } from './server'

/*
 * The LoRA tools page at 1280×720, in English and Russian: inspect a generated SDXL LoRA, carry its
 * training settings to a preset, resize it with the stand-in resize_lora.py (an existing-install
 * environment whose networks/ holds the stand-ins), and see the run finish with the lower rank.
 */

/** Registers the world's install in the server's data folder with the CLI, as a user would. */
function useWorld(server: RunningServer, w: TrainingWorld): void {
  const cli = path.join(repoRoot, 'electron/cli/main.ts')
  const args = ['--import', 'tsx', cli, 'env', 'use-existing', w.installDir, '--name', 'standin']
  const env = { ...process.env, SDXL_STUDIO_DATA_DIR: server.dataDir }
  const r = spawnSync(process.execPath, args, { cwd: repoRoot, env, encoding: 'utf8' })
  // Exit 1 only says the stand-in has no torch; it is registered and active either way.
  expect(r.status, r.stderr).toBeLessThanOrEqual(1)
}

/** Nothing on the page is wider than the window (no sideways scrolling, no clipped table). */
async function expectNoHorizontalOverflow(page: Page) {
  // A string, so this file needs no DOM types: it runs in the page.
  const [scroll, client] = (await page.evaluate(
    '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
  )) as [number, number]
  expect(scroll).toBeLessThanOrEqual(client)
}

const strings = {
  en: {
    tabs: ['Inspect', 'Resize', 'Merge', 'Extract'],
    network: 'LoRA',
    saved: /Saved as the preset "cat-lora \(from LoRA\)"/,
    rankError: 'A whole number from 1 to 1024.',
    ready: 'Ready to start.',
    done: 'Done',
    result: 'Result: LoRA, rank 4, alpha 2, 8 modules',
    notLower: "The new rank 16 is not below the file's rank 16",
  },
  ru: {
    tabs: ['Просмотр', 'Ранг', 'Слияние', 'Извлечение'],
    network: 'LoRA',
    saved: /Сохранено как пресет «cat-lora \(из LoRA\)»/,
    rankError: 'Целое число от 1 до 1024.',
    ready: 'Можно запускать.',
    done: 'Готово',
    result: 'Итог: LoRA, ранг 4, альфа 2, модулей: 8',
    notLower: 'Новый ранг 16 не меньше ранга файла 16',
  },
} as const

for (const lang of ['en', 'ru'] as const) {
  test(`LoRA tools at 1280×720 (${lang}): inspect, save the settings as a preset, resize with the stand-in`, async ({
    page,
    server,
  }) => {
    const s = strings[lang]
    const w = makeLoraWorld('lora-e2e-')
    useWorld(server, w)
    const dir = path.join(w.root, 'мои лоры')
    mkdirSync(dir)
    const file = writeLora(path.join(dir, 'cat.safetensors'), {
      rank: 16,
      alpha: 8,
      metadata: trainingMetadata({ ss_network_dim: '16', ss_network_alpha: '8' }),
    })
    await page.setViewportSize({ width: 1280, height: 720 })
    await page.goto(server.url)
    if (lang === 'ru') {
      await page.getByTestId('nav-settings').click()
      await page.getByTestId('settings-language-ru').click()
    }
    await page.getByTestId('nav-lora').click()
    for (const [i, tool] of (['inspect', 'resize', 'merge', 'extract'] as const).entries())
      await expect(page.getByTestId(`lora-tab-${tool}`)).toHaveText(s.tabs[i] as string)

    // Inspect.
    await page.getByTestId('lora-inspect-file').fill(file)
    await page.getByTestId('lora-inspect-run').click()
    await expect(page.getByTestId('lora-rank')).toHaveText('16')
    await expect(page.getByTestId('lora-alpha')).toHaveText('8')
    await expect(page.getByTestId('lora-network')).toHaveText(s.network)
    await expect(page.getByTestId('lora-modules')).toHaveText('8')
    await expect(page.getByTestId('lora-blocks').locator('tbody tr')).toHaveCount(7)
    await expect(page.getByTestId('lora-training')).toContainText('ss_optimizer')
    await expectNoHorizontalOverflow(page)
    await page.screenshot({ path: test.info().outputPath(`lora-inspect-${lang}.png`), fullPage: true })
    await page.getByTestId('lora-use-for-training').click()
    await expect(page.getByTestId('lora-preset-saved')).toContainText(s.saved)

    // A missing file says so in words.
    await page.getByTestId('lora-inspect-file').fill(path.join(dir, 'нет.safetensors'))
    await page.getByTestId('lora-inspect-run').click()
    await expect(page.getByTestId('lora-inspect-error')).toContainText('нет.safetensors')

    // Every form holds its layout at 1280×720 in this language.
    for (const tool of ['merge', 'extract'] as const) {
      await page.getByTestId(`lora-tab-${tool}`).click()
      await expect(page.getByTestId(`lora-${tool}-run`)).toBeVisible()
      await expectNoHorizontalOverflow(page)
      await page.screenshot({ path: test.info().outputPath(`lora-${tool}-${lang}.png`), fullPage: true })
    }
    await page.getByTestId('lora-tab-inspect').click()

    // Resize: hostile ranks, a rank not lower, then a real run.
    await page.getByTestId('lora-inspect-file').fill(file)
    await page.getByTestId('lora-inspect-run').click()
    await page.getByTestId('lora-resize-this').click()
    await expect(page.getByTestId('lora-resize-model')).toHaveValue(file)
    const rank = page.getByTestId('lora-resize-rank')
    for (const bad of ['0', '-1', '1.5', '5000']) {
      await rank.fill(bad)
      await expect(page.getByText(s.rankError)).toBeVisible()
      await expect(page.getByTestId('lora-resize-run')).toBeDisabled()
    }
    await rank.fill('16')
    await expect(page.getByTestId('lora-resize-problems')).toContainText(s.notLower)
    await rank.fill('4')
    await expect(page.getByTestId('lora-resize-ready')).toHaveText(s.ready)
    await expect(page.getByTestId('lora-resize-command')).toContainText('resize_lora.py')
    await expectNoHorizontalOverflow(page)
    await page.getByTestId('lora-resize-run').click()
    const job = page.locator('[data-testid^="lora-job-2"]').first()
    await expect(job.getByTestId('lora-job-state')).toHaveText(s.done, { timeout: 30_000 })
    await expect(job.getByTestId('lora-job-result')).toHaveText(s.result)
    await expect(job.getByTestId('lora-job-log')).toContainText('resizing complete')
    expect(existsSync(path.join(dir, 'cat-r4.safetensors'))).toBe(true)
    await expectNoHorizontalOverflow(page)
    await page.screenshot({ path: test.info().outputPath(`lora-resize-${lang}.png`), fullPage: true })

    // The forms keep what was typed across pages.
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('nav-lora').click()
    await expect(page.getByTestId('lora-resize-rank')).toHaveValue('4')
  })
}

test('Runs page: a logging run shows its TensorBoard scalars; Open in TensorBoard explains a missing package', async ({
  page,
  server,
}) => {
  const w = makeLoraWorld('tb-e2e-')
  useWorld(server, w)
  // Event files written by torch.utils.tensorboard (tests/fixtures/tensorboard), where the run logs.
  const logdir = path.join(w.root, 'logs')
  cpSync(
    path.join(repoRoot, 'tests/fixtures/tensorboard/torch-style'),
    path.join(logdir, '20260101120000', 'network_train'),
    {
      recursive: true,
    },
  )
  await page.setViewportSize({ width: 1280, height: 720 })
  // Starting a run from a description is a developer tool: turned on in Settings, as a user does.
  await developerMode(page, server.url)
  await page.goto(`${server.url}#/runs`)
  await page.getByTestId('new-run-json').fill(
    JSON.stringify({
      command: [w.venvPython, '-c', 'pass'],
      cwd: w.root,
      name: 'logged',
      config: { logging: { logging_dir: logdir } },
    }),
  )
  await page.getByTestId('new-run-start').click()
  const card = page.getByTestId('tb-card')
  await expect(card).toBeVisible({ timeout: 20_000 })
  await expect(page.getByTestId('tb-series-loss')).toHaveAttribute('data-points', '12')
  await expect(page.getByTestId('tb-series-lr')).toHaveAttribute('data-points', '12')
  await expect(page.getByTestId('tb-series-epoch')).toHaveAttribute('data-points', '3')
  await expect(page.getByTestId('tb-chart-epoch')).toContainText('Average loss per epoch')
  await expectNoHorizontalOverflow(page)
  // The stand-in environment's Python has no tensorboard: the message says how to install it.
  await page.getByTestId('tb-open').click()
  await expect(page.getByTestId('tb-error')).toContainText('python -m pip install tensorboard')
  await page.screenshot({ path: test.info().outputPath('runs-tensorboard.png'), fullPage: true })
})

/** Turns on Settings → developer tools (the Runs page's "start from a description"). */
async function developerMode(page: Page, url: string): Promise<void> {
  await page.goto(`${url}#/settings`)
  const toggle = page.getByTestId('settings-developer')
  await toggle.click({ force: true })
  await expect(toggle).toBeChecked()
}
