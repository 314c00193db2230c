import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { RequestName, RequestOutput } from '../../core/api/contract'
import { ApiError } from '../../core/api/errors'
import type { Services } from '../services'

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Resolves when the user presses Ctrl-C (for watch/follow commands). */
  interrupted: Promise<void>
}

export interface CliContext {
  io: CliIo
  /** Built lazily so `--help` never starts services. */
  services: () => Services
  /** Calls the router exactly as the transports do and throws ApiError on failure. */
  call: <M extends RequestName>(method: M, input: unknown) => Promise<RequestOutput<M>>
}

type Options = NonNullable<ParseArgsConfig['options']>

export interface CliCommand<O extends Options = Options> {
  /** Words that select the command, e.g. ['gpu', 'list']. */
  path: string[]
  summary: string
  /** Positional arguments shown in help, e.g. '<config file>'. */
  args?: string
  options: O
  run: (
    parsed: {
      values: Record<string, string | boolean | (string | boolean)[] | undefined>
      positionals: string[]
    },
    ctx: CliContext,
  ) => Promise<number>
}

/** Declares a command; the options object is node's parseArgs format. */
export function command<O extends Options>(def: CliCommand<O>): CliCommand {
  return def as unknown as CliCommand
}

export const jsonOption = { json: { type: 'boolean', default: false } } as const

export function parseCommandArgs(cmd: CliCommand, argv: string[]) {
  return parseArgs({ args: argv, options: cmd.options, allowPositionals: true, strict: true })
}

export class CliUsageError extends Error {}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`)
}

export function formatError(error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error) return error.message
  return String(error)
}
