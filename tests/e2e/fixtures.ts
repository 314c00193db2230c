import { test as base, expect } from '@playwright/test'
import { ensureRendererBuilt, startServer, type RunningServer, type StartOptions } from './server'

export { expect }

interface Fixtures {
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
