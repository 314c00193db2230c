import type { CliCommand } from '../command'

export const configsCommands: CliCommand[] = []
