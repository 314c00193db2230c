import type { CliCommand } from '../command'

export const vramCommands: CliCommand[] = []
