import type { ApiClient } from '../../../core/api/client'

/**
 * Runs started from this page (this tab or window): the headless page asks before the tab closes while one
 * of them trains. Recorded where every start goes through, the API client, so any page's start button counts.
 */
const started = new Set<string>()
const listeners = new Set<() => void>()

/** The requests that start a run and answer with its record. */
const STARTS = new Set(['run.start', 'train.start', 'run.rerun'])

export function startedRuns(): ReadonlySet<string> {
  return started
}

export function onStartedRunsChange(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export function recordStartedRun(id: string): void {
  if (started.has(id)) return
  started.add(id)
  listeners.forEach((l) => l())
}

export function trackStartedRuns(inner: ApiClient): ApiClient {
  return {
    async call(method, input) {
      const result = await inner.call(method, input)
      if (STARTS.has(method)) {
        const id = (result as { id?: unknown } | null)?.id
        if (typeof id === 'string') recordStartedRun(id)
      }
      return result
    },
    subscribe: (event, params, handlers) => inner.subscribe(event, params, handlers),
  }
}
