import type { CliCommand } from '../command'

export const runsCommands: CliCommand[] = []
