import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from './fixtures'
import { repoRoot } from './server'

const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')
// The server's PATH holds only node, so the run names python by its full path (as the app does with a venv).
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim()

// The stand-in trainer writes its pid here; the stand-in nvidia-smi then lists it as a process holding
// GPU memory that grows, as a real run's does.
const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'e2e-runs-')), 'trainer.pids')
const screenshotPath = path.join(repoRoot, 'docs/runs.png')
test.use({ serverOptions: { env: { FAKE_NVIDIA_SMI_PID_FILE: pidFile } } })

test('start a stand-in run, watch progress, loss, GPU memory and a sample image, then stop it', async ({
  page,
  server,
}) => {
  // "Start a run from a description" is a developer tool (Settings).
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ developer: true }))
  await page.goto(server.url)
  await page.getByTestId('nav-runs').click()
  await expect(page).toHaveURL(/#\/runs$/)

  const description = {
    command: [
      python,
      trainer,
      '--steps',
      '400',
      '--epochs',
      '4',
      '--delay',
      '0.1',
      '--save_every_n_epochs',
      '1',
      '--sample_every_n_steps',
      '5',
      '--output_dir',
      path.join(server.dataDir, 'out'),
      '--pid_file',
      pidFile,
    ],
    cwd: server.dataDir,
    name: 'e2e stand-in',
    predicted_peak_mib: 4096,
  }
  await page.getByTestId('new-run-json').fill(JSON.stringify(description))
  await page.getByTestId('new-run-start').click()

  const detail = page.getByTestId('run-detail')
  await expect(detail.getByRole('heading', { name: 'e2e stand-in' })).toBeVisible()
  await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 20_000 })

  // Progress and loss move without any user action.
  const steps = page.getByTestId('run-steps')
  await expect.poll(async () => Number(await steps.textContent()), { timeout: 20_000 }).toBeGreaterThan(3)
  const first = Number(await steps.textContent())
  await expect.poll(async () => Number(await steps.textContent()), { timeout: 10_000 }).toBeGreaterThan(first)
  await expect(page.getByTestId('run-loss')).toHaveText(/^0\.\d+$/)
  await expect(page.getByTestId('run-speed')).toHaveText(/(it\/s|s\/it)$/)
  const chart = page.getByTestId('run-loss-chart')
  await expect
    .poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 10_000 })
    .toBeGreaterThan(2)

  // GPU memory of the run's process, sampled while it trains, against the predicted peak.
  await expect(page.getByTestId('run-gpu-memory')).toContainText('4.0 GiB predicted')
  const memory = page.getByTestId('run-memory-chart')
  await expect
    .poll(async () => Number(await memory.getAttribute('data-points')), { timeout: 15_000 })
    .toBeGreaterThan(1)
  await expect(memory.getByText('predicted peak, GiB')).toBeVisible()

  // The sample image written by the trainer shows up.
  await expect(page.getByTestId('run-sample').first()).toBeVisible({ timeout: 20_000 })
  await expect(page.getByTestId('run-terminal').locator('.xterm')).toBeVisible()

  // The README's picture; only refreshed on request, so test runs leave the tree clean.
  if (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(screenshotPath)) {
    await page.getByTestId('new-run-json').fill('') // the box shows its placeholder, not this machine's paths
    await expect
      .poll(async () => Number(await memory.getAttribute('data-points')), { timeout: 15_000 })
      .toBeGreaterThan(4)
    await page.mouse.move(0, 0)
    await page.screenshot({ path: screenshotPath, fullPage: true })
  }
  await expect(page.getByTestId('run-stop-after-checkpoint')).toBeVisible()

  // Two more runs wait for the GPU (no GPUs given = all of them); their order can be changed.
  for (const name of ['q-a', 'q-b']) {
    await page
      .getByTestId('new-run-json')
      .fill(
        JSON.stringify({ ...description, name, command: [python, trainer, '--steps', '2', '--delay', '0'] }),
      )
    await page.getByTestId('new-run-start').click()
    await expect(page.getByTestId('run-list')).toContainText(name)
  }
  await expect(page.getByTestId('queue-item-0')).toContainText('q-a')
  await expect(page.getByTestId('queue-item-1')).toContainText('q-b')
  await page.getByTestId('queue-item-0').getByRole('button', { name: 'Move down' }).click()
  await expect(page.getByTestId('queue-item-0')).toContainText('q-b')
  await expect(page.getByTestId('queue-item-1')).toContainText('q-a')
  await page.getByTestId('run-list').getByText('e2e stand-in').click()
  await expect(detail.getByRole('heading', { name: 'e2e stand-in' })).toBeVisible()

  await page.getByTestId('run-stop').click()
  // What the stop does: Ctrl-C now, a kill of everything left after the grace period (10 s by default).
  await expect(page.getByTestId('run-stop-report')).toContainText('Sent Ctrl-C to the trainer (pid ')
  await expect(page.getByTestId('run-stop-report')).toContainText('If it still runs in 10 s, it is killed')
  await expect(page.getByTestId('run-state')).toHaveText('stopped', { timeout: 20_000 })
  await expect(page.getByTestId('run-reason')).toContainText('saves nothing')
  // The terminal keeps what the run printed (the DOM renderer here: no hardware WebGL in CI).
  await expect(page.getByTestId('run-terminal').locator('.xterm-rows')).toContainText('steps:')
  await expect(page.getByTestId('run-stop')).toHaveCount(0)
  // The queue goes on once the GPU is free.
  await expect(page.getByTestId('run-queue')).toHaveCount(0, { timeout: 20_000 })
})

test('a damaged run record is shown as such with its file, in English and Russian, and can be deleted', async ({
  page,
  server,
}) => {
  const id = '20260101000000-d4d4d4'
  const runDir = path.join(server.dataDir, 'runs', id)
  mkdirSync(runDir, { recursive: true })
  const file = path.join(runDir, 'summary.json')
  writeFileSync(file, '{"id": "20260101000000-d4d4d4", "state": "runn')
  await page.setViewportSize({ width: 1280, height: 720 })
  // The description form is a developer tool (Settings).
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ developer: true }))
  await page.goto(server.url)
  await page.getByTestId('nav-runs').click()
  const damaged = page.getByTestId(`run-damaged-${id}`)
  await expect(damaged).toContainText('The record file is not valid JSON.')
  await expect(damaged).toContainText(file)
  // A damaged record hides nothing else, and the page itself works.
  await expect(page.getByTestId('new-run-json')).toBeVisible()

  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-language-ru').click()
  await page.getByTestId('nav-runs').click()
  await expect(page.getByTestId('run-damaged')).toContainText('Повреждённые записи')
  await expect(damaged).toContainText('Файл записи — некорректный JSON.')
  await expect(damaged.getByRole('button')).toHaveText('Удалить запуск')
  // Only the id, the file path and the name JSON are in Latin letters; the layout holds at 1280×720.
  const words = ((await damaged.textContent()) ?? '').replace(file, '').replace(id, '').replace('JSON', '')
  expect(words).not.toMatch(/[A-Za-z]{3,}/)
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280)

  await page.getByTestId(`run-damaged-delete-${id}`).click()
  await expect(page.getByTestId('run-damaged')).toHaveCount(0)
  expect(existsSync(runDir)).toBe(false)
})
