// Builds the renderer for headless mode only when needed: out/renderer/index.html is missing or
// older than a source file the renderer is built from (renderer/, core/, the vite config).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const output = path.join(root, 'out', 'renderer', 'index.html')
const sources = ['renderer', 'core', 'electron.vite.config.ts', 'package.json', 'tsconfig.web.json']

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

function builtAt() {
  try {
    return statSync(output).mtimeMs
  } catch {
    return null
  }
}

const built = builtAt()
const newestSource = Math.max(...sources.map((s) => newestMtime(path.join(root, s))))
if (built !== null && built >= newestSource) process.exit(0)

console.error(
  built === null
    ? 'Building the renderer (out/renderer is missing)...'
    : 'Building the renderer (sources changed since the last build)...',
)
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
const result = spawnSync(npx, ['electron-vite', 'build'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  shell: process.platform === 'win32',
})
if (result.status !== 0) {
  console.error('The renderer build failed (see above). Fix the error, then run `npm run serve` again.')
  process.exit(result.status ?? 1)
}
