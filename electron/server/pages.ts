import type { IncomingMessage } from 'node:http'

/** Where the login form posts the token. */
export const LOGIN_PATH = '/login'

/** Tokens are 43 characters; a login form is never bigger than this. */
const MAX_FORM_BYTES = 4096

/**
 * The only page served without the token. Plain HTML, no script: the form posts the token, so it
 * never appears in an address, the history or a log; the server answers with the cookie.
 */
export function loginPage(options: { wrongToken: boolean }): string {
  const notice = options.wrongToken
    ? '<p class="error">That token is not valid for this server. Tokens change every time the server starts: copy the one it printed last.</p>'
    : ''
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="robots" content="noindex" />
    <title>SDXL Studio: access token needed</title>
    <style>
      body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
      input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; margin: .5rem 0 1rem; }
      button { padding: .5rem 1.25rem; font: inherit; }
      .error { color: #b00020; }
      code { background: #f2f2f2; padding: 0 .25rem; }
      @media (prefers-color-scheme: dark) { body { background: #1a1b1e; color: #ddd; } code { background: #333; } }
    </style>
  </head>
  <body>
    <h1>SDXL Studio</h1>
    <p>This server needs its access token. The command that started it (<code>sdxl-studio --serve</code> or <code>npm run serve</code>) printed a URL containing <code>?token=</code>; open that URL, or paste the token here.</p>
    ${notice}
    <form method="post" action="${LOGIN_PATH}">
      <label for="token">Access token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required autofocus />
      <button type="submit">Open SDXL Studio</button>
    </form>
  </body>
</html>
`
}

export type LoginForm = { kind: 'ok'; token: string | null } | { kind: 'too_large' } | { kind: 'bad_type' }

/** Reads the login form's body (application/x-www-form-urlencoded, at most 4 KB). */
export async function readLoginForm(req: IncomingMessage): Promise<LoginForm> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume()
    return { kind: 'bad_type' }
  }
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_FORM_BYTES) {
    req.resume()
    return { kind: 'too_large' }
  }
  // Read to the end even when too large (the rest is dropped), so the answer reaches the browser.
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_FORM_BYTES) chunks.push(chunk)
    })
    req.on('error', () => resolve({ kind: 'too_large' }))
    req.on('end', () =>
      resolve(
        size > MAX_FORM_BYTES
          ? { kind: 'too_large' }
          : { kind: 'ok', token: new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') },
      ),
    )
  })
}
