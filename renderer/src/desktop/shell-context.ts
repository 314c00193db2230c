import { createContext, useContext } from 'react'
import type { AppCommand } from '../../../core/desktop/app-commands'
import type { DropPlan } from '../../../core/desktop/drop-policy'

export interface DropNoticeState {
  plan: DropPlan
  /** Intents nobody took yet (the page they are for has not loaded). */
  waiting: number
  at: number
}

export interface ShellApi {
  runCommand(command: AppCommand): void
  /** Opens paths on the machine running SDXL Studio (recent lists): routed like a drop. */
  openPaths(paths: string[]): void
  notice: DropNoticeState | null
  dismissNotice(): void
}

export const ShellContext = createContext<ShellApi | null>(null)

export function useShell(): ShellApi {
  const api = useContext(ShellContext)
  if (!api) throw new Error('useShell() outside <DesktopShell>')
  return api
}
