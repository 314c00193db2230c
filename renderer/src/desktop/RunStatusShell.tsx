import { useRunStatusShell } from './useRunStatusShell'

/**
 * Mounted once in the shell, rendering nothing: it alone re-renders on every run update (several a second
 * while training), not the pages around it.
 */
export function RunStatusShell({ base, openRun }: { base: string; openRun: (id: string) => void }) {
  useRunStatusShell(base, openRun)
  return null
}
