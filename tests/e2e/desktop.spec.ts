import { execFileSync } from 'node:child_process'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { repoRoot } from './server'

/*
 * The headless page behaves like the desktop app where a browser allows it: a tab close asks while a run
 * started from it trains and never stops the run; files dropped on the page are routed (config contents
 * are read and imported, a folder or model gets a hint that a browser has no paths); a finished run shows
 * where its files are with copy buttons; a browser notification reports a finished or failed run; the
 * title carries the run's progress. At 1280×720 in English and Russian.
 */

const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim()

test.use({ viewport: { width: 1280, height: 720 } })

function runJson(name: string, args: string[], cwd: string): string {
  return JSON.stringify({ command: [python, trainer, ...args], cwd, name })
}

async function startRun(page: Page, json: string) {
  await page.getByTestId('nav-runs').click()
  await page.getByTestId('new-run-json').fill(json)
  await page.getByTestId('new-run-start').click()
}

/** Dispatches a file drop on the page the way a browser does (a DataTransfer holding File objects). */
async function dropFiles(page: Page, files: Array<{ name: string; text: string }>, only: 'enter' | 'drop') {
  await page.evaluate(
    ({ list, step }) => {
      const dt = new DataTransfer()
      for (const f of list) dt.items.add(new File([f.text], f.name))
      const target = document.querySelector('main') ?? document.body
      const fire = (type: string) =>
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }))
      if (step === 'enter') {
        fire('dragenter')
        fire('dragover')
      } else fire('drop')
    },
    { list: files, step: only },
  )
}

/** Nothing scrolls sideways and no visible text in the shell is cut off. */
async function expectLayoutFits(page: Page) {
  const problems = await page.evaluate(() => {
    const out: string[] = []
    if (document.documentElement.scrollWidth > window.innerWidth + 1)
      out.push(`page scrolls sideways: ${document.documentElement.scrollWidth}px`)
    for (const el of Array.from(
      document.querySelectorAll<HTMLElement>(
        'header button, [data-testid="drop-notice"] *, [data-testid="drop-overlay"] *, [data-testid="run-output"] button',
      ),
    )) {
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0) continue
      // Below the fold is fine (the page scrolls down); past the right edge is not.
      if (r.right > window.innerWidth + 1) out.push(`off screen: "${el.innerText.slice(0, 40)}"`)
      if (el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 2)
        out.push(`clipped: "${el.innerText.slice(0, 40)}"`)
    }
    return out
  })
  expect(problems).toEqual([])
}

test('a tab close asks while a run started here trains, and never stops the run', async ({
  page,
  server,
}) => {
  // Starting a run from a description is a developer tool: turned on in Settings, as a user does.
  await developerMode(page, server.url)
  await page.goto(server.url)
  const out = path.join(server.dataDir, 'out-guard')
  await startRun(
    page,
    runJson('guarded', ['--steps', '3000', '--delay', '0.05', '--output_dir', out], server.dataDir),
  )
  await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 20_000 })
  // The tab's title carries the run's progress.
  await expect(page).toHaveTitle(/^step \d+\/3,000 · .* left — SDXL Studio$/, { timeout: 20_000 })

  // Another tab on the same server, opened before the first one goes.
  const other = await page.context().newPage()
  await other.goto(`${server.url}#/runs`)

  // Closing the tab asks first; the user confirms and the tab goes. (Staying is the browser's own
  // behaviour; Playwright cannot close a page after that: microsoft/playwright#37597.)
  const dialogs: string[] = []
  page.on('dialog', (d) => {
    dialogs.push(d.type())
    void d.accept()
  })
  const closed = page.waitForEvent('close')
  await page.close({ runBeforeUnload: true })
  await closed
  expect(dialogs).toEqual(['beforeunload'])

  // The tab went; the run did not.
  await other.getByTestId('run-list').getByText('guarded').click()
  await expect(other.getByTestId('run-state')).toHaveText('running')
  const steps = other.getByTestId('run-steps')
  const before = Number(await steps.textContent())
  await expect
    .poll(async () => Number(await steps.textContent()), { timeout: 15_000 })
    .toBeGreaterThan(before)
  // This tab did not start the run: it closes without asking, and the run still goes on (the server stops
  // it when the test ends).
  const otherDialogs: string[] = []
  other.on('dialog', (d) => {
    otherDialogs.push(d.type())
    void d.dismiss()
  })
  const otherClosed = other.waitForEvent('close')
  await other.close({ runBeforeUnload: true })
  await otherClosed
  expect(otherDialogs).toEqual([])
  const last = await page.context().newPage()
  await last.goto(`${server.url}#/runs`)
  await last.getByTestId('run-list').getByText('guarded').click()
  await expect(last.getByTestId('run-state')).toHaveText('running')
  await last.close()
})

for (const lang of ['en', 'ru'] as const) {
  test(`files dropped on the page (${lang}): configs are read and imported, folders and models get a hint`, async ({
    page,
    server,
  }) => {
    await page.goto(`${server.url}#/settings`)
    if (lang === 'ru') {
      await page.getByTestId('settings-language-ru').click()
      await expect(page.locator('html')).toHaveAttribute('lang', 'ru')
    }
    await page.getByTestId('nav-runs').click()

    const kohya = { name: 'kohya_лора.json', text: '\uFEFF{"LoRA_type": "Standard", "network_dim": 32}' }
    await dropFiles(page, [kohya], 'enter')
    const overlay = page.getByTestId('drop-overlay')
    await expect(overlay).toBeVisible()
    await expect(overlay).toContainText(lang === 'en' ? 'A browser cannot tell' : 'Браузер')
    await expectLayoutFits(page)

    await dropFiles(
      page,
      [
        kohya,
        { name: 'sd_xl_base_1.0.safetensors', text: 'weights' },
        { name: 'кот.png', text: 'png' },
        { name: 'broken.json', text: '{"network_dim": ' },
        { name: 'notes.docx', text: '' },
      ],
      'drop',
    )
    await expect(overlay).toHaveCount(0)
    // Imports are for the Train page: the page switches there.
    await expect(page).toHaveURL(/#\/train$/)
    const notice = page.getByTestId('drop-notice')
    await expect(notice.getByTestId('drop-intents')).toContainText('kohya_лора.json')
    // The Train page imported it: its import report is shown.
    await expect(page.getByTestId('train-import-note')).toBeVisible({ timeout: 15_000 })
    const problems = notice.getByTestId('drop-problems').locator('li')
    await expect(problems).toHaveCount(4)
    const codes = await problems.evaluateAll((items) => items.map((i) => i.getAttribute('data-code')))
    expect(codes).toEqual([
      'model_needs_server_path',
      'images_not_folder',
      'config_not_json',
      'unsupported_file',
    ])
    if (lang === 'ru') {
      // No English sentence in the Russian notice (file names stay as they are).
      for (const text of await problems.allInnerTexts()) expect(text).toMatch(/[А-Яа-яЁё]{4,}/)
      await expect(notice).not.toContainText('Type or browse')
    }
    await expectLayoutFits(page)

    // A config.toml dropped with its dataset config and prompts is one import.
    await notice.getByRole('button', { name: lang === 'en' ? 'Close' : 'Закрыть' }).click()
    await dropFiles(
      page,
      [
        { name: 'dataset.toml', text: '[[datasets]]\nresolution = 1024\n' },
        { name: 'config.toml', text: 'learning_rate = 1e-4\n' },
        { name: 'prompts.txt', text: 'a cat\n' },
      ],
      'drop',
    )
    await expect(notice.getByTestId('drop-intents').locator('li')).toHaveCount(1)
    await expect(notice.getByTestId('drop-intents')).toContainText('config.toml')
    await expect(notice.getByTestId('drop-problems')).toHaveCount(0)
    await expect(page.getByTestId('train-import-note')).toBeVisible({ timeout: 15_000 })
    await expectLayoutFits(page)
  })
}

test('a finished run shows where its files are, and a browser notification reports the end', async ({
  page,
  server,
}) => {
  await page.context().grantPermissions(['notifications', 'clipboard-read', 'clipboard-write'], {
    origin: server.origin,
  })
  // Records the notifications the page shows, and has the page look unattended (the user is elsewhere).
  await page.addInitScript(() => {
    const shown: Array<{ title: string; body: string }> = []
    Object.assign(window, { shownNotifications: shown })
    const Real = window.Notification
    class Recording extends Real {
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, body: options?.body ?? '' })
        super(title, options)
      }
    }
    window.Notification = Recording
    document.hasFocus = () => false
  })
  // Starting a run from a description is a developer tool: turned on in Settings, as a user does.
  await developerMode(page, server.url)
  await page.goto(server.url)
  const bell = page.getByTestId('notify-toggle')
  await expect(bell).toHaveAttribute('aria-pressed', 'false')
  await bell.click()
  await expect(bell).toHaveAttribute('aria-pressed', 'true')

  const out = path.join(server.dataDir, 'выход out')
  await startRun(
    page,
    runJson('кот', ['--steps', '20', '--delay', '0.02', '--output_dir', out], server.dataDir),
  )
  await expect(page.getByTestId('run-state')).toHaveText('finished', { timeout: 30_000 })
  const shown = () =>
    page.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications)
  await expect.poll(shown, { timeout: 10_000 }).toEqual([
    {
      title: 'Training finished: кот',
      body: expect.stringMatching(/Final loss 0\.\d+\nTook .*\nSaved .+/),
    },
  ])

  // Where the results are: paths on the server, with copy buttons (a browser cannot open them).
  await expect(page.getByTestId('run-output-folder-path')).toHaveText(out)
  const file = page.getByTestId('run-output-file-path')
  await expect(file).toHaveText(new RegExp(`^${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/.+`))
  await page.getByTestId('run-output-file-copy').click()
  await expect(page.getByTestId('run-output-file-copy')).toHaveText('Copied')
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await file.textContent())
  await expect(page.getByTestId('run-open-output')).toHaveCount(0)
  await expectLayoutFits(page)

  // A failed run: its own notification, and the title says so until the user looks.
  await page
    .getByTestId('new-run-json')
    .fill(
      runJson(
        'сбой',
        ['--steps', '5', '--delay', '0', '--end', 'crash', '--output_dir', out],
        server.dataDir,
      ),
    )
  await page.getByTestId('new-run-start').click()
  await expect.poll(async () => ((await shown()) as unknown[]).length, { timeout: 30_000 }).toBe(2)
  expect(((await shown()) as Array<{ title: string }>)[1]?.title).toBe('Training failed: сбой')
  await expect(page).toHaveTitle('Run failed: сбой — SDXL Studio')
})

/** Turns on Settings → developer tools (the Runs page's "start from a description"). */
async function developerMode(page: Page, url: string): Promise<void> {
  await page.goto(`${url}#/settings`)
  const toggle = page.getByTestId('settings-developer')
  await toggle.click({ force: true })
  await expect(toggle).toBeChecked()
}
