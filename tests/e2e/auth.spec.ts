import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'

/** Opens a WebSocket to /api from inside the page and reports whether it opened or failed. */
async function tryWebSocket(page: Page, origin: string): Promise<'open' | 'failed'> {
  return page.evaluate(
    (url) =>
      new Promise<'open' | 'failed'>((resolve) => {
        const ws = new WebSocket(url)
        ws.onopen = () => {
          ws.close()
          resolve('open')
        }
        ws.onerror = () => resolve('failed')
        ws.onclose = () => resolve('failed')
      }),
    `${origin.replace(/^http/, 'ws')}/api`,
  )
}

test('HTTP without the token is refused with 401', async ({ request, server }) => {
  const plain = await request.get(`${server.origin}/`)
  expect(plain.status()).toBe(401)
  const wrong = await request.get(`${server.origin}/?token=not-the-token`, { maxRedirects: 0 })
  expect(wrong.status()).toBe(401)
  const asset = await request.get(`${server.origin}/index.html`)
  expect(asset.status()).toBe(401)
  // The right token is accepted (so the refusals above are about the token, not a broken server).
  const right = await request.get(server.url)
  expect(right.status()).toBe(200)
})

test('a page without the cookie cannot open the API WebSocket; with it, it can', async ({
  browser,
  server,
}) => {
  const stranger = await browser.newContext()
  const strangerPage = await stranger.newPage()
  const response = await strangerPage.goto(`${server.origin}/`)
  expect(response?.status()).toBe(401)
  expect(await tryWebSocket(strangerPage, server.origin)).toBe('failed')
  await stranger.close()

  const user = await browser.newContext()
  const userPage = await user.newPage()
  await userPage.goto(server.url)
  await expect(userPage.getByTestId('nav-gpu')).toBeVisible()
  expect(await tryWebSocket(userPage, server.origin)).toBe('open')
  await user.close()
})

test.describe('when the server goes away', () => {
  // Stopping the server can cut a request the page still had in flight (a lazy page chunk): the browser
  // logs that as a failed resource. Those are the only errors this test tolerates.
  test.use({ allowPageErrors: true })

  test('the app shows a connection-lost banner', async ({ page, server }) => {
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    await page.goto(server.url)
    await expect(page.getByTestId('nav-gpu')).toBeVisible()
    await page.waitForLoadState('networkidle')
    await expect(page.getByTestId('connection-lost')).toHaveCount(0)
    await server.stop()
    await expect(page.getByTestId('connection-lost')).toBeVisible()
    await expect(page.getByTestId('connection-lost')).toContainText('No connection to SDXL Studio')
    expect(errors.filter((e) => !/net::ERR_CONNECTION_(RESET|REFUSED)/.test(e))).toEqual([])
  })
})

test('the login form posts the token: no request address and no history entry ever holds it', async ({
  browser,
  server,
}) => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const urls: string[] = []
  page.on('request', (r) => urls.push(r.url()))
  await page.goto(`${server.origin}/`)
  await page.getByLabel('Access token').fill(server.token)
  await page.getByRole('button', { name: 'Open SDXL Studio' }).click()
  await expect(page.getByTestId('nav-gpu')).toBeVisible()
  expect(urls.length).toBeGreaterThan(2)
  expect(urls.filter((u) => u.includes(server.token))).toEqual([])
  expect(new URL(page.url()).pathname).toBe('/')
  const cdp = await context.newCDPSession(page)
  const { entries } = (await cdp.send('Page.getNavigationHistory')) as { entries: Array<{ url: string }> }
  expect(entries.filter((e) => e.url.includes(server.token))).toEqual([])
  await context.close()
})

test('the printed ?token= address leaves no history entry with the token', async ({ browser, server }) => {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(server.url)
  await expect(page.getByTestId('nav-gpu')).toBeVisible()
  expect(page.url()).toBe(`${server.origin}/`)
  const cdp = await context.newCDPSession(page)
  const { entries } = (await cdp.send('Page.getNavigationHistory')) as { entries: Array<{ url: string }> }
  expect(entries.map((e) => e.url)).not.toContain(server.url)
  expect(entries.filter((e) => e.url.includes(server.token))).toEqual([])
  await context.close()
})

test.describe('the page may connect only to its own server', () => {
  // Chromium logs the refused connection as a console error: that error is the point of the test.
  test.use({ allowPageErrors: true })

  test('a WebSocket to another host is blocked by the CSP; its own API socket is not', async ({
    page,
    server,
  }) => {
    await page.goto(server.url)
    await expect(page.getByTestId('nav-gpu')).toBeVisible()
    expect(await tryWebSocket(page, server.origin)).toBe('open')
    const other = server.origin.replace('127.0.0.1', 'localhost')
    const violation = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          // The violation event bubbles from the document to the window (globalThis in the page).
          const page = globalThis as unknown as EventTarget
          page.addEventListener('securitypolicyviolation', (e: Event) => {
            const v = e as unknown as { effectiveDirective: string; blockedURI: string }
            resolve(`${v.effectiveDirective} ${v.blockedURI}`)
          })
          try {
            const ws = new WebSocket(url)
            ws.onopen = () => resolve('opened')
          } catch (error) {
            resolve(`threw ${String(error)}`)
          }
          setTimeout(() => resolve('no violation'), 3000)
        }),
      `${other.replace(/^http/, 'ws')}/api`,
    )
    expect(violation).toMatch(/^connect-src ws:\/\/localhost:/)
  })
})
