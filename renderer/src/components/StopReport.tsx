import { List, Text } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { StopAction } from '../../../core/runs/record'

/** What a stop did, step by step (Ctrl-C sent, killed after the grace period, …). */
export function StopReport({ actions }: { actions: StopAction[] }) {
  const { t } = useTranslation('runs')
  if (actions.length === 0) return null
  const line = (a: StopAction): string => {
    switch (a.kind) {
      case 'interrupted':
        return t('stopReport.interrupted', { pid: a.pid })
      case 'asked_owner':
        return t('stopReport.asked_owner', { owner_pid: a.owner_pid })
      case 'kill_scheduled':
      case 'ended':
        return t(`stopReport.${a.kind}`, { after_s: a.after_s })
      case 'killed':
        return t('stopReport.killed', { after_s: a.after_s, count: a.pids.length })
      default:
        return t(`stopReport.${a.kind}`)
    }
  }
  return (
    <List size="sm" data-testid="run-stop-report">
      {actions.map((a, i) => (
        <List.Item key={i}>
          <Text size="sm" c="dimmed">
            {line(a)}
          </Text>
        </List.Item>
      ))}
    </List>
  )
}
