import { Paper, Table, Text, Title } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { DatasetSummary as Summary } from '../../../core/api/domains/configs'
import type { TrainingConfig } from '../../../core/config/schema'
import { useFormat } from '../i18n/format'

/** Images, captions and repeats per folder, and the steps they make (as sd-scripts counts them). */
export function DatasetSummary({ dataset, config }: { dataset: Summary; config: TrainingConfig }) {
  const { t } = useTranslation('train')
  const f = useFormat()
  const s = dataset.steps
  const images = dataset.subsets.reduce((n, x) => n + x.images, 0)
  const line =
    images === 0
      ? t('stepsNoImages')
      : config.training.max_train_epochs !== undefined
        ? t('stepsLineEpochs', {
            perEpoch: f.number(s.steps_per_epoch),
            total: f.number(s.total_steps),
            epochs: f.number(s.epochs),
          })
        : config.training.max_train_steps !== undefined
          ? t('stepsLineSteps', { perEpoch: f.number(s.steps_per_epoch), total: f.number(s.total_steps) })
          : t('stepsLineDefault', { perEpoch: f.number(s.steps_per_epoch), total: f.number(s.total_steps) })
  return (
    <Paper withBorder p="sm" data-testid="train-dataset-summary">
      <Title order={5} mb="xs">
        {t('datasetSummary')}
      </Title>
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
      <Text size="sm" mt="xs" data-testid="train-steps">
        {line}
      </Text>
      <Text size="xs" c="dimmed">
        {t('stepsNote')}
      </Text>
    </Paper>
  )
}
