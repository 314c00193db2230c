// Builds only when needed: an output is missing or older than a source it is built from.
//   node scripts/ensure-build.mjs            headless mode: the renderer and the CLI bundle (npm run build:headless)
//   node scripts/ensure-build.mjs app        the whole app: main, preload, renderer, CLI (npm run build)
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const target = process.argv[2] ?? 'headless'
const targets = {
  headless: { script: 'build:headless', outputs: ['out/renderer/index.html', 'out/cli/index.js'] },
  app: {
    script: 'build',
    outputs: ['out/main/index.cjs', 'out/preload/index.cjs', 'out/renderer/index.html', 'out/cli/index.js'],
  },
}
const chosen = targets[target]
if (!chosen) {
  console.error(`Unknown build target "${target}". Use one of: ${Object.keys(targets).join(', ')}.`)
  process.exit(2)
}
// Everything the bundles are built from (node_modules changes come with package-lock.json).
const sources = [
  'renderer',
  'core',
  'electron',
  'presets',
  'resources/vram',
  'electron.vite.config.ts',
  'vite.cli.config.ts',
  'scripts/build-warnings.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.web.json',
  'tsconfig.node.json',
]

/** Newest modification time under `p` (0 when absent); skips node_modules and dot folders. */
function newestMtime(p) {
  let stat
  try {
    stat = statSync(p)
  } catch {
    return 0
  }
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = 0
  for (const entry of readdirSync(p, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    newest = Math.max(newest, newestMtime(path.join(p, entry.name)))
  }
  return newest
}

/** The oldest output's time, or null when one is missing. */
function builtAt() {
  let oldest = Infinity
  for (const output of chosen.outputs) {
    try {
      oldest = Math.min(oldest, statSync(path.join(root, output)).mtimeMs)
    } catch {
      return null
    }
  }
  return oldest
}

const built = builtAt()
const newestSource = Math.max(...sources.map((s) => newestMtime(path.join(root, s))))
if (built !== null && built >= newestSource) process.exit(0)

console.error(
  built === null
    ? `Building (${chosen.outputs.join(', ')}: something is missing)...`
    : 'Building (sources changed since the last build)...',
)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const result = spawnSync(npm, ['run', '-s', chosen.script], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  shell: process.platform === 'win32',
})
if (result.status !== 0) {
  console.error(`The build failed (see above). Fix the error, then run it again (npm run ${chosen.script}).`)
  process.exit(result.status ?? 1)
}
