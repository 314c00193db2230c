import type { CliCommand } from './command'
import { configsCommands } from './commands/configs'
import { datasetCommands } from './commands/dataset'
import { envCommands } from './commands/env'
import { gpuCommands } from './commands/gpu'
import { loraCommands } from './commands/lora'
import { runsCommands } from './commands/runs'
import { serveCommands } from './commands/serve'
import { tensorboardCommands } from './commands/tensorboard'
import { trainingCommands } from './commands/training'
import { vramCommands } from './commands/vram'

/** Every CLI command. A domain adds its commands in its own file under commands/. */
export const cliCommands: CliCommand[] = [
  ...gpuCommands,
  ...serveCommands,
  ...envCommands,
  ...configsCommands,
  ...runsCommands,
  ...vramCommands,
  ...trainingCommands,
  ...tensorboardCommands,
  ...loraCommands,
  ...datasetCommands,
]
