import { expect, test } from './fixtures'

// PATH holds node and nothing else: no nvidia-smi anywhere.
test.use({ serverOptions: { nvidiaSmi: 'none' } })

test('without nvidia-smi the GPU page explains that no NVIDIA driver was found', async ({ page, server }) => {
  await page.goto(`${server.url}`)
  await page.getByTestId('nav-gpu').click()
  const state = page.getByTestId('gpu-state-no-driver')
  await expect(state).toBeVisible()
  await expect(state).toContainText('No NVIDIA driver found')
  await expect(state).toContainText('nvidia-smi')
  await expect(page.getByTestId('gpu-card-0')).toHaveCount(0)
})
