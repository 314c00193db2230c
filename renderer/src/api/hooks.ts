import { useCallback, useEffect, useRef, useState } from 'react'
import type {
  EventName,
  EventParams,
  EventPayload,
  RequestInput,
  RequestName,
  RequestOutput,
} from '../../../core/api/contract'
import type { ApiError } from '../../../core/api/api-error'
import type { Subscription } from '../../../core/api/client'
import { getApiClient, toApiError } from './client'

/*
 * Small hooks every page uses to reach the backend. Inputs are compared by their JSON text, so callers
 * may pass object literals without memoising them. Results are tagged with the key they belong to,
 * so a stale response never shows up under a newer input.
 */

export interface CallState<T> {
  data: T | undefined
  error: ApiError | undefined
  loading: boolean
  /** Runs the call again (e.g. after a change made elsewhere). */
  reload: () => void
}

/** Calls `method` with `input` on mount and whenever the input changes. */
export function useApiCall<M extends RequestName>(
  method: M,
  input: RequestInput<M>,
  options: { enabled?: boolean } = {},
): CallState<RequestOutput<M>> {
  const enabled = options.enabled ?? true
  const [nonce, setNonce] = useState(0)
  const inputJson = JSON.stringify(input) ?? '{}'
  const key = `${method} ${inputJson} ${nonce}`
  const [result, setResult] = useState<{
    key: string
    data?: RequestOutput<M>
    error?: ApiError
  } | null>(null)

  useEffect(() => {
    if (!enabled) return
    let live = true
    getApiClient()
      .call(method, JSON.parse(inputJson) as RequestInput<M>)
      .then(
        (data) => live && setResult({ key, data }),
        (error: unknown) => live && setResult({ key, error: toApiError(error) }),
      )
    return () => {
      live = false
    }
  }, [method, inputJson, key, enabled])

  const reload = useCallback(() => setNonce((n) => n + 1), [])
  const current = result?.key === key ? result : null
  return {
    // Keep showing the previous data while a reload runs, so views do not flicker.
    data: current?.data ?? result?.data,
    error: current?.error,
    loading: enabled && current === null,
    reload,
  }
}

export interface ActionState<M extends RequestName> {
  run: (input: RequestInput<M>) => Promise<RequestOutput<M>>
  pending: boolean
  error: ApiError | undefined
}

/** A call made on demand (a button), with its pending state and last error. */
export function useApiAction<M extends RequestName>(method: M): ActionState<M> {
  const [pending, setPending] = useState(0)
  const [error, setError] = useState<ApiError | undefined>()
  const run = useCallback(
    async (input: RequestInput<M>) => {
      setPending((n) => n + 1)
      setError(undefined)
      try {
        return await getApiClient().call(method, input)
      } catch (e) {
        const apiError = toApiError(e)
        setError(apiError)
        throw apiError
      } finally {
        setPending((n) => n - 1)
      }
    },
    [method],
  )
  return { run, pending: pending > 0, error }
}

export interface SubscriptionState<T> {
  /** The latest payload, if any has arrived. */
  data: T | undefined
  /** Why the stream ended with an error, if it did. */
  error: ApiError | undefined
  ended: boolean
  /** For flow-controlled streams (terminal output): acknowledge what has been processed (e.g. parsed by xterm). */
  processed: (units: number) => void
}

/**
 * Subscribes to `event` while mounted and keeps its latest payload. `onData` sees every payload (for
 * views that accumulate, e.g. a chart); it may change between renders without resubscribing.
 */
export function useSubscription<E extends EventName>(
  event: E,
  params: EventParams<E>,
  options: {
    enabled?: boolean
    onData?: (payload: EventPayload<E>) => void
    /** false: do not keep (and re-render for) each payload; for high-volume streams handled in onData. */
    keepLatest?: boolean
  } = {},
): SubscriptionState<EventPayload<E>> {
  const enabled = options.enabled ?? true
  const keepLatest = options.keepLatest ?? true
  const paramsJson = JSON.stringify(params) ?? '{}'
  const key = `${event} ${paramsJson}`
  const [state, setState] = useState<{
    key: string
    data?: EventPayload<E>
    error?: ApiError
    ended: boolean
  } | null>(null)
  const onData = options.onData
  const onDataRef = useRef(onData)
  const subRef = useRef<Subscription | null>(null)
  useEffect(() => {
    onDataRef.current = onData
  }, [onData])

  useEffect(() => {
    if (!enabled) return
    let live = true
    const sub = getApiClient().subscribe(event, JSON.parse(paramsJson) as EventParams<E>, {
      data: (payload) => {
        if (!live) return
        onDataRef.current?.(payload)
        if (!keepLatest) return
        setState((s) => ({ key, data: payload, error: s?.key === key ? s.error : undefined, ended: false }))
      },
      end: (error) => {
        if (!live) return
        setState((s) => ({ key, data: s?.key === key ? s.data : undefined, error, ended: true }))
      },
    })
    subRef.current = sub
    return () => {
      live = false
      if (subRef.current === sub) subRef.current = null
      sub.close()
    }
  }, [event, paramsJson, key, enabled, keepLatest])

  const processed = useCallback((units: number) => subRef.current?.processed(units), [])
  const current = state?.key === key ? state : null
  return { data: current?.data, error: current?.error, ended: current?.ended ?? false, processed }
}
