import { existsSync } from 'node:fs'
import path from 'node:path'
import { expect, test } from './fixtures'
import { repoRoot } from './server'

const screenshotPath = path.join(repoRoot, 'docs/screenshot.png')

test.describe('two stand-in GPUs, live', () => {
  // The stand-in nvidia-smi moves memory, use and temperature every second in live mode.
  test.use({ serverOptions: { env: { FAKE_NVIDIA_SMI_SCENARIO: 'two-gpus', FAKE_NVIDIA_SMI_LIVE: '1' } } })

  test('shows both GPUs and their numbers update live', async ({ page, server }) => {
    await page.goto(server.url)
    await page.getByTestId('nav-gpu').click()
    await expect(page).toHaveURL(/#\/gpu$/)

    await expect(page.getByTestId('gpu-card-0')).toBeVisible()
    await expect(page.getByTestId('gpu-card-1')).toBeVisible()
    await expect(page.getByTestId('gpu-card-2')).toHaveCount(0)
    await expect(page.getByTestId('gpu-name-0')).toHaveText('NVIDIA GeForce RTX 4090')
    await expect(page.getByTestId('gpu-name-1')).toHaveText('NVIDIA GeForce RTX 3060')
    await expect(page.getByTestId('gpu-mem-total-0')).toHaveText('24.0')
    await expect(page.getByTestId('gpu-mem-total-1')).toHaveText('12.0')
    await expect(page.getByTestId('gpu-driver')).toHaveText('550.54.14')
    await expect(page.getByTestId('gpu-cuda')).not.toHaveText('')
    await expect(page.getByTestId('gpu-processes-0')).toContainText('48213')
    await expect(page.getByTestId('gpu-util-0')).toHaveText(/^\d+%$/)
    await expect(page.getByTestId('gpu-temp-0')).toHaveText(/^\d+ °C$/)

    // Live: the used memory shown changes without any user action.
    const used = page.getByTestId('gpu-mem-used-0')
    const first = await used.textContent()
    expect(first).toMatch(/^\d+\.\d$/)
    await expect.poll(() => used.textContent(), { timeout: 10_000 }).not.toBe(first)
    const gauge = page.getByTestId('gpu-card-0').getByRole('meter')
    await expect(gauge).toHaveAttribute('aria-valuenow', /^\d+$/)

    // The README's picture; only refreshed on request, so test runs leave the tree clean.
    if (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(screenshotPath)) {
      await page.emulateMedia({ colorScheme: 'light' })
      await page.mouse.move(0, 0)
      await page.screenshot({ path: screenshotPath })
    }
  })

  test('the GPU page is translated too', async ({ page, server }) => {
    await page.goto(server.url)
    await page.getByTestId('nav-settings').click()
    await page.getByTestId('settings-language').getByText('Русский').click()
    await page.getByTestId('nav-gpu').click()
    await expect(page.getByRole('heading', { level: 2 })).toHaveText('Видеокарты')
    await expect(page.getByTestId('gpu-card-0')).toContainText('Температура')
    await expect(page.getByTestId('gpu-mem-total-0')).toHaveText('24,0')
  })
})

test.describe('a driver without GPUs', () => {
  test.use({ serverOptions: { env: { FAKE_NVIDIA_SMI_SCENARIO: 'none' } } })

  test('says that no GPU was found', async ({ page, server }) => {
    await page.goto(server.url)
    await page.getByTestId('nav-gpu').click()
    await expect(page.getByTestId('gpu-state-empty')).toBeVisible()
    await expect(page.getByTestId('gpu-card-0')).toHaveCount(0)
  })
})

test.describe('a broken driver', () => {
  test.use({ serverOptions: { env: { FAKE_NVIDIA_SMI_SCENARIO: 'failing' } } })

  test('shows the failure and nvidia-smi’s own words', async ({ page, server }) => {
    await page.goto(server.url)
    await page.getByTestId('nav-gpu').click()
    const state = page.getByTestId('gpu-state-error')
    await expect(state).toBeVisible()
    await expect(state).toContainText('Could not read the GPUs')
    await expect(state).toContainText("couldn't communicate with the NVIDIA driver")
  })
})
