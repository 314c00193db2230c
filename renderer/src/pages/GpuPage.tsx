import {
  Alert,
  Badge,
  Card,
  Code,
  Group,
  List,
  Loader,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { GpuInfo, GpuProcess, GpuReading } from '../../../core/gpu/types'
import { useSubscription } from '../api/hooks'
import { RingGauge } from '../components/RingGauge'

const MIB_PER_GIB = 1024

/** Colour for a share of something that runs out (memory): calm, then warning, then critical. */
function loadColor(percent: number): string {
  if (percent >= 95) return 'red'
  if (percent >= 80) return 'orange'
  return 'teal'
}

function temperatureColor(celsius: number): string {
  if (celsius >= 85) return 'red'
  if (celsius >= 75) return 'orange'
  return 'gray'
}

function useFormat() {
  const { t, i18n } = useTranslation('gpu')
  const gib = new Intl.NumberFormat(i18n.language, { minimumFractionDigits: 1, maximumFractionDigits: 1 })
  const whole = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 0 })
  return {
    gib: (mib: number | null) => (mib === null ? t('notAvailable') : gib.format(mib / MIB_PER_GIB)),
    whole: (n: number | null) => (n === null ? t('notAvailable') : whole.format(n)),
    /** Small amounts (a process's few MiB) in MiB, the rest in GiB. */
    memory: (mib: number | null) =>
      mib === null
        ? t('notAvailable')
        : mib < MIB_PER_GIB
          ? t('mibValue', { value: whole.format(mib) })
          : t('gibValue', { value: gib.format(mib / MIB_PER_GIB) }),
  }
}

function GpuCard({ gpu, processes }: { gpu: GpuInfo; processes: GpuProcess[] }) {
  const { t } = useTranslation('gpu')
  const f = useFormat()
  const total = gpu.memory_total_mib
  const used = gpu.memory_used_mib
  const percent = total && used !== null ? Math.min(100, (used / total) * 100) : 0
  const i = gpu.index
  return (
    <Card withBorder padding="lg" radius="md" data-testid={`gpu-card-${i}`}>
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Text fw={600} data-testid={`gpu-name-${i}`} truncate>
          {gpu.name ?? t('unnamed')}
        </Text>
        <Badge variant="light">{t('index', { index: i })}</Badge>
      </Group>
      <Group wrap="nowrap" align="center">
        <RingGauge
          size={120}
          thickness={12}
          percent={percent}
          color={loadColor(percent)}
          aria-label={t('memoryGauge', { percent: Math.round(percent) })}
          label={
            <Text ta="center" size="sm" fw={600}>
              {t('percent', { value: Math.round(percent) })}
            </Text>
          }
        />
        <Stack gap={6} style={{ flex: 1 }}>
          <div>
            <Text size="xs" c="dimmed">
              {t('memory')}
            </Text>
            <Text fw={600}>
              <span data-testid={`gpu-mem-used-${i}`}>{f.gib(used)}</span>
              {' / '}
              <span data-testid={`gpu-mem-total-${i}`}>{f.gib(total)}</span> {t('gib')}
            </Text>
            <Text size="xs" c="dimmed">
              {t('free', { value: f.gib(gpu.memory_free_mib) })}
            </Text>
          </div>
          <div>
            <Group justify="space-between">
              <Text size="xs" c="dimmed">
                {t('utilization')}
              </Text>
              <Text size="xs" data-testid={`gpu-util-${i}`}>
                {gpu.utilization_percent === null
                  ? t('notAvailable')
                  : t('percent', { value: f.whole(gpu.utilization_percent) })}
              </Text>
            </Group>
            <Progress value={gpu.utilization_percent ?? 0} size="sm" />
          </div>
          <Group justify="space-between">
            <Text size="xs" c="dimmed">
              {t('temperature')}
            </Text>
            <Text
              size="sm"
              data-testid={`gpu-temp-${i}`}
              c={gpu.temperature_c === null ? undefined : temperatureColor(gpu.temperature_c)}
            >
              {gpu.temperature_c === null
                ? t('notAvailable')
                : t('celsius', { value: f.whole(gpu.temperature_c) })}
            </Text>
          </Group>
        </Stack>
      </Group>
      {processes.length > 0 && (
        <Table mt="md" fz="xs" verticalSpacing={2} data-testid={`gpu-processes-${i}`}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('pid')}</Table.Th>
              <Table.Th ta="right">{t('processMemory')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {processes.map((p) => (
              <Table.Tr key={p.pid}>
                <Table.Td>{p.pid}</Table.Td>
                <Table.Td ta="right">{f.memory(p.used_memory_mib)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  )
}

function NoDriver({ message }: { message: string }) {
  const { t } = useTranslation('gpu')
  return (
    <Alert color="yellow" title={t('noDriver.title')} data-testid="gpu-state-no-driver">
      <Stack gap="xs">
        <Text size="sm">{t('noDriver.body')}</Text>
        <List size="sm">
          <List.Item>{t('noDriver.windows')}</List.Item>
          <List.Item>{t('noDriver.linux')}</List.Item>
          <List.Item>{t('noDriver.check')}</List.Item>
        </List>
        <Text size="xs" c="dimmed">
          {message}
        </Text>
      </Stack>
    </Alert>
  )
}

function ReadingFailed({ kind, message }: { kind: string; message: string }) {
  const { t } = useTranslation('gpu')
  return (
    <Alert color="red" title={t('failed.title')} data-testid="gpu-state-error" data-kind={kind}>
      <Stack gap="xs">
        <Text size="sm">{t(`failed.${kind}`, { defaultValue: t('failed.failed') })}</Text>
        <Code block>{message}</Code>
      </Stack>
    </Alert>
  )
}

function Reading({ reading }: { reading: Extract<GpuReading, { ok: true }> }) {
  const { t, i18n } = useTranslation('gpu')
  const { snapshot, processes } = reading
  return (
    <Stack>
      <Group gap="lg">
        <Text size="sm">
          {t('driver')}: <b data-testid="gpu-driver">{snapshot.driver_version ?? t('notAvailable')}</b>
        </Text>
        <Text size="sm">
          {t('cuda')}: <b data-testid="gpu-cuda">{snapshot.cuda_version ?? t('notAvailable')}</b>
        </Text>
        <Text size="xs" c="dimmed" data-testid="gpu-updated">
          {t('updatedAt', { time: new Date(reading.at).toLocaleTimeString(i18n.language) })}
        </Text>
      </Group>
      {snapshot.gpus.length === 0 ? (
        <Alert color="yellow" title={t('empty.title')} data-testid="gpu-state-empty">
          {t('empty.body')}
        </Alert>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {snapshot.gpus.map((gpu) => (
            <GpuCard
              key={gpu.uuid ?? gpu.index}
              gpu={gpu}
              processes={processes.filter((p) => gpu.uuid !== null && p.gpu_uuid === gpu.uuid)}
            />
          ))}
        </SimpleGrid>
      )}
    </Stack>
  )
}

export default function GpuPage() {
  const { t } = useTranslation(['gpu', 'common'])
  const { data, error } = useSubscription('gpu.watch', {})
  let body
  if (error) body = <ReadingFailed kind="stream" message={error.message} />
  else if (!data)
    body = (
      <Group data-testid="gpu-state-loading">
        <Loader size="sm" />
        <Text c="dimmed">{t('reading')}</Text>
      </Group>
    )
  else if (!data.ok && data.error.kind === 'not_found') body = <NoDriver message={data.error.message} />
  else if (!data.ok) body = <ReadingFailed kind={data.error.kind} message={data.error.message} />
  else body = <Reading reading={data} />
  return (
    <Stack>
      <Title order={2}>{t('title')}</Title>
      {body}
    </Stack>
  )
}
