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
