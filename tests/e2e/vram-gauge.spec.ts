import { expect, test } from './fixtures'

test('the gauge follows the form, and "Make it fit" turns a red 8 GB gauge green', async ({
  page,
  server,
}) => {
  await page.goto(server.url)
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Train')
  const gauge = page.getByTestId('vram-gauge')
  await expect(gauge).toBeVisible()
  // The target control appears with the first GPU reading (the stand-in nvidia-smi reports a 24 GiB card).
  await expect(gauge.getByRole('radiogroup')).toBeVisible()
  await gauge.getByText('8', { exact: true }).click()
  await expect(gauge.getByRole('radio', { name: '8', exact: true })).toBeChecked()
  const peak = page.getByTestId('vram-peak')
  const before = Number(await peak.textContent())
  await page.getByLabel('Batch size').fill('4')
  await expect.poll(async () => Number(await peak.textContent())).toBeGreaterThan(before)
  await expect(gauge).toHaveAttribute('data-state', 'does_not_fit')
  await page.getByTestId('vram-make-it-fit-apply').click()
  await expect(gauge).not.toHaveAttribute('data-state', 'does_not_fit')
  expect(Number(await peak.textContent())).toBeLessThanOrEqual(8)
})
