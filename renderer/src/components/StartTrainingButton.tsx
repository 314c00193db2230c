import { Alert, Button, Group, List, Stack, Text } from '@mantine/core'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { ApiError } from '../../../core/api/api-error'
import { useApiAction, useApiCall, useSubscription } from '../api/hooks'
import { useAppCommands } from '../desktop/hooks'
import { useEnvError } from '../i18n/env-messages'

/*
 * "Start training" on the Train page: train.start with the current draft. The backend validates it,
 * writes the sd-scripts files and queues the run; while another run is active the same call waits in
 * the queue, so the button says "Add to queue" then. A refusal is shown here (every error, or the
 * missing environment with a way to it); a started run opens the Runs page.
 */

const WAITING = new Set(['queued', 'starting', 'running', 'stopping'])

interface RefusedIssue {
  rule?: string
  message: string
  code?: string
  params?: Record<string, string | number>
}

/** The refusal's issues (with codes, so they are translated like the page's checks), or its message. */
function refusalIssues(error: ApiError): RefusedIssue[] {
  const details = error.details as { issues?: unknown } | undefined
  const issues = Array.isArray(details?.issues) ? (details.issues as RefusedIssue[]) : null
  if (!issues || !issues.every((i) => typeof i?.message === 'string')) return [{ message: error.message }]
  return issues
}

export function StartTrainingButton({ config, onAttempt }: { config: unknown; onAttempt?: () => void }) {
  const { t } = useTranslation('train')
  const envError = useEnvError()
  const start = useApiAction('train.start')
  const [refusal, setRefusal] = useState<ApiError | null>(null)
  const list = useApiCall('run.list', {})
  // Live states of runs that changed since the list was read.
  const [live, setLive] = useState<Record<string, string>>({})
  useSubscription(
    'run.progress',
    {},
    {
      keepLatest: false,
      onData: (u) => setLive((s) => (s[u.run.id] === u.run.state ? s : { ...s, [u.run.id]: u.run.state })),
    },
  )
  const busy = useMemo(() => {
    const states: Record<string, string> = {}
    for (const r of list.data?.runs ?? []) states[r.id] = r.state
    Object.assign(states, live)
    return Object.values(states).some((s) => WAITING.has(s))
  }, [list.data, live])

  const onStart = () => {
    onAttempt?.()
    setRefusal(null)
    start.run({ config }).then(
      () => {
        window.location.hash = '/runs'
      },
      (error: ApiError) => setRefusal(error),
    )
  }

  // Ctrl+Enter and the app menu's Start.
  useAppCommands(['start'], () => {
    if (!start.pending) onStart()
  })

  const refusalKind = (refusal?.details as { kind?: string } | undefined)?.kind
  const noEnvironment = refusalKind === 'no_environment'
  // The active environment cannot train yet: why (in the UI's language), and the way to it.
  const envRefusal = refusalKind === 'environment_not_ready' || refusalKind === 'environment_broken'
  return (
    <Stack gap="xs">
      <Group>
        <Button size="md" loading={start.pending} onClick={onStart} data-testid="train-start">
          {busy ? t('start.queue') : t('start.button')}
        </Button>
        {busy && (
          <Text size="sm" c="dimmed" data-testid="train-start-busy">
            {t('start.busyHint')}
          </Text>
        )}
      </Group>
      {refusal && (
        <Alert color="red" title={t('start.refused')} data-testid="train-start-refused">
          {noEnvironment || envRefusal ? (
            <Stack gap="xs" align="flex-start">
              <Text size="sm" data-testid={noEnvironment ? undefined : 'train-start-not-ready'}>
                {noEnvironment ? t('start.noEnvironment') : envError(refusal)}
              </Text>
              <Button
                size="xs"
                variant="light"
                onClick={() => {
                  window.location.hash = '/environment'
                }}
              >
                {t('start.openEnvironment')}
              </Button>
            </Stack>
          ) : (
            <List size="sm">
              {refusalIssues(refusal).map((issue, i) => (
                <List.Item key={i}>
                  {issue.rule === 'environment'
                    ? t('start.noEnvironment')
                    : issue.code
                      ? t(`issues.${issue.code}`, { ...issue.params, defaultValue: issue.message })
                      : issue.message}
                </List.Item>
              ))}
            </List>
          )}
        </Alert>
      )}
    </Stack>
  )
}
