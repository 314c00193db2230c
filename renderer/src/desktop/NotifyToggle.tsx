import { ActionIcon, Popover, Text, Tooltip } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { enableNotifications, setNotifyEnabled, useNotifyEnabled } from './notify-pref'

function BellIcon({ on }: { on: boolean }) {
  return (
    <svg
      width="18"
      height="18"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      aria-hidden="true"
    >
      <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      {on ? null : <path d="M3 3l18 18" />}
    </svg>
  )
}

/**
 * Headless mode: browser notifications when a run finishes or fails. The browser's permission prompt only
 * follows a click, so it is asked here, never on page load.
 */
export function NotifyToggle() {
  const { t } = useTranslation('desktop')
  const on = useNotifyEnabled()
  const [problem, setProblem] = useState<string | null>(null)
  const toggle = () => {
    setProblem(null)
    if (on) return setNotifyEnabled(false)
    void enableNotifications().then((result) => {
      if (result === 'granted') return
      setProblem(
        result === 'insecure'
          ? t('browserNotify.insecure')
          : result === 'unsupported'
            ? t('browserNotify.unsupported')
            : t('browserNotify.blocked'),
      )
    })
  }
  return (
    <Popover
      opened={problem !== null}
      onChange={(o) => !o && setProblem(null)}
      width={320}
      position="bottom-end"
      withArrow
    >
      <Popover.Target>
        <Tooltip label={on ? t('browserNotify.on') : t('browserNotify.off')} disabled={problem !== null}>
          <ActionIcon
            variant={on ? 'light' : 'subtle'}
            size="lg"
            onClick={toggle}
            aria-label={on ? t('browserNotify.on') : t('browserNotify.off')}
            aria-pressed={on}
            data-testid="notify-toggle"
          >
            <BellIcon on={on} />
          </ActionIcon>
        </Tooltip>
      </Popover.Target>
      <Popover.Dropdown>
        <Text size="sm" data-testid="notify-problem">
          {problem}
        </Text>
      </Popover.Dropdown>
    </Popover>
  )
}
