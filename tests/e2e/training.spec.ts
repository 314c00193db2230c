import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { makeWorld, type TrainingWorld } from '../integration/training-helpers'
import { expect, test } from './fixtures'
import { repoRoot, type RunningServer } from './server'

/*
 * A run started from the app: fill in the Train page, press Start training. Without an environment the
 * refusal shows on the page; with one (an existing install whose scripts wrap the stand-in trainer) the
 * run starts and the Runs page opens with it.
 */

function useExisting(server: RunningServer, w: TrainingWorld) {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'electron/cli/main.ts'),
      'env',
      'use-existing',
      w.installDir,
      '--name',
      'standin',
    ],
    { cwd: repoRoot, env: { ...process.env, SDXL_STUDIO_DATA_DIR: server.dataDir }, encoding: 'utf8' },
  )
  // Exit 1 only says the stand-in has no torch; it is registered and active either way.
  expect(r.status, r.stderr).toBeLessThanOrEqual(1)
  expect(r.stdout).toContain('Registered "standin"')
}

// A run long enough to keep the queue busy while the test looks at the Train page again.
test.use({ serverOptions: { env: { STANDIN_STEPS: '200', STANDIN_DELAY: '0.2' } } })

test('Start training: refused without an environment, then starts, opens Runs, and queues the next', async ({
  page,
  server,
}) => {
  test.setTimeout(120_000)
  const w = makeWorld('training-e2e-')
  await page.goto(server.url)
  // An empty form: every blocking check is listed where the button is.
  await page.getByTestId('train-start').click()
  await expect(page.getByTestId('train-start-refused')).toContainText('Choose the SDXL base model')

  await page.getByTestId('train-preset').click()
  await page.getByRole('option', { name: 'SDXL LoRA · 12 GB' }).click()
  await page.getByTestId('field-base_model').fill(w.model)
  await page.getByTestId('train-add-folder').click()
  await page.getByTestId('field-dataset.subsets.0.image_dir').fill(w.imageDir)
  await page.getByTestId('field-saving.output_dir').fill(w.outputDir)
  await expect(page.getByTestId('train-valid')).toHaveText('Ready', { timeout: 30_000 })
  await expect(page.getByTestId('train-start')).toHaveText('Start training')

  await page.getByTestId('train-start').click()
  const refused = page.getByTestId('train-start-refused')
  await expect(refused).toContainText('No sd-scripts environment is set up')
  await expect(refused.getByRole('button', { name: 'Open Environment' })).toBeVisible()

  useExisting(server, w)
  await page.getByTestId('train-start').click()
  await expect(page).toHaveURL(/#\/runs$/)
  await expect(page.getByText('sdxl-model (lora)').first()).toBeVisible({ timeout: 20_000 })

  // While it trains, the same button queues the next run.
  await page.getByTestId('nav-train').click()
  await expect(page.getByTestId('train-start')).toHaveText('Add to queue')
  await expect(page.getByTestId('train-start-busy')).toBeVisible()
})
