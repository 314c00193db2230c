/**
 * The only page served without the token. Plain HTML, no script: the form submits the token as
 * ?token=..., which the server turns into a cookie and strips from the address bar.
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
    <p>This server needs its access token. The command that started it (<code>npm run serve</code>) printed a URL containing <code>?token=</code>; open that URL, or paste the token here.</p>
    ${notice}
    <form method="get" action="/">
      <label for="token">Access token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required autofocus />
      <button type="submit">Open SDXL Studio</button>
    </form>
  </body>
</html>
`
}
