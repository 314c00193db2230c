import type { CliCommand } from '../command'

// Filled in by the headless server (electron/server).
export const serveCommands: CliCommand[] = []
