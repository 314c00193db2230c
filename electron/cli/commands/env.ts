import type { CliCommand } from '../command'

export const envCommands: CliCommand[] = []
