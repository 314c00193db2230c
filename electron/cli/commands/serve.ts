import { existsSync } from 'node:fs'
import path from 'node:path'
import { createServices } from '../../services'
import { appVersion } from '../../services/app-version'
import { defaultDataDir } from '../../services/paths'
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  defaultStaticRoot,
  isLoopbackHost,
  startHeadlessServer,
} from '../../server/server'
import { CliUsageError, command, jsonOption, type CliCommand } from '../command'

function parsePort(value: unknown): number {
  if (value === undefined) return DEFAULT_PORT
  const port = Number(value)
  if (typeof value !== 'string' || !/^\d+$/.test(value) || port > 65535) {
    throw new CliUsageError(
      `--port must be a number from 0 to 65535 (0 = any free port), got: ${String(value)}`,
    )
  }
  return port
}

export function exposureWarning(host: string, port: number): string {
  return (
    `WARNING: listening on ${host}, so other machines on the network can reach this server.\n` +
    `Anyone with the token can train models and run programs here as you. Keep the token secret,\n` +
    `allow port ${port} only from trusted addresses in the firewall, or rather listen on 127.0.0.1 and\n` +
    `use an SSH tunnel: ssh -L ${port}:127.0.0.1:${port} <this machine>\n` +
    (host === '0.0.0.0' || host === '::'
      ? `From another machine, open the URL below with this machine's address in place of the host.\n`
      : '')
  )
}

export const serveCommands: CliCommand[] = [
  command({
    path: ['serve'],
    summary: 'Serve the app to a browser (headless mode) with a per-start access token',
    options: {
      ...jsonOption,
      host: { type: 'string' },
      port: { type: 'string' },
      'static-dir': { type: 'string' },
    },
    async run({ values }, ctx) {
      const host = typeof values.host === 'string' && values.host ? values.host : DEFAULT_HOST
      const port = parsePort(values.port)
      const staticRoot =
        typeof values['static-dir'] === 'string' ? path.resolve(values['static-dir']) : defaultStaticRoot()
      if (!existsSync(path.join(staticRoot, 'index.html'))) {
        throw new Error(
          `The renderer is not built: ${path.join(staticRoot, 'index.html')} is missing. ` +
            'In a source checkout, run `npm run serve` (it builds first) or `npm run build`; an installed app has it built in, so reinstall SDXL Studio.',
        )
      }
      const services = createServices({
        dataDir: defaultDataDir(process.env),
        mode: 'headless',
        env: process.env,
        version: appVersion(),
      })
      try {
        let server
        try {
          server = await startHeadlessServer({ router: services.router, host, port, staticRoot })
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code
          if (code === 'EADDRINUSE') {
            throw new Error(
              `Port ${port} on ${host} is already in use. Pick another with --port <n> (0 = any free port).`,
            )
          }
          if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
            throw new Error(`Cannot listen on ${host}: this machine has no such address. Check --host.`)
          }
          throw error
        }
        if (!isLoopbackHost(host)) ctx.io.stderr(exposureWarning(host, server.port))
        if (values.json) {
          ctx.io.stdout(
            `${JSON.stringify({ url: server.loginUrl, token: server.token, port: server.port })}\n`,
          )
        } else {
          ctx.io.stdout(
            `SDXL Studio is running in headless mode.\n\n` +
              `  Open: ${server.loginUrl}\n\n` +
              `The token in that URL changes every start; without it the server only shows a login page.\n` +
              `Data folder: ${services.options.dataDir}\n` +
              `Press Ctrl-C to stop.\n`,
          )
        }
        await ctx.io.interrupted
        await server.close()
        if (!values.json) ctx.io.stderr('Stopped.\n')
        return 0
      } finally {
        await services.dispose()
      }
    },
  }),
]
