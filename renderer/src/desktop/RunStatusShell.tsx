import { useRunStatusShell } from './useRunStatusShell'

/**
 * Mounted once in the shell, rendering nothing: it alone re-renders on every run update (several a second
 * while training), not the pages around it.
 */
export function RunStatusShell({
  base,
  idle,
  openRun,
}: {
  base: string
  /** The title while no run has anything to say (the page's own, e.g. "Train · SDXL Studio"). */
  idle: string
  openRun: (id: string) => void
}) {
  useRunStatusShell(base, openRun, idle)
  return null
}
