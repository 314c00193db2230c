import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createStandinRepo, sharedCache } from '../integration/env-helpers'
import { startLocalIndex, type LocalIndex } from '../integration/env-index'
import { expect, test } from './fixtures'

/*
 * A fixture install through the Environment page in Chromium: the headless server installs a local
 * sd-scripts stand-in for real (uv from a password-protected local index serving the real uv wheel,
 * a venv, pip packages passed through to PyPI), and the page shows the step states and the live log
 * while it runs. The server's PATH has node and the stand-in nvidia-smi only, so git and uv are
 * missing and the local folder is copied, as on a machine without git.
 */
const scratch = mkdtempSync(path.join(tmpdir(), 'sdxl-e2e-env-'))
const standin = createStandinRepo(path.join(scratch, 'sd-scripts-standin'))
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim()
const passThrough = Object.fromEntries(
  Object.entries(process.env).filter(
    (e): e is [string, string] => e[1] !== undefined && !['PATH', 'SDXL_STUDIO_DATA_DIR'].includes(e[0]),
  ),
)

test.use({
  serverOptions: {
    env: {
      ...passThrough,
      SDXL_STUDIO_PYTHON: python,
      PIP_CACHE_DIR: path.join(sharedCache, 'pip'),
      UV_CACHE_DIR: path.join(sharedCache, 'uv'),
      // Slow the stand-in's build a little so the running state is on screen for a while.
      STANDIN_SLOW_BUILD: '2',
    },
    timeoutMs: 60_000,
  },
})
let index: LocalIndex
test.beforeAll(async () => {
  test.setTimeout(180_000)
  index = await startLocalIndex({ auth: 'alice:e2e-Secret' })
})
test.afterAll(async () => {
  await index?.close()
  rmSync(scratch, { recursive: true, force: true })
})

test('installs a fixture environment with live step states and log', async ({ page, server }) => {
  test.setTimeout(360_000)
  await page.goto(`${server.url}#/settings`)
  await page
    .getByTestId('settings-mirrors-pypiIndex')
    .fill(index.url.replace('http://', 'http://alice:e2e-Secret@'))
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()
  await page.getByTestId('nav-environment').click()
  await page.getByTestId('env-source').fill(standin)
  await page.getByTestId('env-torch').getByText('I manage torch myself').click()
  await page.getByTestId('env-plan-button').click()
  // Planning runs the Pythons and nvidia-smi it finds: allow for a loaded machine.
  await expect(page.getByTestId('env-plan')).toContainText('git is missing', { timeout: 30_000 })
  await page.getByTestId('env-install').click()

  await expect(page.getByTestId('env-status')).toHaveAttribute('data-status', 'running', { timeout: 60_000 })
  await expect(page.getByTestId('env-step-requirements')).toHaveAttribute('data-state', 'running', {
    timeout: 120_000,
  })
  await expect(page.getByTestId('env-step-source')).toHaveAttribute('data-state', 'done')
  await expect(page.getByTestId('env-step-torch')).toHaveAttribute('data-state', 'skipped')
  await expect(page.getByTestId('env-log')).toContainText('sd-scripts', { timeout: 30_000 })

  await expect(page.getByTestId('env-status')).toHaveAttribute('data-status', 'done', { timeout: 180_000 })
  await expect(page.getByTestId('env-step-verify')).toHaveAttribute('data-state', 'done')
  await expect(page.getByTestId('env-log')).toContainText('environment ready')
  await expect(page.getByTestId('env-list')).toContainText('default')

  await page.getByTestId('env-verify-button').click()
  await expect(page.getByTestId('env-verify')).toContainText('The environment verifies')
  // The password reached the index (uv's first request, through NETRC) and nothing the page shows.
  expect(index.requests.some((r) => r.auth === 'alice:e2e-Secret')).toBe(true)
  await expect(page.getByTestId('env-log')).not.toContainText('e2e-Secret')
  const envDir = path.join(server.dataDir, 'envs', 'default')
  expect(readFileSync(path.join(envDir, 'logs', 'install.log'), 'utf8')).not.toContain('e2e-Secret')

  // The user saved work in the environment folder: Remove lists it and waits until it is ticked.
  writeFileSync(path.join(envDir, 'my-lora.safetensors'), 'weights')
  await page.getByTestId('env-remove').click()
  await page.getByTestId('env-remove-confirm').click()
  await expect(page.getByTestId('env-foreign')).toContainText('my-lora.safetensors')
  await expect(page.getByTestId('env-foreign-confirm')).toBeDisabled()
  expect(existsSync(path.join(envDir, 'venv'))).toBe(true)
  await page.getByTestId('env-foreign-file').check()
  await page.getByTestId('env-foreign-confirm').click()
  await expect(page.getByTestId('env-foreign')).toHaveCount(0)
  await expect(page.getByTestId('env-list')).toHaveCount(0)
  expect(existsSync(envDir)).toBe(false)
  expect(readdirSync(path.join(server.dataDir, 'envs'))).toEqual([])
})
