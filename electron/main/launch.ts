/**
 * How the desktop binary was asked to run. `sdxl-studio cli <command…>` and `sdxl-studio --serve
 * [--port N] [--host H]` run the CLI bundle as Node (ELECTRON_RUN_AS_NODE) instead of opening a window,
 * so the installed app offers the CLI and headless mode without a separate Node, and `--serve` works
 * on a GPU box with no display. Pure, so it is tested in Node.
 */
export type LaunchRequest = { kind: 'window' } | { kind: 'node'; cliArgs: string[] }

/**
 * The user's arguments: everything after the binary, less the app's path when Electron runs an
 * unpackaged app (`electron [switches] . …`, process.defaultApp): the first argument that is not a switch.
 */
export function userArgs(argv: readonly string[], defaultApp: boolean): string[] {
  const rest = argv.slice(1)
  if (!defaultApp) return rest
  const appAt = rest.findIndex((a) => !a.startsWith('-'))
  return appAt < 0 ? rest : [...rest.slice(0, appAt), ...rest.slice(appAt + 1)]
}

export function launchRequest(args: readonly string[]): LaunchRequest {
  // Chromium and Electron switches (--no-sandbox, --inspect=0, --remote-debugging-port=0) may come first.
  const cliAt = args.findIndex((a) => !a.startsWith('-'))
  const serveAt = args.indexOf('--serve')
  if (cliAt >= 0 && args[cliAt] === 'cli' && (serveAt < 0 || cliAt < serveAt)) {
    return { kind: 'node', cliArgs: args.slice(cliAt + 1) }
  }
  if (serveAt >= 0) return { kind: 'node', cliArgs: ['serve', ...args.slice(serveAt + 1)] }
  return { kind: 'window' }
}

/** The environment for the CLI child: Electron's binary behaves as plain Node with this set. */
export function nodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, ELECTRON_RUN_AS_NODE: '1' }
}
