import { Group, Progress, Stack, Text } from '@mantine/core'
import { useCallback, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunEvent } from '../../../core/runs/events'
import type { RunRecord } from '../../../core/runs/record'
import { useApiCall, useSubscription } from '../api/hooks'
import { useFormat } from '../i18n/format'

/*
 * A run on several GPUs: the memory of each GPU (one process each, each holding a full replica), now
 * and at its peak, from the per-GPU samples the runner records (run.history's memory_per_gpu, then the
 * live gpu_memory events). Compared with the predicted peak, which is per GPU. Shows nothing for runs
 * on one GPU or whose GPUs could not be told apart.
 */

type PerGpu = Record<string, Array<[number, number]>>

export function RunGpuMemoryPerGpu({ run }: { run: RunRecord }) {
  const { t } = useTranslation('runs')
  const f = useFormat()
  const history = useApiCall('run.history', { id: run.id })
  const [live, setLive] = useState<PerGpu>({})
  useSubscription(
    'run.progress',
    { id: run.id },
    {
      keepLatest: false,
      onData: useCallback((u: { events: RunEvent[] }) => {
        const fresh: PerGpu = {}
        for (const e of u.events)
          if (e.type === 'gpu_memory' && e.per_gpu)
            for (const [gpu, mib] of Object.entries(e.per_gpu)) (fresh[gpu] ??= []).push([e.elapsed_s, mib])
        if (Object.keys(fresh).length)
          setLive((old) => {
            const next = { ...old }
            for (const [gpu, pts] of Object.entries(fresh)) next[gpu] = [...(next[gpu] ?? []), ...pts]
            return next
          })
      }, []),
    },
  )
  const rows = useMemo(() => {
    const all: PerGpu = {}
    for (const src of [history.data?.memory_per_gpu ?? {}, live])
      for (const [gpu, pts] of Object.entries(src)) all[gpu] = [...(all[gpu] ?? []), ...pts]
    return Object.entries(all)
      .map(([gpu, pts]) => ({
        gpu: Number(gpu),
        now: pts.reduce((a, b) => (b[0] >= a[0] ? b : a))[1],
        peak: Math.max(...pts.map((p) => p[1])),
      }))
      .sort((a, b) => a.gpu - b.gpu)
  }, [history.data, live])
  const several = (run.gpus?.length ?? 0) > 1 || rows.length > 1
  if (!several || rows.length === 0) return null
  const predicted = run.predicted_peak_mib
  const scale = Math.max(predicted ?? 0, ...rows.map((r) => r.peak)) || 1
  const gib = (mib: number) => f.fixed(mib / 1024, 1)
  const ended = run.state === 'finished' || run.state === 'failed' || run.state === 'stopped'
  return (
    <Stack gap={4} data-testid="run-gpu-memory-per-gpu">
      <Text size="sm" fw={500}>
        {t('perGpu.title')}
      </Text>
      {rows.map((r) => (
        <Group key={r.gpu} gap="xs" wrap="nowrap" data-testid={`run-gpu-memory-${r.gpu}`}>
          <Text size="sm" w={56} style={{ flexShrink: 0 }}>
            {t('perGpu.gpu', { index: r.gpu })}
          </Text>
          <Progress
            value={(100 * r.peak) / scale}
            color={predicted !== null && r.peak > predicted ? 'red' : 'teal'}
            size="sm"
            style={{ flex: 1 }}
            aria-label={t('perGpu.gpu', { index: r.gpu })}
          />
          <Text size="xs" c="dimmed" style={{ flexShrink: 0 }}>
            {ended
              ? t('perGpu.peakOnly', { peak: gib(r.peak) })
              : t('perGpu.values', { now: gib(r.now), peak: gib(r.peak) })}
          </Text>
        </Group>
      ))}
    </Stack>
  )
}
