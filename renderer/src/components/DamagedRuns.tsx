import { Alert, Badge, Button, Card, Code, Group, Stack, Text } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { UnreadableRun } from '../../../core/runs/record'
import { useApiAction } from '../api/hooks'

/**
 * Run folders whose record is damaged or missing: shown as such, with the file, so a damaged file is
 * seen (and can be deleted or fixed) instead of silently hiding its run.
 */
export function DamagedRuns({ items, onDeleted }: { items: UnreadableRun[]; onDeleted: () => void }) {
  const { t } = useTranslation('runs')
  const del = useApiAction('run.delete')
  if (items.length === 0) return null
  return (
    <Card withBorder data-testid="run-damaged">
      <Stack gap="xs">
        <Text fw={500}>{t('damaged.title')}</Text>
        {items.map((u) => (
          <Stack key={u.id} gap={2} data-testid={`run-damaged-${u.id}`}>
            <Group justify="space-between" wrap="nowrap">
              <Text size="sm" truncate title={u.id}>
                {u.id}
              </Text>
              <Badge size="xs" color="red" style={{ flexShrink: 0 }}>
                {t('damaged.badge')}
              </Badge>
            </Group>
            <Text size="xs">
              {t(`damaged.problem.${u.problem}`)} {t('damaged.hint')}
            </Text>
            <Code style={{ wordBreak: 'break-all', whiteSpace: 'normal' }} fz="xs">
              {u.file}
            </Code>
            <Button
              size="compact-xs"
              variant="subtle"
              color="red"
              loading={del.pending}
              onClick={() =>
                void del
                  .run({ id: u.id })
                  .then(onDeleted)
                  .catch(() => undefined)
              }
              data-testid={`run-damaged-delete-${u.id}`}
            >
              {t('damaged.delete')}
            </Button>
          </Stack>
        ))}
        {del.error ? (
          <Alert color="red" p="xs">
            <Text size="xs">{del.error.message}</Text>
          </Alert>
        ) : null}
      </Stack>
    </Card>
  )
}
