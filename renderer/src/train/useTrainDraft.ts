import { useCallback, useEffect, useRef, useState } from 'react'
import { repairConfig } from '../../../core/config/draft'
import { defaultConfig } from '../../../core/config/schema'
import { getApiClient } from '../api/client'
import { initialForm, toDraft, type FormState } from '../form/form-state'

/*
 * The Train form's state, kept as a draft on disk (draft.get / draft.save): restored after a reload, a
 * crash of the page or a restart of the app. Saves are debounced and flushed when the page is hidden.
 * The last state is also kept in memory, so leaving the page and coming back shows it at once.
 */

let lastState: FormState | null = null

export type DraftStatus =
  | { kind: 'loading' }
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; at: string }
  | { kind: 'error'; message: string }

const SAVE_DELAY_MS = 400

export function useTrainDraft() {
  const [state, setState] = useState<FormState | null>(lastState)
  const [status, setStatus] = useState<DraftStatus>(lastState ? { kind: 'idle' } : { kind: 'loading' })
  /** No draft was found: a brand-new form, which the page may start from a preset that fits the GPU. */
  const [fresh, setFresh] = useState(false)
  /** Fields of a restored draft that were no longer valid and went back to their defaults. */
  const [dropped, setDropped] = useState<string[]>([])
  const pending = useRef<FormState | null>(null)
  const loaded = useRef(lastState !== null)

  useEffect(() => {
    if (loaded.current) return
    let live = true
    getApiClient()
      .call('draft.get', {})
      .then(
        ({ draft }) => {
          if (!live) return
          if (draft) {
            const r = repairConfig(draft.config)
            setDropped(r.dropped)
            setState({
              config: r.config,
              texts: draft.texts,
              touched: draft.touched,
              presetId: draft.preset_id,
            })
            setStatus({ kind: 'idle' })
          } else {
            setFresh(true)
            setState(initialForm(defaultConfig('lora')))
            setStatus({ kind: 'idle' })
          }
          loaded.current = true
        },
        (e: unknown) => {
          if (!live) return
          // No backend: the form still works; saving reports the problem.
          setState(initialForm(defaultConfig('lora')))
          setStatus({ kind: 'error', message: e instanceof Error ? e.message : String(e) })
          loaded.current = true
        },
      )
    return () => {
      live = false
    }
  }, [])

  const save = useCallback((s: FormState) => {
    pending.current = null
    setStatus({ kind: 'saving' })
    getApiClient()
      .call('draft.save', { draft: toDraft(s) })
      .then(
        ({ saved_at }) => {
          if (pending.current === null) setStatus({ kind: 'saved', at: saved_at })
        },
        (e: unknown) => setStatus({ kind: 'error', message: e instanceof Error ? e.message : String(e) }),
      )
  }, [])

  // Every change: remembered at once, written after a short pause in typing.
  const first = useRef(true)
  useEffect(() => {
    if (!state) return
    lastState = state
    if (first.current) {
      first.current = false
      return
    }
    pending.current = state
    setStatus({ kind: 'saving' })
    const timer = setTimeout(() => save(state), SAVE_DELAY_MS)
    return () => clearTimeout(timer)
  }, [state, save])

  // Leaving or reloading the page: write what is still waiting (the request is sent before unload).
  useEffect(() => {
    const flush = () => {
      if (pending.current) save(pending.current)
    }
    window.addEventListener('pagehide', flush)
    return () => {
      window.removeEventListener('pagehide', flush)
      flush()
    }
  }, [save])

  const update = useCallback((fn: (s: FormState) => FormState) => {
    setState((s) => (s ? fn(s) : s))
  }, [])

  return { state, update, status, fresh, dropped, dismissDropped: () => setDropped([]) }
}
