import { Alert, Button, Group, List, Loader, Paper, SimpleGrid, Table, Text, Title } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { DatasetSummary as Summary } from '../../../core/api/domains/configs'
import type { TrainingConfig } from '../../../core/config/schema'
import { groupProblems } from '../../../core/dataset/train-summary'
import { Stat, useProblemText } from '../components/dataset/ScanPanels'
import { draftFromConfig, storeDraft } from '../components/dataset/draft'
import { useFormat } from '../i18n/format'
import type { ScanState } from './useDatasetScan'

/** How many kinds of problems the Train page lists; the Dataset page has them all. */
const SHOWN_KINDS = 5

/**
 * Images, captions and repeats per folder, and the steps they make: counted by the file checks at
 * once, then exactly as sd-scripts batches them (by bucket) when the dataset scan answers, with the
 * problems that stop or spoil training and a way to the Dataset page.
 */
export function DatasetSummary({
  dataset,
  config,
  scan,
}: {
  dataset: Summary
  config: TrainingConfig
  scan: ScanState
}) {
  const { t } = useTranslation('train')
  const f = useFormat()
  const problemText = useProblemText()
  const exact = scan.scan
  const s = exact
    ? { steps_per_epoch: exact.steps_per_epoch, total_steps: exact.total_steps, epochs: exact.epochs }
    : dataset.steps
  const images = exact ? exact.images : dataset.subsets.reduce((n, x) => n + x.images, 0)
  const exactly = exact ? 'Exact' : ''
  const line =
    images === 0
      ? t('stepsNoImages')
      : config.training.max_train_epochs !== undefined
        ? t(`stepsLineEpochs${exactly}`, {
            perEpoch: f.number(s.steps_per_epoch),
            total: f.number(s.total_steps),
            epochs: f.number(s.epochs),
          })
        : config.training.max_train_steps !== undefined
          ? t(`stepsLineSteps${exactly}`, {
              perEpoch: f.number(s.steps_per_epoch),
              total: f.number(s.total_steps),
            })
          : t(`stepsLineDefault${exactly}`, {
              perEpoch: f.number(s.steps_per_epoch),
              total: f.number(s.total_steps),
            })
  const groups = exact ? groupProblems(exact.problems) : []
  const openDatasetPage = () => {
    storeDraft(draftFromConfig(config))
    window.location.hash = '/dataset'
  }
  return (
    <Paper withBorder p="sm" data-testid="train-dataset-summary">
      <Group justify="space-between" gap="xs" mb="xs">
        <Group gap="xs">
          <Title order={5}>{t('datasetSummary')}</Title>
          {scan.scanning && (
            <Loader size="xs" aria-label={t('scan.scanning')} data-testid="train-scan-busy" />
          )}
        </Group>
        <Button size="xs" variant="light" onClick={openDatasetPage} data-testid="train-open-dataset">
          {t('scan.open')}
        </Button>
      </Group>
      <Table.ScrollContainer minWidth={420}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('fields.subset.image_dir.label')}</Table.Th>
              <Table.Th>{t('images')}</Table.Th>
              <Table.Th>{t('captions')}</Table.Th>
              <Table.Th>{t('fields.subset.num_repeats.label')}</Table.Th>
              <Table.Th>{t('withRepeats')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {dataset.subsets.map((x, i) => (
              <Table.Tr key={i}>
                <Table.Td style={{ overflowWrap: 'anywhere' }}>
                  {x.path}
                  {x.is_reg ? ` (${t('regularization')})` : ''}
                </Table.Td>
                <Table.Td>{f.number(x.images)}</Table.Td>
                <Table.Td>{f.number(x.captioned)}</Table.Td>
                <Table.Td>{f.number(x.num_repeats)}</Table.Td>
                <Table.Td>{f.number(x.images_with_repeats)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {exact && (
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="xs" mt="xs" data-testid="train-scan">
          <Stat label={t('scan.images')} value={f.number(exact.images)} testId="train-scan-images" />
          <Stat
            label={t('scan.stepsPerEpoch')}
            value={f.number(exact.steps_per_epoch)}
            testId="train-scan-steps-per-epoch"
          />
          <Stat
            label={t('scan.totalSteps')}
            value={f.number(exact.total_steps)}
            testId="train-scan-total-steps"
          />
          <Stat
            label={t('scan.largestBucket')}
            value={exact.largest_bucket ? `${exact.largest_bucket[0]} × ${exact.largest_bucket[1]}` : '—'}
            testId="train-scan-largest-bucket"
          />
        </SimpleGrid>
      )}
      <Text size="sm" mt="xs" data-testid="train-steps">
        {line}
      </Text>
      <Text size="xs" c="dimmed">
        {exact ? t('scan.exactNote') : t('stepsNote')}
      </Text>
      {scan.error && (
        <Alert color="orange" mt="xs" data-testid="train-scan-error">
          {t('scan.failed', { message: scan.error })}
        </Alert>
      )}
      {exact && groups.length > 0 && (
        <List size="sm" mt="xs" spacing={2} data-testid="train-scan-problems">
          {groups.slice(0, SHOWN_KINDS).map((g) => (
            <List.Item
              key={g.kind}
              data-testid={`train-scan-problem-${g.kind}`}
              data-severity={g.severity}
              c={g.severity === 'error' ? 'red' : 'orange'}
            >
              {g.first.file !== null && `${t('scan.problemCount', { count: g.count })} `}
              {problemText(g.first)}
            </List.Item>
          ))}
          {groups.length > SHOWN_KINDS && (
            <List.Item>{t('scan.moreKinds', { count: groups.length - SHOWN_KINDS })}</List.Item>
          )}
        </List>
      )}
      {exact && groups.length === 0 && images > 0 && (
        <Text size="sm" mt="xs" c="teal" data-testid="train-scan-clean">
          {t('scan.noProblems')}
        </Text>
      )}
    </Paper>
  )
}
