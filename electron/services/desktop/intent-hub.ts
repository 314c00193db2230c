import type { IntentBatch } from '../../../core/api/domains/desktop'

/** How many batches wait for a page that has not subscribed yet (a launch with files, before the window loads). */
const PENDING_LIMIT = 20

/**
 * Intents the desktop host sends to the page (menu commands, files from a second launch, a notification
 * click). Delivered to every subscribed page; with none subscribed yet they wait, so files given on the
 * command line are not lost while the window is still loading.
 */
export class IntentHub {
  private readonly listeners = new Set<(batch: IntentBatch) => void>()
  private pending: IntentBatch[] = []

  publish(batch: IntentBatch): void {
    if (batch.intents.length === 0 && batch.problems.length === 0) return
    if (this.listeners.size === 0) {
      this.pending = [...this.pending, batch].slice(-PENDING_LIMIT)
      return
    }
    for (const l of this.listeners) l(batch)
  }

  subscribe(listener: (batch: IntentBatch) => void): () => void {
    this.listeners.add(listener)
    const waiting = this.pending
    this.pending = []
    for (const b of waiting) listener(b)
    return () => this.listeners.delete(listener)
  }

  get pendingCount(): number {
    return this.pending.length
  }
}
