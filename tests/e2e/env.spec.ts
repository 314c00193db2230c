import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  CLOSED_HF_ENDPOINT,
  createStandinRepo,
  sharedCache,
  standinTorchIndex,
} from '../integration/env-helpers'
import { startLocalIndex, type LocalIndex } from '../integration/env-index'
import { englishWords } from '../helpers/english'
import type { Page } from '@playwright/test'
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
      // The tokenizers are built offline, as on a machine that does not reach Hugging Face.
      HF_ENDPOINT: CLOSED_HF_ENDPOINT,
    },
    timeoutMs: 60_000,
  },
})
/**
 * Every parameter value of the coded messages in an install's record, and each line of them (a
 * message may quote the first line of another): paths, commands, versions and log lines stay as they
 * are in every language. Not the step titles (`step`): the UI names steps in its own words.
 */
function recordedValues(envDir: string): string[] {
  const values: string[] = []
  const walk = (node: unknown, key: string, inParams: boolean) => {
    if (typeof node === 'string') {
      if (inParams && key !== 'step') values.push(node, ...node.split('\n'))
      return
    }
    if (typeof node !== 'object' || node === null) return
    for (const [k, v] of Object.entries(node)) walk(v, k, inParams || /params$/i.test(k))
  }
  walk(JSON.parse(readFileSync(path.join(envDir, 'install-state.json'), 'utf8')), '', false)
  return values.filter((v) => v.trim() !== '')
}

/** Switches the UI language on the Settings page, then opens the Environment page again. */
async function uiLanguage(page: Page, language: 'en' | 'ru') {
  await page.getByTestId('nav-settings').click()
  await page.getByTestId(`settings-language-${language}`).click()
  await expect(page.locator('html')).toHaveAttribute('lang', language)
  await page.getByTestId('nav-environment').click()
}

let index: LocalIndex
test.beforeAll(async () => {
  test.setTimeout(180_000)
  index = await startLocalIndex({ auth: 'alice:e2e-Secret' })
})
test.afterAll(async () => {
  await index?.close()
  rmSync(scratch, { recursive: true, force: true })
})

test('installs a fixture environment with live step states and log; "I manage torch myself" is not ready until torch is there', async ({
  page,
  server,
}) => {
  test.setTimeout(420_000)
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

  // No torch: the install stops at verify, which says what to do; the page says "not ready".
  await expect(page.getByTestId('env-status')).toHaveAttribute('data-status', 'failed', { timeout: 180_000 })
  await expect(page.getByTestId('env-step-tokenizers')).toHaveAttribute('data-state', 'done')
  await expect(page.getByTestId('env-step-verify')).toHaveAttribute('data-state', 'failed')
  await expect(page.getByTestId('env-steps')).toContainText('torch is not installed')
  await expect(page.getByTestId('env-summary')).toHaveAttribute('data-ready', 'false')

  // In Russian, the failed verify and the reason the environment cannot train say how to add torch
  // (the install command as it is), with no English words besides the values they quote.
  const envDir = path.join(server.dataDir, 'envs', 'default')
  const recorded = recordedValues(envDir)
  const command = recorded.find((v) => v.includes(' pip install --python '))
  expect(command).toContain('torch==2.6.0')
  await uiLanguage(page, 'ru')
  const verifyRow = page.getByTestId('env-step-verify')
  await expect(verifyRow).toContainText('torch в этом окружении устанавливаете вы')
  await expect(verifyRow).toContainText(command!)
  expect(englishWords(await verifyRow.innerText(), { ...recorded })).toEqual([])
  const notReady = page.getByTestId('env-not-ready')
  await expect(notReady).toContainText('не установлено и не проверено')
  await expect(notReady).toContainText(command!)
  expect(englishWords(await notReady.innerText(), { ...recorded, envDir })).toEqual([])
  await uiLanguage(page, 'en')

  // Opened again (nothing pressed): the form shows that install's choices, its status and summary.
  await page.reload()
  await expect(page.getByTestId('env-name')).toHaveValue('default')
  await expect(page.getByTestId('env-source')).toHaveValue(standin)
  await expect(
    page.getByTestId('env-torch').getByRole('radio', { name: 'I manage torch myself' }),
  ).toBeChecked()
  await expect(page.getByTestId('env-status')).toHaveAttribute('data-status', 'failed')
  await expect(page.getByTestId('env-not-ready')).toContainText('is not installed and verified')
  await expect(page.getByTestId('env-list')).toContainText('default')
  // ...and the log view still shows what that install printed, the failure included.
  await page.getByTestId('env-log').scrollIntoViewIfNeeded()
  await expect(page.getByTestId('env-log')).toContainText('The environment does not verify')

  // The user installs their torch into the venv (with the uv the install used), then resumes.
  const uv = readdirSync(path.join(server.dataDir, 'tools')).find((d) => d.startsWith('uv-'))
  execFileSync(path.join(server.dataDir, 'tools', uv!, 'uv'), [
    'pip',
    'install',
    '--python',
    path.join(envDir, 'venv', 'bin', 'python'),
    '--index-url',
    standinTorchIndex(),
    'torch==2.6.0',
    'torchvision==0.21.0',
  ])
  await page.getByTestId('env-resume').click()
  await expect(page.getByTestId('env-status')).toHaveAttribute('data-status', 'done', { timeout: 120_000 })
  await expect(page.getByTestId('env-step-verify')).toHaveAttribute('data-state', 'done')
  // The install's log says so, in the file and in the page's log view (subscribed after the reload).
  // The view is scrolled into sight first: xterm renders nothing while it is off screen.
  expect(readFileSync(path.join(envDir, 'logs', 'install.log'), 'utf8')).toContain('environment ready')
  await page.getByTestId('env-log').scrollIntoViewIfNeeded()
  await expect(page.getByTestId('env-log')).toContainText('environment ready')
  await expect(page.getByTestId('env-summary')).toHaveAttribute('data-ready', 'true')
  await expect(page.getByTestId('env-ready')).toHaveText('ready to train')

  await page.getByTestId('env-verify-button').click()
  await expect(page.getByTestId('env-verify')).toContainText('The environment verifies')
  // The password reached the index (uv's first request, through NETRC) and nothing the page shows.
  expect(index.requests.some((r) => r.auth === 'alice:e2e-Secret')).toBe(true)
  await page.getByTestId('env-log').scrollIntoViewIfNeeded()
  await expect(page.getByTestId('env-log')).toContainText('environment ready')
  await expect(page.getByTestId('env-log')).not.toContainText('e2e-Secret')
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

test('in Russian, a torch download that fails names the torch index and how to set it', async ({
  page,
  server,
}) => {
  test.setTimeout(300_000)
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  const torchIndex = `${CLOSED_HF_ENDPOINT}/whl`
  await page.goto(`${server.url}#/settings`)
  await page
    .getByTestId('settings-mirrors-pypiIndex')
    .fill(index.url.replace('http://', 'http://alice:e2e-Secret@'))
  await page.getByTestId('settings-mirrors-torchIndex').fill(torchIndex)
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()
  await page.getByTestId('nav-environment').click()
  await page.getByTestId('env-source').fill(standin)
  await page.getByTestId('env-plan-button').click()

  // The torch choice's reasons: the GPU's build, and the index that could not be asked.
  const torchLine = page.getByTestId('env-plan-torch')
  await expect(torchLine).toContainText('считается корнем индекса torch', { timeout: 30_000 })
  await expect(torchLine).toContainText('спросить его не удалось')
  expect(englishWords(await torchLine.innerText(), { torchIndex })).toEqual([])

  await page.getByTestId('env-install').click()
  await expect(page.getByTestId('env-status')).toHaveAttribute('data-status', 'failed', { timeout: 240_000 })
  const torchRow = page.getByTestId('env-step-torch')
  await expect(torchRow).toHaveAttribute('data-state', 'failed')
  await expect(torchRow).toContainText('Шаг «Установить torch» не выполнен')
  await expect(torchRow).toContainText('Сбой сети при загрузке torch')
  await expect(torchRow).toContainText('--torch-index-url (Настройки → Загрузки и зеркала)')
  const envDir = path.join(server.dataDir, 'envs', 'default')
  const recorded = recordedValues(envDir)
  expect(englishWords(await torchRow.innerText(), { ...recorded })).toEqual([])
  const notReady = page.getByTestId('env-not-ready')
  await expect(notReady).toContainText('на шаге «Установить torch»: Шаг «Установить torch» не выполнен')
  expect(englishWords(await notReady.innerText(), { ...recorded, envDir })).toEqual([])
})

test('in Russian, a source git must not be given is refused by Plan and by Install, with no English', async ({
  page,
  server,
}) => {
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  await page.goto(`${server.url}#/environment`)
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru')
  const option = '--upload-pack=touch pwned'
  await page.getByTestId('env-source').fill(option)
  await page.getByTestId('env-plan-button').click()
  const planError = page.getByTestId('env-plan-error')
  await expect(planError).toContainText('начинается с «-», и git прочтёт его как параметр', {
    timeout: 30_000,
  })
  expect(englishWords(await planError.innerText(), { option })).toEqual([])

  const transport = 'ext::sh -c id'
  await page.getByTestId('env-source').fill(transport)
  await page.getByTestId('env-install').click()
  const error = page.getByTestId('env-error')
  await expect(error).toContainText('использует «ext», а это запрещено')
  expect(englishWords(await error.innerText(), { transport })).toEqual([])
  // Refused before anything ran.
  expect(existsSync(path.join(server.dataDir, 'envs'))).toBe(false)
})

test('in Russian, a wheel folder from the settings that has gone is refused by Plan and by Install before anything runs', async ({
  page,
  server,
}) => {
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  // Saved when the folder existed (Settings accepts it), then the drive was unplugged.
  const wheels = path.join(server.dataDir, 'колёса', 'simple')
  writeFileSync(
    path.join(server.dataDir, 'env-settings.json'),
    JSON.stringify({ mirrors: { pypiIndex: `file://${wheels}` } }),
  )
  await page.goto(`${server.url}#/environment`)
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru')
  const error = page.getByTestId('env-error')
  for (const button of ['env-plan-button', 'env-install']) {
    await page.getByTestId(button).click()
    await expect(error).toContainText(`Поле «Индекс PyPI»: папки нет: ${wheels}`, { timeout: 30_000 })
    await expect(error).toContainText('GPU-сервер, а не этот компьютер')
    expect(englishWords(await error.innerText(), { value: `file://${wheels}`, path: wheels })).toEqual([])
  }
  expect(existsSync(path.join(server.dataDir, 'envs'))).toBe(false)
  expect(existsSync(path.join(server.dataDir, 'environments.json'))).toBe(false)
})
