import { defineConfig } from '@playwright/test'

/** Browser tests run in Debian's Chromium against headless mode (the real services, WebSocket transport). */
export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 60_000,
  workers: 1,
  // CI shares two cores with everything else: retry once, and the report names any test that needed it (flaky).
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    viewport: { width: 1280, height: 860 },
  },
})
