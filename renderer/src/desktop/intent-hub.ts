import type { AppCommand } from '../../../core/desktop/app-commands'
import type { DropIntent } from '../../../core/desktop/drop-policy'

/** How many undelivered intents wait for a subscriber (the newest are kept). */
export const PENDING_LIMIT = 10

export interface HubOptions {
  /**
   * How long an intent nobody handled yet may wait for a subscriber (ms); 0: it is dropped at once. Drops
   * wait for the page the shell switched to; a command must never fire later by surprise.
   */
  waitMs: number
  now?: () => number
}

/**
 * A tiny typed event hub between the app shell and the pages. The shell publishes what the user asked for
 * (a dropped model, an image folder, a config to import, a menu command); a page subscribes to the kinds it
 * handles. An intent published while no page handles its kind (the Train page is still loading after the
 * shell switched to it) waits up to `waitMs`, and goes to the first subscriber for that kind.
 */
export class IntentHub<T extends { type: string }> {
  private readonly subscribers = new Set<{ types: ReadonlySet<string>; handler: (intent: T) => void }>()
  private pending: Array<{ intent: T; at: number }> = []
  private readonly now: () => number

  constructor(private readonly options: HubOptions) {
    this.now = options.now ?? (() => Date.now())
  }

  /** Delivers to every subscriber of the intent's kind; true if one took it, false if it waits or is dropped. */
  publish(intent: T): boolean {
    const takers = [...this.subscribers].filter((s) => s.types.has(intent.type))
    if (takers.length === 0) {
      if (this.options.waitMs > 0)
        this.pending = [...this.pending, { intent, at: this.now() }].slice(-PENDING_LIMIT)
      return false
    }
    for (const s of takers) s.handler(intent)
    return true
  }

  subscribe(types: readonly T['type'][], handler: (intent: T) => void): () => void {
    const entry = { types: new Set<string>(types), handler }
    this.subscribers.add(entry)
    const fresh = this.pending.filter((p) => this.now() - p.at <= this.options.waitMs)
    const mine = fresh.filter((p) => entry.types.has(p.intent.type))
    this.pending = fresh.filter((p) => !entry.types.has(p.intent.type))
    for (const p of mine) handler(p.intent)
    return () => {
      this.subscribers.delete(entry)
    }
  }

  /** Whether some page handles this kind right now. */
  handles(type: T['type']): boolean {
    return [...this.subscribers].some((s) => s.types.has(type))
  }

  /** Intents still waiting (for tests and the drop notice). */
  waiting(): readonly T[] {
    return this.pending.filter((p) => this.now() - p.at <= this.options.waitMs).map((p) => p.intent)
  }
}

export type CommandIntent = { type: AppCommand }
export type RunFocusIntent = { type: 'open-run'; id: string }

/** Dropped or opened files for the Train page: model path, image folders, kohya_ss JSON and TOML imports. */
export const dropIntents = new IntentHub<DropIntent>({ waitMs: 30_000 })
/** Menu commands and shortcuts a page carries out (Start, Save preset: the Train page); never kept for later. */
export const commandIntents = new IntentHub<CommandIntent>({ waitMs: 0 })
/** "Show this run" (a notification was clicked): the Runs page selects it when it has loaded. */
export const runFocusIntents = new IntentHub<RunFocusIntent>({ waitMs: 30_000 })

export const DROP_INTENT_TYPES: readonly DropIntent['type'][] = [
  'set-model-path',
  'add-image-folder',
  'import-kohya-json',
  'import-toml',
]
