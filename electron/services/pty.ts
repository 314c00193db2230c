import { createRequire } from 'node:module'
import type * as NodePty from 'node-pty'

/**
 * node-pty, loaded on first use rather than at import. It is a native module: a build for another
 * glibc, a file an antivirus quarantined, or a broken install makes it fail to load, and then only
 * what needs a terminal (runs, installs) should fail, with a message that says so, not the whole app.
 */

type PtyModule = typeof NodePty

export class PtyUnavailableError extends Error {
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
    super(
      `The terminal component (node-pty) could not be loaded, so trainings and installs cannot start: ${reason}. ` +
        'Reinstall SDXL Studio; in a source checkout, run `npm rebuild node-pty`.',
      { cause },
    )
    this.name = 'PtyUnavailableError'
  }
}

const nodeRequire = createRequire(import.meta.url)
let loaded: PtyModule | null = null

/** node-pty, or a PtyUnavailableError naming why not. A failure is not cached: a retry may succeed. */
export function loadPty(load: (id: string) => unknown = nodeRequire): PtyModule {
  if (loaded && load === nodeRequire) return loaded
  let mod: PtyModule
  try {
    mod = load('node-pty') as PtyModule
    if (typeof mod?.spawn !== 'function') throw new Error('node-pty has no spawn()')
  } catch (error) {
    throw new PtyUnavailableError(error)
  }
  if (load === nodeRequire) loaded = mod
  return mod
}

/** pty.spawn through the lazy loader; throws PtyUnavailableError when node-pty cannot load. */
export function spawnPty(
  file: string,
  args: string[],
  options: Parameters<PtyModule['spawn']>[2],
): NodePty.IPty {
  return loadPty().spawn(file, args, options)
}
