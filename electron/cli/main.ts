import { runCli } from './run-cli'

let interrupt: () => void = () => undefined
const interrupted = new Promise<void>((resolve) => (interrupt = resolve))
process.once('SIGINT', () => interrupt())
process.once('SIGTERM', () => interrupt())

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interrupted,
})
// Let stdout drain before exiting (large JSON documents through a pipe).
process.stdout.write('', () => process.exit(code))
