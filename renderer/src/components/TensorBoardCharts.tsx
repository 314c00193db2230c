import { Alert, Anchor, Button, Card, Group, SimpleGrid, Stack, Text } from '@mantine/core'
import { useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunScalars, TensorboardServer } from '../../../core/api/domains/tensorboard'
import type { RunRecord } from '../../../core/runs/record'
import { alignSeries, groupCharts, type ChartGroup } from '../../../core/tensorboard/scalars'
import { useApiAction, useApiCall } from '../api/hooks'
import { SeriesChart } from './SeriesChart'

const COLORS = ['#228be6', '#fa5252', '#40c057', '#fab005', '#7950f2', '#15aabf', '#fd7e14', '#e64980']
/** While a run trains, its event files are read again this often (only the new bytes are read). */
const POLL_MS = 5000

const ended = (s: RunRecord['state']) => s === 'finished' || s === 'failed' || s === 'stopped'

function Chart({ group, scalars }: { group: ChartGroup; scalars: RunScalars['scalars'] }) {
  const { t } = useTranslation('tensorboard')
  const { x, ys } = useMemo(() => alignSeries(group.tags.map((tag) => scalars[tag] ?? [])), [group, scalars])
  const series = useMemo(
    () => group.tags.map((tag, i) => ({ label: tag, color: COLORS[i % COLORS.length] as string })),
    [group],
  )
  return (
    <Stack gap={2} data-testid={`tb-chart-${group.kind}${group.prefix ? `-${group.prefix}` : ''}`}>
      <Text size="sm" fw={500}>
        {t(`charts.${group.kind}`, { prefix: group.prefix ?? '' })}
      </Text>
      <SeriesChart
        xLabel={group.x === 'epoch' ? t('epoch') : t('step')}
        series={series}
        x={x}
        ys={ys}
        height={160}
        exponent={group.kind === 'lr'}
        testId={`tb-series-${group.kind}${group.prefix ? `-${group.prefix}` : ''}`}
      />
    </Stack>
  )
}

/**
 * A run's TensorBoard scalars (when it logs): loss, learning rate per group, average loss per epoch,
 * read from its event files and refreshed while it trains; and "Open in TensorBoard".
 */
export function TensorBoardCharts({ run }: { run: RunRecord }) {
  const { t } = useTranslation('tensorboard')
  const scalars = useApiCall('tensorboard.scalars', { id: run.id })
  const open = useApiAction('tensorboard.open')
  const close = useApiAction('tensorboard.close')
  const [server, setServer] = useState<TensorboardServer | null>(null)
  const live = !ended(run.state)
  const reload = scalars.reload
  const wasLive = useRef(live)
  useEffect(() => {
    if (!live) {
      // The run just ended: one last read for what it wrote at the end.
      if (wasLive.current) reload()
      wasLive.current = false
      return
    }
    wasLive.current = true
    const timer = setInterval(reload, POLL_MS)
    return () => clearInterval(timer)
  }, [live, reload])
  const data = scalars.data
  const groups = useMemo(() => groupCharts(Object.keys(data?.scalars ?? {})), [data])
  if (!data?.logging_dir) return null
  const error = open.error ?? close.error
  const errorKind = (error?.details as { kind?: string } | undefined)?.kind
  const desktop = typeof window !== 'undefined' && !!window.sdxlStudio
  return (
    <Card withBorder data-testid="tb-card">
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={500}>{t('title')}</Text>
          <Group gap="xs">
            <Button
              size="xs"
              variant="light"
              loading={open.pending}
              onClick={() =>
                void open
                  .run({ id: run.id })
                  .then(setServer)
                  .catch(() => undefined)
              }
              data-testid="tb-open"
            >
              {t('open')}
            </Button>
            {server ? (
              <Button
                size="xs"
                variant="subtle"
                color="gray"
                loading={close.pending}
                onClick={() =>
                  void close
                    .run({ id: run.id })
                    .then(() => setServer(null))
                    .catch(() => undefined)
                }
                data-testid="tb-stop"
              >
                {t('stop')}
              </Button>
            ) : null}
          </Group>
        </Group>
        {server ? (
          <Stack gap={2}>
            <Text size="sm">
              {t('running')}{' '}
              <Anchor href={server.url} target="_blank" rel="noreferrer" data-testid="tb-link">
                {server.url}
              </Anchor>
            </Text>
            {desktop ? null : (
              <Text size="xs" c="dimmed">
                {t('headlessNote', { port: server.port })}
              </Text>
            )}
          </Stack>
        ) : null}
        {error ? (
          <Alert color="red" data-testid="tb-error">
            {errorKind && KNOWN_ERRORS.includes(errorKind) ? t(`errors.${errorKind}`) : error.message}
          </Alert>
        ) : null}
        {data.problems.map((p) => (
          <Alert key={p.file} color="yellow" data-testid="tb-problem">
            {t(`problem.${p.code}`, { file: p.file, defaultValue: p.message })}
          </Alert>
        ))}
        {groups.length === 0 ? (
          <Text size="sm" c="dimmed" data-testid="tb-empty">
            {t('noData')}
          </Text>
        ) : (
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            {groups.map((g) => (
              <Chart key={`${g.kind}:${g.prefix ?? ''}`} group={g} scalars={data.scalars} />
            ))}
          </SimpleGrid>
        )}
      </Stack>
    </Card>
  )
}

const KNOWN_ERRORS = ['tensorboard_missing', 'no_logging', 'no_environment']
