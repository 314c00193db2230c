import { expect, test } from './fixtures'

test('the tokened URL opens the app shell and drops the token from the address bar', async ({
  page,
  server,
}) => {
  await page.goto(server.url)
  await expect(page.getByTestId('nav-gpu')).toBeVisible()
  await expect(page.locator('html')).toHaveAttribute('data-interactive', 'true')
  expect(page.url()).not.toContain('token=')
})

test('the first frame loads only the shell: pages and other languages come on demand', async ({
  page,
  server,
}) => {
  const scripts: string[] = []
  page.on('request', (r) => {
    if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname)
  })
  await page.goto(server.url)
  await expect(page.getByTestId('nav-gpu')).toBeVisible()
  expect(scripts.filter((s) => /GpuPage|SettingsPage|resources-ru/.test(s))).toEqual([])

  await page.getByTestId('nav-gpu').click()
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('GPU')
  expect(scripts.some((s) => /GpuPage-.*\.js$/.test(s))).toBe(true)
  expect(scripts.some((s) => /resources-ru/.test(s))).toBe(false)

  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-language-ru').click()
  await expect(page.getByTestId('nav-gpu')).toHaveText('Видеокарты')
  expect(scripts.some((s) => /resources-ru-.*\.js$/.test(s))).toBe(true)
})

test('the address follows the page, and back returns to the previous one', async ({ page, server }) => {
  await page.goto(server.url)
  await page.getByTestId('nav-gpu').click()
  await expect(page).toHaveURL(/#\/gpu$/)
  await page.getByTestId('nav-settings').click()
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Settings')
  await page.goBack()
  await expect(page).toHaveURL(/#\/gpu$/)
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('GPU')
  await expect(page.getByTestId('nav-gpu')).toHaveAttribute('data-active', 'true')
})
