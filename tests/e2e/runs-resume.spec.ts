import type { Page } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { expect, test } from './fixtures'
import { repoRoot } from './server'

const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim()

test('stop at the next save, resume from the saved state, and the run goes on as one', async ({
  page,
  server,
}) => {
  // Starting a run from a description is a developer tool: turned on in Settings, as a user does.
  await developerMode(page, server.url)
  await page.goto(server.url)
  await page.getByTestId('nav-runs').click()
  const description = {
    command: [
      python,
      trainer,
      '--steps',
      '40',
      '--epochs',
      '4',
      '--delay',
      '0.15',
      '--save_every_n_epochs',
      '1',
      '--save_state',
      '--output_name',
      'cat',
      '--output_dir',
      path.join(server.dataDir, 'out'),
    ],
    cwd: server.dataDir,
    name: 'resume me',
  }
  await page.getByTestId('new-run-json').fill(JSON.stringify(description))
  await page.getByTestId('new-run-start').click()
  await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 20_000 })
  await page.getByTestId('run-stop-after-checkpoint').click()
  await expect(page.getByTestId('run-state')).toHaveText('stopped', { timeout: 30_000 })
  const stoppedAt = Number(await page.getByTestId('run-steps').textContent())
  expect(stoppedAt).toBeLessThan(40)

  await expect(page.getByTestId('run-resume')).toBeVisible()
  await page.getByTestId('run-resume').click()
  await expect(page.getByTestId('run-parts')).toContainText('Part 1: stopped at step')
  await expect(page.getByTestId('run-parts')).toContainText(/Part 2: resumed from cat-00000[1-3]-state/)
  await expect(page.getByTestId('run-state')).toHaveText('finished', { timeout: 40_000 })
  // One run, steps joined: it ends at 40 of 40, not at the resumed part's own count.
  await expect(page.getByTestId('run-steps')).toHaveText('40')
  await expect(page.getByTestId('run-list').getByText('resume me')).toHaveCount(1)
  // The terminal follows the new part to its end (the last lines the resumed trainer printed).
  await expect(page.getByTestId('run-terminal').locator('.xterm-rows')).toContainText('saving last state.')
})

test('queued runs can be paused and edited (in Russian, at 1280×720); a bad value is refused in the form', async ({
  page,
  server,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 })
  // Starting a run from a description is a developer tool: turned on in Settings, as a user does.
  await developerMode(page, server.url)
  await page.goto(server.url)
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-language-ru').click()
  await page.getByTestId('nav-runs').click()
  const run = (name: string, dir: string, args: string[]) => ({
    command: [python, trainer, '--output_dir', path.join(server.dataDir, dir), ...args],
    cwd: server.dataDir,
    name,
  })
  for (const r of [
    run('блокер', 'b', ['--end', 'hang', '--fail_at_step', '1', '--delay', '0']),
    run('первый', 'q1', ['--steps', '2', '--delay', '0']),
    run('второй', 'q2', ['--steps', '2', '--delay', '0']),
  ]) {
    await page.getByTestId('new-run-json').fill(JSON.stringify(r))
    await page.getByTestId('new-run-start').click()
    await expect(page.getByTestId('run-list')).toContainText(r.name)
  }
  const first = page.getByTestId('queue-item-0')
  await expect(first).toContainText('первый')
  await first.getByTestId('queue-pause').click()
  await expect(first.getByTestId('queue-paused')).toHaveText('на паузе')
  await expect(first.getByTestId('queue-pause')).toHaveText('Разрешить')
  // No English in the Russian queue; the layout holds.
  expect((await page.getByTestId('run-queue').textContent()) ?? '').not.toMatch(/[A-Za-z]{3,}/)
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280)

  await page.getByTestId('queue-item-1').getByTestId('queue-edit-open').click()
  const gpus = page.getByTestId('queue-edit-gpus')
  for (const bad of ['-1', '1.5', 'abc', '0,,1', '１']) {
    await gpus.fill(bad)
    await expect(page.getByTestId('queue-edit-save')).toBeDisabled()
    await expect(page.getByTestId('queue-edit')).toContainText('Укажите номера видеокарт через запятую')
  }
  await gpus.fill('')
  await page.getByTestId('queue-edit-name').fill('   ')
  await expect(page.getByTestId('queue-edit-save')).toBeDisabled()
  await page.getByTestId('queue-edit-name').fill('x'.repeat(201))
  await expect(page.getByTestId('queue-edit-save')).toBeDisabled()
  await page.getByTestId('queue-edit-name').fill('Кошка, 1e-4')
  await page.getByTestId('queue-edit-save').click()
  await expect(page.getByTestId('queue-item-1')).toContainText('Кошка, 1e-4')

  // The blocker stops: the paused run keeps its place, the edited one behind it runs.
  await page.getByTestId('run-list').getByText('блокер').click()
  await page.getByTestId('run-stop').click()
  await expect(page.getByTestId('queue-item-1')).toHaveCount(0, { timeout: 30_000 })
  await expect(page.getByTestId('queue-item-0')).toContainText('первый')
  await page.getByTestId('queue-item-0').getByTestId('queue-pause').click()
  await expect(page.getByTestId('run-queue')).toHaveCount(0, { timeout: 30_000 })
})

/** Turns on Settings → developer tools (the Runs page's "start from a description"). */
async function developerMode(page: Page, url: string): Promise<void> {
  await page.goto(`${url}#/settings`)
  const toggle = page.getByTestId('settings-developer')
  await toggle.click({ force: true })
  await expect(toggle).toBeChecked()
}
