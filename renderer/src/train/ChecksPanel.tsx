import { Alert, Badge, Button, Group, Paper, Stack, Text, Title } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { Issue } from '../../../core/api/domains/configs'
import { useFormat } from '../i18n/format'
import type { LiveCheck } from './useLiveCheck'

/** A button whose label wraps instead of being cut off when it is wider than the space beside it. */
export const WRAPPING_BUTTON = {
  root: { height: 'auto', minHeight: 22, maxWidth: '100%', flexShrink: 0, paddingBlock: 2 },
  label: { whiteSpace: 'normal', textAlign: 'left', overflow: 'visible' },
} as const

const SEVERITY_COLOR: Record<Issue['severity'], string> = { error: 'red', warning: 'yellow', info: 'blue' }

/**
 * What the checks say about the config, each with its one-click fix. Until the user has touched the
 * form (or pressed Start), blocking problems are listed as a neutral to-do list, not in red.
 */
export function ChecksPanel({
  check,
  showErrors,
  onFix,
  fixError,
}: {
  check: LiveCheck
  showErrors: boolean
  onFix: (issue: Issue) => void
  fixError?: string
}) {
  const { t } = useTranslation(['train', 'common'])
  const f = useFormat()
  const issues = check.validation?.issues ?? []
  const valid = check.validation?.valid
  return (
    <Paper withBorder p="md" data-testid="train-issues">
      <Group justify="space-between" mb="xs" gap="xs" wrap="wrap">
        <Title order={4}>{t('checks')}</Title>
        {check.validation && (
          <Badge
            color={valid ? 'teal' : showErrors ? 'red' : 'gray'}
            data-testid="train-valid"
            style={{ flexShrink: 0 }}
          >
            {valid ? t('ready') : showErrors ? t('notReady') : t('notReadyYet')}
          </Badge>
        )}
      </Group>
      {check.error && <Alert color="red">{check.error}</Alert>}
      {fixError && <Alert color="red">{fixError}</Alert>}
      {!check.validation && !check.error && <Text c="dimmed">{t('common:loading')}</Text>}
      {!showErrors && !valid && issues.some((i) => i.severity === 'error') && (
        <Text size="sm" c="dimmed" mb="xs">
          {t('checksTodo')}
        </Text>
      )}
      <Stack gap={6}>
        {issues.map((issue, i) => {
          const color = issue.severity === 'error' && !showErrors ? 'gray' : SEVERITY_COLOR[issue.severity]
          return (
            <Alert
              key={`${issue.rule}-${i}`}
              color={color}
              variant="light"
              p="xs"
              data-testid={`issue-${issue.rule}`}
              data-severity={issue.severity}
            >
              <Group justify="space-between" wrap="wrap" align="flex-start" gap="xs">
                <Text size="sm" style={{ flex: '1 1 260px', minWidth: 0, overflowWrap: 'anywhere' }}>
                  {f.message('train:issues', issue)}
                </Text>
                {issue.fix && (
                  <Button
                    size="compact-xs"
                    variant="white"
                    styles={WRAPPING_BUTTON}
                    onClick={() => onFix(issue)}
                    data-testid={`fix-${issue.rule}`}
                  >
                    {t('fixButton', { label: f.message('train:fixes', issue.fix) })}
                  </Button>
                )}
              </Group>
            </Alert>
          )
        })}
      </Stack>
    </Paper>
  )
}
