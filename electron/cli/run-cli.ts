import { ApiError } from '../../core/api/errors'
import { createServices, type Services } from '../services'
import { appVersion } from '../services/app-version'
import { defaultDataDir } from '../services/paths'
import { CliUsageError, formatError, parseCommandArgs, type CliCommand, type CliIo } from './command'
import { cliCommands } from './registry'

export { appVersion }

/**
 * How a failure reads under --json: one JSON document on stdout, so a script that parses stdout always
 * gets JSON. `code` is the API's error code, 'usage' for a wrong command line, 'failed' for the rest.
 */
export function jsonError(error: unknown): string {
  const code = error instanceof ApiError ? error.code : error instanceof CliUsageError ? 'usage' : 'failed'
  const details = error instanceof ApiError && error.details !== undefined ? { details: error.details } : {}
  return `${JSON.stringify({ ok: false, error: { code, message: formatError(error), ...details } })}\n`
}

function findCommand(words: string[]): { cmd: CliCommand; rest: string[] } | null {
  let best: { cmd: CliCommand; rest: string[] } | null = null
  for (const cmd of cliCommands) {
    const n = cmd.path.length
    if (words.length >= n && cmd.path.every((w, i) => words[i] === w)) {
      if (!best || n > best.cmd.path.length) best = { cmd, rest: words.slice(n) }
    }
  }
  return best
}

function usage(): string {
  // Command and arguments on one line, the summary indented below: arguments can be long.
  const lines = cliCommands.map(
    (c) => `  ${`${c.path.join(' ')} ${c.args ?? ''}`.trimEnd()}\n      ${c.summary}`,
  )
  return `SDXL Studio command line ${appVersion()}\n\nUsage: sdxl-studio cli <command> [options]   (in a source checkout: npm run -s cli -- <command> [options])\n\nCommands:\n${lines.join('\n')}\n\nAdd --help to a command for its options, --json for machine-readable output (errors too),\n--version for the version.\n`
}

function commandHelp(cmd: CliCommand): string {
  const opts = Object.entries(cmd.options).map(
    ([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`,
  )
  return `${cmd.summary}\n\nUsage: sdxl-studio cli ${cmd.path.join(' ')} ${cmd.args ?? ''}\n${opts.length ? `\nOptions:\n${opts.join('\n')}\n` : ''}`
}

/** Runs one CLI invocation; returns the exit code. Used by main.ts and by tests in-process. */
export async function runCli(
  argv: string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    io.stdout(usage())
    return argv.length === 0 ? 1 : 0
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout(`${appVersion()}\n`)
    return 0
  }
  const json = argv.includes('--json')
  const found = findCommand(argv)
  if (!found) {
    if (json) io.stdout(jsonError(new CliUsageError(`Unknown command: ${argv.join(' ')}`)))
    io.stderr(`Unknown command: ${argv.join(' ')}\n\n${usage()}`)
    return 2
  }
  const { cmd, rest } = found
  if (rest.includes('--help')) {
    io.stdout(commandHelp(cmd))
    return 0
  }
  let services: Services | null = null
  const getServices = () =>
    (services ??= createServices({ dataDir: defaultDataDir(env), mode: 'cli', env, version: appVersion() }))
  try {
    let parsed
    try {
      parsed = parseCommandArgs(cmd, rest)
    } catch (error) {
      throw new CliUsageError(`${formatError(error)}\n\n${commandHelp(cmd)}`)
    }
    return await cmd.run(parsed, {
      io,
      services: getServices,
      call: async (method, input) => {
        const result = await getServices().router.call(method, input, { transport: 'cli' })
        if (!result.ok) throw ApiError.from(result.error)
        return result.result
      },
    })
  } catch (error) {
    if (json) io.stdout(jsonError(error))
    io.stderr(`Error: ${formatError(error)}\n`)
    return error instanceof CliUsageError ? 2 : 1
  } finally {
    await (services as Services | null)?.dispose()
  }
}
