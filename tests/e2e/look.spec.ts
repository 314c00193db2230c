import { test } from './fixtures'
test('look', async ({ page, server }) => {
  await page.setViewportSize({ width: 1280, height: 720 })
  await page.goto(server.url)
  await page.waitForTimeout(6000)
  await page.screenshot({ path: 'tmp/t/look1.png' })
  await page.screenshot({ path: 'tmp/t/look1-full.png', fullPage: true })
  await page.setViewportSize({ width: 1100, height: 720 })
  await page.waitForTimeout(1000)
  await page.screenshot({ path: 'tmp/t/look2.png' })
})
