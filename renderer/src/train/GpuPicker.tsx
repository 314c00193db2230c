import { Alert, Badge, Checkbox, Group, Paper, Progress, Stack, Text, TextInput } from '@mantine/core'
import { useCallback, useMemo, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { missingGpus, parseGpuIds } from '../../../core/gpu/selection'
import type { GpuInfo, GpuReading } from '../../../core/gpu/types'
import { ACTIVE_STATES, type RunRecord } from '../../../core/runs/record'
import { useApiCall, useSubscription } from '../api/hooks'

/*
 * The GPUs a run trains on, picked from what nvidia-smi reports (gpu.watch): name, memory, and whether
 * another run holds the GPU. One GPU → CUDA_VISIBLE_DEVICES; several → accelerate launch --multi_gpu
 * with one process each (docs/training.md). The choice is written as launch.gpu_ids text ("0,1"), so
 * without nvidia-smi (a remote box's driver missing, a laptop) the same text field takes it by hand.
 */

export interface GpuPickerProps {
  /** launch.gpu_ids as typed ("" = no choice: the run uses every GPU CUDA sees). */
  text: string
  /** A GPU was ticked or unticked: the new choice, in nvidia-smi index order. */
  onPick: (ids: number[]) => void
  /** Typed into the text field (shown when nvidia-smi cannot list GPUs, or to type ids by hand). */
  onType: (text: string) => void
  label?: ReactNode
  /** The form's message for launch.gpu_ids (validation), shown under the picker. */
  error?: string | undefined
  testId?: string
  /** The text field's test id (the form's field id, so form-wide tests find it). */
  textTestId?: string
}

const gib = (mib: number | null) => (mib === null ? null : (mib / 1024).toFixed(1))

/** Active runs per GPU index, from the runs list kept fresh by run.progress. */
function useRunsOnGpus(): Map<number, RunRecord[]> {
  const list = useApiCall('run.list', {})
  const reload = list.reload
  useSubscription(
    'run.progress',
    {},
    {
      keepLatest: false,
      onData: useCallback(
        (u: { run: RunRecord }) => {
          // Only a start or an end changes who holds a GPU.
          if (u.run.state !== 'running' || u.run.started_at === null) reload()
        },
        [reload],
      ),
    },
  )
  return useMemo(() => {
    const m = new Map<number, RunRecord[]>()
    for (const r of list.data?.runs ?? [])
      if (ACTIVE_STATES.includes(r.state)) for (const g of r.gpus ?? []) m.set(g, [...(m.get(g) ?? []), r])
    return m
  }, [list.data])
}

function GpuRow({
  gpu,
  reading,
  checked,
  runs,
  onToggle,
}: {
  gpu: GpuInfo
  reading: Extract<GpuReading, { ok: true }>
  checked: boolean
  runs: RunRecord[]
  onToggle: () => void
}) {
  const { t } = useTranslation('gpu')
  const used = gpu.memory_used_mib
  const total = gpu.memory_total_mib
  const others = reading.processes.filter((p) => gpu.uuid !== null && p.gpu_uuid === gpu.uuid)
  return (
    <Paper withBorder p="xs" radius="sm" data-testid={`gpu-pick-${gpu.index}`}>
      <Group justify="space-between" wrap="nowrap" gap="xs">
        <Checkbox
          checked={checked}
          onChange={onToggle}
          label={
            <Text size="sm" fw={500} lineClamp={1}>
              {t('index', { index: gpu.index })} · {gpu.name ?? t('unnamed')}
            </Text>
          }
          styles={{ body: { alignItems: 'center' }, labelWrapper: { minWidth: 0 } }}
          style={{ minWidth: 0, flex: 1 }}
          data-testid={`gpu-pick-${gpu.index}-box`}
        />
        {runs.length > 0 ? (
          <Badge
            color="orange"
            variant="light"
            style={{ flexShrink: 0 }}
            data-testid={`gpu-pick-${gpu.index}-busy`}
          >
            {t('picker.inUse', { name: runs[0]!.name })}
          </Badge>
        ) : null}
      </Group>
      <Group gap="xs" wrap="nowrap" mt={4}>
        <Progress
          value={used !== null && total ? (100 * used) / total : 0}
          size="sm"
          style={{ flex: 1 }}
          aria-label={t('memory')}
        />
        <Text size="xs" c="dimmed" style={{ flexShrink: 0 }}>
          {total === null
            ? t('notAvailable')
            : t('picker.memory', { used: gib(used) ?? t('notAvailable'), total: gib(total) })}
        </Text>
      </Group>
      {others.length > 0 && runs.length === 0 ? (
        <Text size="xs" c="dimmed" mt={2}>
          {t('picker.otherProcesses', { count: others.length })}
        </Text>
      ) : null}
    </Paper>
  )
}

export function GpuPicker({
  text,
  onPick,
  onType,
  label,
  error,
  testId = 'gpu-picker',
  textTestId,
}: GpuPickerProps) {
  const { t } = useTranslation('gpu')
  const { data: reading, error: streamError } = useSubscription('gpu.watch', {})
  const runsOnGpus = useRunsOnGpus()
  const parsed = parseGpuIds(text)
  const chosen = parsed.ok ? parsed.ids : []
  const listed = reading?.ok ? reading.snapshot.gpus : []
  const missing =
    reading?.ok && listed.length > 0
      ? missingGpus(
          chosen,
          listed.map((g) => g.index),
        )
      : []

  const toggle = (index: number) => {
    const next = chosen.includes(index) ? chosen.filter((i) => i !== index) : [...chosen, index]
    onPick([...next].sort((a, b) => a - b))
  }

  const field = (
    <TextInput
      label={listed.length > 0 ? t('picker.byHand') : label}
      value={text}
      placeholder="0,1"
      autoComplete="off"
      size={listed.length > 0 ? 'xs' : 'sm'}
      onChange={(e) => onType(e.currentTarget.value)}
      error={error}
      data-testid={textTestId ?? `${testId}-text`}
    />
  )

  let body: ReactNode
  if (streamError || (reading && !reading.ok)) {
    body = (
      <Alert color="gray" variant="light" p="xs" data-testid={`${testId}-no-smi`}>
        <Text size="sm">
          {reading && !reading.ok && reading.error.kind === 'not_found'
            ? t('picker.noSmi')
            : t('picker.smiFailed')}
        </Text>
      </Alert>
    )
  } else if (!reading) {
    body = (
      <Text size="sm" c="dimmed">
        {t('reading')}
      </Text>
    )
  } else if (listed.length === 0) {
    body = (
      <Alert color="gray" variant="light" p="xs" data-testid={`${testId}-no-smi`}>
        <Text size="sm">{t('picker.noGpus')}</Text>
      </Alert>
    )
  } else {
    body = (
      <Stack gap={6}>
        {listed.map((g) => (
          <GpuRow
            key={g.index}
            gpu={g}
            reading={reading}
            checked={chosen.includes(g.index)}
            runs={runsOnGpus.get(g.index) ?? []}
            onToggle={() => toggle(g.index)}
          />
        ))}
      </Stack>
    )
  }

  return (
    <Stack gap={6} data-testid={testId}>
      {listed.length > 0 && label ? <div>{label}</div> : null}
      {body}
      {listed.length > 0 ? (
        <Text size="xs" c="dimmed" data-testid={`${testId}-summary`}>
          {chosen.length === 0
            ? t('picker.none')
            : chosen.length === 1
              ? t('picker.one', { index: chosen[0] })
              : t('picker.several', { count: chosen.length, ids: chosen.join(',') })}
        </Text>
      ) : null}
      {missing.length > 0 ? (
        <Text size="xs" c="red" data-testid={`${testId}-missing`}>
          {t('picker.missing', {
            missing: missing.join(', '),
            present: listed.map((g) => g.index).join(', '),
          })}
        </Text>
      ) : null}
      {field}
    </Stack>
  )
}
