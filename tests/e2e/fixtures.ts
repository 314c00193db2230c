import { test as base, expect } from '@playwright/test'
import { ensureRendererBuilt, startServer, type RunningServer, type StartOptions } from './server'

export { expect }

interface Fixtures {
  /** Console errors and uncaught exceptions in `page` fail the test unless a test expects them. */
  allowPageErrors: boolean
  /** How the server is started (PATH, extra env); set per file or test with test.use(). */
  serverOptions: StartOptions
  /** A fresh headless server with its own empty data folder, stopped after the test. */
  server: RunningServer
}

interface WorkerFixtures {
  rendererBuilt: void
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  rendererBuilt: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      ensureRendererBuilt()
      await use()
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  serverOptions: [{}, { option: true }],
  allowPageErrors: [false, { option: true }],
  page: async ({ page, allowPageErrors }, use) => {
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console.error: ${message.text()}`)
    })
    await use(page)
    if (!allowPageErrors) expect(errors, 'errors in the page').toEqual([])
  },
  server: async ({ serverOptions, rendererBuilt }, use) => {
    void rendererBuilt
    const server = await startServer(serverOptions)
    try {
      await use(server)
    } finally {
      await server.stop()
    }
  },
})
