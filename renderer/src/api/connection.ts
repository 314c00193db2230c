import { useSyncExternalStore } from 'react'

/**
 * Whether the renderer has lost its backend. Set when the WebSocket closes, or when a call fails with
 * the transport's own 'unavailable' error; the shell shows a banner while it is set.
 */
let lostReason: string | null = null
const listeners = new Set<() => void>()

export function reportConnectionLost(reason: string): void {
  if (lostReason !== null) return
  lostReason = reason
  listeners.forEach((l) => l())
}

/** For tests and for a future reconnect: clears the lost state. */
export function resetConnectionState(): void {
  lostReason = null
  listeners.forEach((l) => l())
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** The reason the connection was lost, or null while it is up. */
export function useConnectionLost(): string | null {
  return useSyncExternalStore(subscribe, () => lostReason)
}
