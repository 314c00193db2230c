import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { englishWords } from '../helpers/english'
import { makeWorld } from '../integration/training-helpers'
import { expect, test } from './fixtures'
import { chooseOption } from './train-page'
import { repoRoot, type RunningServer } from './server'

/*
 * A run started from the app: fill in the Train page, press Start training. Without an environment the
 * refusal shows on the page; with one (an existing install whose scripts wrap the stand-in trainer) the
 * run starts and the Runs page opens with it.
 */

function useExisting(server: RunningServer, folder: string, name = 'standin') {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'electron/cli/main.ts'),
      'env',
      'use-existing',
      folder,
      '--name',
      name,
    ],
    { cwd: repoRoot, env: { ...process.env, SDXL_STUDIO_DATA_DIR: server.dataDir }, encoding: 'utf8' },
  )
  // Exit 1 only says the install does not verify; it is registered and active either way.
  expect(r.status, r.stderr).toBeLessThanOrEqual(1)
  expect(r.stdout).toContain(`Registered "${name}"`)
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

  await chooseOption(page, 'train-preset', 'SDXL LoRA · 12 GB')
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

  useExisting(server, w.installDir)
  await page.getByTestId('train-start').click()
  await expect(page).toHaveURL(/#\/runs$/)
  await expect(page.getByText('sdxl-model (lora)').first()).toBeVisible({ timeout: 20_000 })

  // While it trains, the same button queues the next run.
  await page.getByTestId('nav-train').click()
  await expect(page.getByTestId('train-start')).toHaveText('Add to queue')
  await expect(page.getByTestId('train-start-busy')).toBeVisible()
})

test('in Russian, Start on an environment that cannot train says why in Russian and leads to it', async ({
  page,
  server,
}) => {
  test.setTimeout(120_000)
  const w = makeWorld('training-e2e-ru-')
  // An existing install whose venv has no torch: it verifies with problems, so it cannot train.
  const broken = path.join(w.root, 'broken-install')
  mkdirSync(path.join(broken, 'sd-scripts', 'library'), { recursive: true })
  for (const script of ['sdxl_train_network.py', 'sdxl_train.py'])
    writeFileSync(path.join(broken, 'sd-scripts', script), 'import torch\n')
  writeFileSync(path.join(broken, 'sd-scripts', 'requirements.txt'), '\n')
  execFileSync('python3', ['-m', 'venv', '--without-pip', path.join(broken, 'venv')])
  useExisting(server, broken, 'broken')
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))

  await page.goto(server.url)
  await page.getByTestId('field-base_model').fill(w.model)
  await page.getByTestId('train-add-folder').click()
  await page.getByTestId('field-dataset.subsets.0.image_dir').fill(w.imageDir)
  await page.getByTestId('field-saving.output_dir').fill(w.outputDir)
  await expect(page.getByTestId('train-valid')).toHaveText('Готово', { timeout: 30_000 })
  await page.getByTestId('train-start').click()

  const reason = page.getByTestId('train-start-not-ready')
  await expect(reason).toContainText('Окружение «broken» (существующая установка) не может обучать')
  await expect(reason).toContainText('torch не установлен')
  // The values it quotes (the venv, Python's own errors) stay as they are; every word around them is Russian.
  const registry = JSON.parse(readFileSync(path.join(server.dataDir, 'environments.json'), 'utf8')) as {
    environments: Array<{
      venvPython: string
      lastVerify: { problems: Array<{ params?: Record<string, string | number> }> }
    }>
  }
  const env = registry.environments[0]!
  const quoted = [env.venvPython, ...env.lastVerify.problems.flatMap((p) => Object.values(p.params ?? {}))]
  expect(englishWords(await reason.innerText(), { ...quoted })).toEqual([])
  await page.getByTestId('train-start-refused').getByRole('button', { name: 'Открыть «Окружение»' }).click()
  await expect(page).toHaveURL(/#\/environment$/)
  await expect(page.getByTestId('env-not-ready')).toContainText('не может обучать')
})
