import {
  Alert,
  Badge,
  Button,
  Card,
  Collapse,
  Group,
  List,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { DatasetProblem, DatasetScan, ProblemKind } from '../../../../core/api/domains/dataset'

const SEVERITY_COLOR = { error: 'red', warning: 'orange', info: 'blue' } as const

export function Stat({
  label,
  value,
  color,
  testId,
}: {
  label: string
  value: number | string
  color?: string
  testId?: string
}) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600} c={color} data-testid={testId}>
        {value}
      </Text>
    </div>
  )
}

/** A problem's sentence, with its params (numbers, paths) filled in. */
export function useProblemText() {
  const { t } = useTranslation('dataset')
  return (p: Pick<DatasetProblem, 'kind' | 'params'>) =>
    p.kind === 'caption_missing' && !p.params.class_tokens
      ? t('problems.kind.caption_missing_no_class')
      : t(`problems.kind.${p.kind}`, { ...p.params })
}

export function SummaryPanel({ scan }: { scan: DatasetScan }) {
  const { t, i18n } = useTranslation('dataset')
  const fmt = new Intl.NumberFormat(i18n.language)
  if (scan.subsets.length === 0) return <Text c="dimmed">{t('summary.noData')}</Text>
  const times =
    scan.reg_images_with_repeats > 0
      ? Math.max(1, Math.round(scan.reg_images_used / scan.reg_images_with_repeats))
      : 0
  return (
    <Stack gap="md">
      <Card withBorder data-testid="dataset-steps">
        <Title order={4} mb="xs">
          {t('summary.stepsTitle')}
        </Title>
        <SimpleGrid cols={{ base: 3, md: 7 }} spacing="sm">
          <Stat label={t('summary.trainImages')} value={fmt.format(scan.train_images_with_repeats)} />
          <Stat label={t('summary.regImages')} value={fmt.format(scan.reg_images_used)} />
          <Stat
            label={t('summary.batches')}
            value={fmt.format(scan.batches_per_epoch)}
            testId="dataset-batches"
          />
          <Stat
            label={t('summary.stepsPerEpoch')}
            value={fmt.format(scan.steps_per_epoch)}
            testId="dataset-steps-per-epoch"
          />
          <Stat label={t('summary.epochs')} value={fmt.format(scan.epochs)} />
          <Stat
            label={t('summary.totalSteps')}
            value={fmt.format(scan.total_steps)}
            testId="dataset-total-steps"
          />
          <Tooltip label={t('summary.largestBucketHint')} multiline w={260}>
            <div>
              <Stat
                label={t('summary.largestBucket')}
                value={scan.largest_bucket ? `${scan.largest_bucket[0]} × ${scan.largest_bucket[1]}` : '—'}
                testId="dataset-largest-bucket"
              />
            </div>
          </Tooltip>
        </SimpleGrid>
      </Card>
      <Alert
        color={scan.balance === 'reg_excess' ? 'orange' : scan.balance === 'no_reg' ? 'gray' : 'teal'}
        title={t('balance.title')}
        data-testid="dataset-balance"
        data-balance={scan.balance}
      >
        <Stack gap={4}>
          {scan.balance !== 'no_reg' && (
            <Text size="sm">
              {t('balance.explain', {
                train: fmt.format(scan.train_images_with_repeats),
                total: fmt.format(scan.train_images_with_repeats * 2),
              })}
            </Text>
          )}
          <Text size="sm">
            {t(`balance.${scan.balance}`, {
              reg: fmt.format(scan.reg_images_with_repeats),
              train: fmt.format(scan.train_images_with_repeats),
              times,
              unused: fmt.format(
                Number(scan.problems.find((p) => p.kind === 'reg_excess')?.params.unused ?? 0),
              ),
            })}
          </Text>
        </Stack>
      </Alert>
      {scan.subsets.map((s, i) => (
        <Card withBorder key={`${s.image_dir}-${i}`} data-testid={`dataset-subset-${i}`}>
          <Group justify="space-between" wrap="nowrap" mb="xs">
            <Text fw={600} truncate title={s.image_dir} style={{ minWidth: 0 }}>
              {s.image_dir}
            </Text>
            <Group gap={6} wrap="nowrap">
              {s.is_reg && <Badge color="grape">{t('summary.regBadge')}</Badge>}
              <Badge variant="light">{t('summary.repeatsBadge', { count: s.num_repeats })}</Badge>
            </Group>
          </Group>
          {s.ignored && (
            <Alert color="orange" mb="xs" p="xs">
              {t(`summary.ignored_${s.ignored}`)}
            </Alert>
          )}
          <SimpleGrid cols={{ base: 4, md: 8 }} spacing="xs">
            <Stat
              label={t('summary.images')}
              value={fmt.format(s.images)}
              testId={`dataset-subset-${i}-images`}
            />
            <Stat
              label={t('summary.captioned')}
              value={fmt.format(s.captioned)}
              testId={`dataset-subset-${i}-captioned`}
            />
            <Stat
              label={t('summary.missing')}
              value={fmt.format(s.missing_captions)}
              color={s.missing_captions ? 'orange' : undefined}
            />
            <Stat
              label={t('summary.empty')}
              value={fmt.format(s.empty_captions)}
              color={s.empty_captions ? 'orange' : undefined}
            />
            <Stat
              label={t('summary.unreadable')}
              value={fmt.format(s.unreadable)}
              color={s.unreadable ? 'red' : undefined}
            />
            <Stat
              label={t('summary.duplicates')}
              value={fmt.format(s.duplicates)}
              color={s.duplicates ? 'orange' : undefined}
            />
            <Stat
              label={t('summary.rotated')}
              value={fmt.format(s.rotated)}
              color={s.rotated ? 'orange' : undefined}
            />
            <Stat
              label={t('summary.belowRange')}
              value={fmt.format(s.below_range)}
              color={s.below_range ? 'orange' : undefined}
            />
          </SimpleGrid>
          <Text size="sm" mt="xs">
            {t('summary.withRepeats', { count: s.is_reg ? s.used_with_repeats : s.images_with_repeats })}
            {' · '}
            {t('summary.formats')}:{' '}
            {Object.entries(s.formats)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ') || '—'}
            {s.smallest && ` · ${t('summary.smallest')}: ${s.smallest.width} × ${s.smallest.height}`}
            {s.largest && ` · ${t('summary.largest')}: ${s.largest.width} × ${s.largest.height}`}
          </Text>
          {s.images > 0 && (
            <Group gap="xs" mt="xs" wrap="wrap" data-testid={`dataset-subset-${i}-sizes`}>
              <Text size="xs" c="dimmed">
                {t('summary.sizes')}:
              </Text>
              {s.size_histogram.map((h) => (
                <Badge key={h.from} variant="outline" color="gray" size="sm">
                  {h.to === null
                    ? t('summary.sizeBinOpen', { from: h.from })
                    : t('summary.sizeBin', { from: h.from, to: h.to - 1 })}
                  : {h.count}
                </Badge>
              ))}
            </Group>
          )}
          <Group gap={6} mt="xs" wrap="wrap">
            <Text size="xs" c={s.tokens.over_limit ? 'orange' : 'dimmed'}>
              {t('summary.tokens', {
                max: s.tokens.max,
                mean: s.tokens.mean,
                over: s.tokens.over_limit,
                limit: s.tokens.limit,
              })}
            </Text>
            {scan.tokenizer === 'estimate' && (
              <Tooltip label={t('summary.tokensEstimateHint')} multiline w={280}>
                <Badge size="xs" variant="light" color="gray" data-testid="dataset-tokens-estimate">
                  {t('summary.tokensEstimate')}
                </Badge>
              </Tooltip>
            )}
          </Group>
          <Text size="xs" c="dimmed" mt="xs">
            {t('summary.tags')}:
          </Text>
          {s.tags.length ? (
            <Group gap={4} wrap="wrap" data-testid={`dataset-subset-${i}-tags`}>
              {s.tags.slice(0, 24).map((tag) => (
                <Badge key={tag.tag} variant="light" size="sm" style={{ textTransform: 'none' }}>
                  {tag.tag} · {tag.count}
                </Badge>
              ))}
            </Group>
          ) : (
            <Text size="xs">{t('summary.noTags')}</Text>
          )}
        </Card>
      ))}
    </Stack>
  )
}

export function BucketChart({ scan }: { scan: DatasetScan }) {
  const { t } = useTranslation('dataset')
  const problemText = useProblemText()
  const max = Math.max(1, ...scan.buckets.map((b) => b.count))
  const warnings = scan.problems.filter(
    (p) =>
      p.kind === 'bucket_smaller_than_batch' ||
      p.kind === 'bucket_settings' ||
      p.kind === 'bucket_reso_adjusted',
  )
  return (
    <Stack gap="sm" data-testid="dataset-buckets">
      <Text size="sm" c="dimmed">
        {scan.settings.enable_bucket
          ? t('buckets.explain')
          : t('buckets.off', { width: scan.settings.resolution[0], height: scan.settings.resolution[1] })}
      </Text>
      {warnings.map((w, i) => (
        <Alert key={i} color={SEVERITY_COLOR[w.severity]} p="xs">
          {problemText(w)}
        </Alert>
      ))}
      {scan.buckets.length === 0 && <Text c="dimmed">{t('buckets.none')}</Text>}
      <Table verticalSpacing={4} withRowBorders={false}>
        <Table.Tbody>
          {scan.buckets.map((b) => {
            const ar = b.width / Math.max(1, b.height)
            return (
              <Table.Tr key={`${b.width}x${b.height}`} data-testid={`bucket-${b.width}x${b.height}`}>
                <Table.Td w={150}>
                  <Group gap={8} wrap="nowrap">
                    {/* The bucket's shape, to scale. */}
                    <div
                      aria-hidden
                      style={{
                        width: ar >= 1 ? 28 : 28 * ar,
                        height: ar >= 1 ? 28 / ar : 28,
                        border: '2px solid var(--mantine-color-blue-6)',
                        flex: 'none',
                      }}
                    />
                    <Text size="sm" ff="monospace">
                      {b.width} × {b.height}
                    </Text>
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Progress
                    value={(b.count / max) * 100}
                    color={b.under_batch ? 'orange' : 'blue'}
                    size="lg"
                  />
                </Table.Td>
                <Table.Td w={360}>
                  <Group gap={6} wrap="wrap">
                    <Text size="sm">{t('buckets.count', { count: b.count, batches: b.batches })}</Text>
                    {b.under_batch && (
                      <Badge color="orange" size="sm">
                        {t('buckets.underBatch')}
                      </Badge>
                    )}
                    {b.heavy_crop > 0 && (
                      <Badge color="yellow" size="sm">
                        {t('buckets.heavyCrop', { count: b.heavy_crop })}
                      </Badge>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            )
          })}
        </Table.Tbody>
      </Table>
    </Stack>
  )
}

function ProblemGroup({ kind, items }: { kind: ProblemKind; items: DatasetProblem[] }) {
  const { t } = useTranslation('dataset')
  const problemText = useProblemText()
  const [open, setOpen] = useState(false)
  const first = items[0]!
  const withFiles = items.filter((p) => p.file)
  return (
    <Card withBorder p="sm" data-testid={`problem-${kind}`}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Group gap="xs" wrap="nowrap" align="flex-start" style={{ minWidth: 0 }}>
          <Badge color={SEVERITY_COLOR[first.severity]} style={{ flex: 'none' }}>
            {items.length}
          </Badge>
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Text size="xs" c={SEVERITY_COLOR[first.severity]} fw={600}>
              {t(`problems.severity.${first.severity}`)}
            </Text>
            <Text size="sm">{problemText(first)}</Text>
          </Stack>
        </Group>
        {withFiles.length > 0 && (
          <Button variant="subtle" size="xs" onClick={() => setOpen((o) => !o)} style={{ flex: 'none' }}>
            {open ? t('problems.hideFiles') : t('problems.showFiles')}
          </Button>
        )}
      </Group>
      <Collapse expanded={open}>
        <List size="xs" mt="xs" spacing={2}>
          {withFiles.slice(0, 100).map((p, i) => (
            <List.Item key={i} style={{ wordBreak: 'break-all' }}>
              {p.file}
              {items.length > 1 && Object.keys(p.params).length > 0 && (
                <Text span c="dimmed">
                  {' '}
                  — {problemText(p)}
                </Text>
              )}
            </List.Item>
          ))}
          {withFiles.length > 100 && (
            <List.Item>{t('problems.more', { count: withFiles.length - 100 })}</List.Item>
          )}
        </List>
      </Collapse>
    </Card>
  )
}

const ORDER = { error: 0, warning: 1, info: 2 } as const

export function ProblemsPanel({ scan }: { scan: DatasetScan }) {
  const { t } = useTranslation('dataset')
  const groups = new Map<ProblemKind, DatasetProblem[]>()
  for (const p of scan.problems) groups.set(p.kind, [...(groups.get(p.kind) ?? []), p])
  const sorted = [...groups.entries()].sort((a, b) => ORDER[a[1][0]!.severity] - ORDER[b[1][0]!.severity])
  if (!sorted.length) return <Text data-testid="dataset-no-problems">{t('problems.none')}</Text>
  return (
    <Stack gap="xs" data-testid="dataset-problems">
      {sorted.map(([kind, items]) => (
        <ProblemGroup key={kind} kind={kind} items={items} />
      ))}
      {scan.problems_omitted > 0 && (
        <Text size="sm">{t('problems.omitted', { count: scan.problems_omitted })}</Text>
      )}
    </Stack>
  )
}
