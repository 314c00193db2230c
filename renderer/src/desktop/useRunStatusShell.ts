import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import {
  composeTitle,
  desktopStatus,
  leaveGuardRuns,
  notificationFor,
  RunWatch,
  shouldNotify,
  type RunEnded,
} from '../../../core/desktop/run-status'
import type { RunRecord } from '../../../core/runs/record'
import { getApiClient, isDesktopApp } from '../api/client'
import { useSubscription } from '../api/hooks'
import { notifyEnabled } from './notify-pref'
import { useDesktopRender } from './render'
import { onStartedRunsChange, startedRuns } from './started-runs'

/**
 * The page's part of "show a run's state where the desktop shows it":
 * - the document title (the browser tab, and the desktop window, whose title follows it) carries the
 *   training run's step/total and time left, or that a run failed, until the user looks at the page again;
 * - in headless mode, a browser notification when a run ends finished or failed (if turned on), and a
 *   "leave this page?" prompt while a run started from this tab trains. Closing the tab never stops a run:
 *   runs belong to the server, and it keeps them going.
 * The desktop app's tray, taskbar and system notifications are done by its main process from the same rules.
 */
export function useRunStatusShell(base: string, openRun: (id: string) => void, idle: string = base): void {
  const render = useDesktopRender()
  const desktop = isDesktopApp()
  const watch = useRef(new RunWatch())
  const [runs, setRuns] = useState<Map<string, RunRecord>>(new Map())
  const [failed, setFailed] = useState<{ id: string; name: string } | null>(null)
  const [startedVersion, setStartedVersion] = useState(0)
  const openRunRef = useRef(openRun)
  useEffect(() => {
    openRunRef.current = openRun
  }, [openRun])

  useEffect(() => onStartedRunsChange(() => setStartedVersion((v) => v + 1)), [])

  const notify = useCallback(
    (ended: RunEnded) => {
      if (desktop || !notifyEnabled()) return
      if (!shouldNotify({ focused: document.hasFocus(), visible: !document.hidden })) return
      const n = notificationFor(ended)
      try {
        const note = new Notification(render(n.title), {
          body: n.body.map(render).join('\n'),
          tag: `run-${n.runId}`,
        })
        note.onclick = () => {
          window.focus()
          openRunRef.current(n.runId)
          note.close()
        }
      } catch {
        // Some browsers allow notifications only from a service worker: the title still says it.
      }
    },
    [desktop, render],
  )

  // The list first, then live updates (an update that arrives before the list is newer and wins).
  useEffect(() => {
    let live = true
    getApiClient()
      .call('run.list', {})
      .then((list) => {
        if (!live) return
        watch.current.seed(list.runs)
        setRuns((old) => {
          const next = new Map(list.runs.map((r) => [r.id, r]))
          for (const [id, r] of old) next.set(id, r)
          return next
        })
      })
      .catch(() => undefined)
    return () => {
      live = false
    }
  }, [])

  useSubscription(
    'run.progress',
    {},
    {
      keepLatest: false,
      onData: useCallback(
        (u: { run: RunRecord }) => {
          const ended = watch.current.observe(u.run)
          setRuns((old) => new Map(old).set(u.run.id, u.run))
          setFailed(watch.current.failed)
          if (ended) notify(ended)
        },
        [notify],
      ),
    },
  )

  // Looking at the page again clears a failure from the title.
  useEffect(() => {
    const seen = () => {
      if (document.hidden || !document.hasFocus()) return
      watch.current.acknowledge()
      setFailed(null)
    }
    window.addEventListener('focus', seen)
    document.addEventListener('visibilitychange', seen)
    return () => {
      window.removeEventListener('focus', seen)
      document.removeEventListener('visibilitychange', seen)
    }
  }, [])

  const list = useMemo(() => [...runs.values()], [runs])
  const status = useMemo(() => desktopStatus(list, { failed }), [list, failed])
  useEffect(() => {
    // A run's state goes before the app's name; with nothing to say, the page names the tab.
    const titled = composeTitle(status, base, render)
    document.title = titled === base ? idle : titled
  }, [status, base, idle, render])

  // Headless only: in the desktop app a beforeunload handler would silently cancel the window's close
  // (the main process asks there, with its own dialog).
  const guarded = useMemo(
    () => (desktop ? 0 : leaveGuardRuns(list, startedRuns()).length),
    // startedVersion: the set changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [desktop, list, startedVersion],
  )
  useEffect(() => {
    if (guarded === 0) return
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault()
      // Older browsers need returnValue set; every browser shows its own wording.
      event.returnValue = ''
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [guarded])
}
