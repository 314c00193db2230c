import { readFileSync } from 'node:fs'
import path from 'node:path'
import { expect, test } from './fixtures'

test('switching to Russian translates the navigation and survives a reload', async ({ page, server }) => {
  await page.goto(server.url)
  await expect(page.getByTestId('nav-gpu')).toHaveText('GPU')
  await page.getByTestId('nav-settings').click()
  await expect(page).toHaveURL(/#\/settings$/)

  await page.getByTestId('settings-language').getByText('Русский').click()
  await expect(page.getByTestId('nav-gpu')).toHaveText('Видеокарты')
  await expect(page.getByTestId('nav-settings')).toHaveText('Настройки')
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Настройки')
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru')

  // Persisted by the backend, not by the page: the settings file in the data folder says so...
  const saved = JSON.parse(readFileSync(path.join(server.dataDir, 'settings.json'), 'utf8')) as {
    language: string
  }
  expect(saved.language).toBe('ru')

  // ...and a reload (a fresh renderer) starts in Russian, on the same page.
  await page.reload()
  await expect(page.getByTestId('nav-train')).toHaveText('Обучение')
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Настройки')

  await page.getByTestId('settings-language').getByText('English').click()
  await expect(page.getByTestId('nav-train')).toHaveText('Train')
})

test('changing one setting leaves the others as they were, even in quick succession', async ({
  page,
  server,
}) => {
  await page.goto(server.url)
  await page.getByTestId('nav-settings').click()
  // Two clicks without waiting: the second update must not undo the first.
  await page.getByTestId('settings-language-ru').click()
  await page.getByTestId('settings-theme-dark').click()
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark')
  await expect(page.getByTestId('nav-gpu')).toHaveText('Видеокарты')
  await page.reload()
  await expect(page.getByTestId('nav-gpu')).toHaveText('Видеокарты')
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark')
  const saved = JSON.parse(readFileSync(path.join(server.dataDir, 'settings.json'), 'utf8')) as unknown
  expect(saved).toEqual({ language: 'ru', theme: 'dark', stop_grace_s: 10, developer: false })
})

test('the theme follows the setting and persists', async ({ page, server }) => {
  await page.emulateMedia({ colorScheme: 'light' })
  await page.goto(server.url)
  await page.getByTestId('nav-settings').click()
  const html = page.locator('html')
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'light')

  await page.getByTestId('settings-theme').getByText('Dark').click()
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'dark')
  await page.reload()
  await expect(page.getByTestId('nav-settings')).toBeVisible()
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'dark')

  // 'As in the system' follows the browser's preference.
  await page.getByTestId('settings-theme').getByText('As in the system').click()
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'light')
  await page.emulateMedia({ colorScheme: 'dark' })
  await expect(html).toHaveAttribute('data-mantine-color-scheme', 'dark')
})

test('the settings page shows the data folder', async ({ page, server }) => {
  await page.goto(server.url)
  await page.getByTestId('nav-settings').click()
  await expect(page.getByTestId('settings-data-dir')).toHaveText(server.dataDir)
  await expect(page.getByText('SDXL_STUDIO_DATA_DIR')).toBeVisible()
})

test('the stop grace period: hostile values are refused with the range, good ones are saved', async ({
  page,
  server,
}) => {
  await page.goto(server.url)
  await page.getByTestId('nav-settings').click()
  const input = page.getByTestId('settings-stop-grace')
  const save = page.getByTestId('settings-stop-grace-save')
  await expect(input).toHaveValue('10')
  const settingsFile = path.join(server.dataDir, 'settings.json')
  for (const bad of ['-1', '601', '', 'abc', 'десять', '9'.repeat(60)]) {
    await input.fill(bad)
    await save.click()
    await expect(page.getByText('Give a number of seconds from 0 to 600.')).toBeVisible()
    await expect(page.getByTestId('settings-stop-grace-saved')).toHaveCount(0)
  }
  for (const [typed, stored] of [
    ['1.5', 1.5],
    ['0', 0],
    ['600', 600],
    ['30', 30],
  ] as const) {
    await input.fill(typed)
    await save.click()
    await expect(page.getByTestId('settings-stop-grace-saved')).toBeVisible()
    expect((JSON.parse(readFileSync(settingsFile, 'utf8')) as { stop_grace_s: number }).stop_grace_s).toBe(
      stored,
    )
  }
  // Kept across a reload, and the other settings are untouched.
  await page.reload()
  await expect(page.getByTestId('settings-stop-grace')).toHaveValue('30')
  expect(JSON.parse(readFileSync(settingsFile, 'utf8'))).toEqual({
    language: 'en',
    theme: 'auto',
    stop_grace_s: 30,
    developer: false,
  })
})
