import { useCallback, useEffect } from 'react'
import { useTranslation } from 'react-i18next'
import { formatDuration, type RunNotice } from '../../../core/runs/notice'
import { useSubscription } from '../api/hooks'

/** Title and body of a finished/failed notification in the user's language. */
export function useNoticeText() {
  const { t } = useTranslation('runs')
  return useCallback(
    (n: RunNotice) => {
      const loss = n.final_loss === null ? t('notify.noLoss') : n.final_loss.toPrecision(4)
      const time =
        n.duration_s === null
          ? '—'
          : formatDuration(n.duration_s, { h: t('notify.h'), min: t('notify.min'), s: t('notify.s') })
      return {
        title: t(n.state === 'finished' ? 'notify.finished' : 'notify.failed', { name: n.name }),
        body: t('notify.body', { loss, time }),
      }
    },
    [t],
  )
}

/**
 * Headless mode: a browser notification when a run finishes or fails. (The desktop app shows a native
 * one from its main process, so there this does nothing.) Permission is asked on the user's first
 * click, as browsers want a gesture for it.
 */
export function RunNotifications() {
  const desktop = typeof window !== 'undefined' && window.sdxlStudio !== undefined
  const supported = !desktop && typeof Notification !== 'undefined'
  const text = useNoticeText()
  useEffect(() => {
    if (!supported || Notification.permission !== 'default') return
    const ask = () => void Notification.requestPermission().catch(() => undefined)
    window.addEventListener('pointerdown', ask, { once: true })
    return () => window.removeEventListener('pointerdown', ask)
  }, [supported])
  useSubscription(
    'run.notify',
    {},
    {
      onData: useCallback(
        (n: RunNotice) => {
          if (!supported || Notification.permission !== 'granted') return
          const { title, body } = text(n)
          try {
            new Notification(title, { body, tag: `run-${n.id}` })
          } catch {
            // Some browsers allow notifications only from a service worker: nothing to show then.
          }
        },
        [supported, text],
      ),
    },
  )
  return null
}
