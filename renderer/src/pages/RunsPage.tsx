import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Image,
  Progress,
  ScrollArea,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  Title,
  UnstyledButton,
} from '@mantine/core'
import { FitAddon } from '@xterm/addon-fit'
import { WebglAddon } from '@xterm/addon-webgl'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunEvent } from '../../../core/runs/events'
import type { RunRecord, StopAction } from '../../../core/runs/record'
import { getApiClient } from '../api/client'
import { DamagedRuns } from '../components/DamagedRuns'
import { QueuePanel } from '../components/QueuePanel'
import { ResumeRun, RunParts } from '../components/ResumeRun'
import { SeriesChart } from '../components/SeriesChart'
import { StopReport } from '../components/StopReport'
import { TensorBoardCharts } from '../components/TensorBoardCharts'
import { useRunFocus } from '../desktop/hooks'
import { OutputLocation } from '../desktop/OutputLocation'
import { useApiAction, useApiCall, useSubscription } from '../api/hooks'
import { RunGpuMemoryPerGpu } from '../components/RunGpuMemoryPerGpu'
import { useFormat } from '../i18n/format'
import { useSettings } from '../settings'

const stateColor: Record<RunRecord['state'], string> = {
  queued: 'gray',
  starting: 'blue',
  running: 'blue',
  stopping: 'orange',
  finished: 'green',
  failed: 'red',
  stopped: 'yellow',
}
const ended = (s: RunRecord['state']) => s === 'finished' || s === 'failed' || s === 'stopped'

function interval(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (n: number) => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`
}

/**
 * WebGL only on a real GPU: a software rasteriser (SwiftShader, llvmpipe: VMs, remote desktops,
 * headless browsers) draws the terminal slower than the DOM renderer does.
 */
function hardwareWebgl(): boolean {
  try {
    const gl = document.createElement('canvas').getContext('webgl2')
    if (!gl) return false
    const info = gl.getExtension('WEBGL_debug_renderer_info')
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : ''
    return !/swiftshader|llvmpipe|software|basic render/i.test(renderer)
  } catch {
    return false
  }
}

/** The run's pseudo-terminal: bounded scrollback, WebGL when it works, DOM otherwise; acks what it has written. */
function RunTerminal({ id }: { id: string }) {
  const host = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = host.current
    if (!el) return
    const term = new Terminal({ scrollback: 5000, convertEol: false, fontSize: 12, disableStdin: true })
    const fit = new FitAddon()
    term.loadAddon(fit)
    term.open(el)
    if (hardwareWebgl()) {
      try {
        const webgl = new WebglAddon()
        webgl.onContextLoss(() => webgl.dispose()) // back to the DOM renderer
        term.loadAddon(webgl)
      } catch {
        // WebGL failed to start: the DOM renderer stays.
      }
    }
    const resize = () => {
      try {
        fit.fit()
        void getApiClient()
          .call('run.resize', { id, cols: Math.max(20, term.cols), rows: Math.max(5, term.rows) })
          .catch(() => undefined)
      } catch {
        // not laid out yet
      }
    }
    resize()
    const observer = new ResizeObserver(resize)
    observer.observe(el)
    const sub = getApiClient().subscribe(
      'run.output',
      { id },
      // Acknowledge only once xterm has parsed the data, so the pty waits for a busy terminal.
      { data: ({ data }) => term.write(data, () => sub.processed(data.length)) },
    )
    return () => {
      sub.close()
      observer.disconnect()
      term.dispose()
    }
  }, [id])
  return <div ref={host} data-testid="run-terminal" style={{ height: 360, background: '#000', padding: 4 }} />
}

/** avr_loss per step. */
function LossChart({ points }: { points: Array<[number, number]> }) {
  const { t } = useTranslation('runs')
  const x = useMemo(() => points.map((p) => p[0]), [points])
  const ys = useMemo(() => [points.map((p) => p[1])], [points])
  return (
    <SeriesChart
      xLabel={t('step')}
      series={[{ label: 'avr_loss', color: '#228be6' }]}
      x={x}
      ys={ys}
      testId="run-loss-chart"
    />
  )
}

/**
 * The run's GPU memory over time (sampled from nvidia-smi, kept when it changes) against the peak the
 * VRAM model predicted for its settings, when it gave one.
 */
function GpuMemory({ run, points }: { run: RunRecord; points: Array<[number, number]> }) {
  const { t } = useTranslation('runs')
  const f = useFormat()
  const gib = (mib: number | null) => (mib === null ? '—' : f.fixed(mib / 1024, 1))
  const over = run.predicted_peak_mib !== null && (run.peak_gpu_memory_mib ?? 0) > run.predicted_peak_mib
  const x = useMemo(() => points.map((p) => p[0]), [points])
  const predicted = run.predicted_peak_mib
  const ys = useMemo(
    () => [
      points.map((p) => p[1] / 1024),
      ...(predicted !== null ? [points.map(() => predicted / 1024)] : []),
    ],
    [points, predicted],
  )
  return (
    <Stack gap={2} data-testid="run-gpu-memory">
      <Text size="sm" c={over ? 'red' : 'dimmed'}>
        {t('gpuMemory', {
          now: gib(run.gpu_memory_mib),
          peak: gib(run.peak_gpu_memory_mib),
          predicted: gib(run.predicted_peak_mib),
        })}
      </Text>
      {points.length ? (
        <SeriesChart
          xLabel={t('seconds')}
          series={[
            { label: t('memorySeries'), color: over ? '#fa5252' : '#12b886', stepped: true },
            ...(predicted !== null ? [{ label: t('predictedSeries'), color: '#868e96', dash: true }] : []),
          ]}
          x={x}
          ys={ys}
          height={140}
          fromZero
          testId="run-memory-chart"
        />
      ) : null}
    </Stack>
  )
}

function SampleImage({ id, name }: { id: string; name: string }) {
  const { data } = useApiCall('run.sample', { id, name })
  return (
    <Stack gap={2}>
      {data ? <Image src={data.data_url} alt={name} radius="sm" data-testid="run-sample" /> : null}
      <Text size="xs" c="dimmed" truncate>
        {name}
      </Text>
    </Stack>
  )
}

function RunDetail({ run, onGone }: { run: RunRecord; onGone: () => void }) {
  const { t } = useTranslation(['runs', 'common'])
  const f = useFormat()
  const [liveLoss, setLiveLoss] = useState<Array<[number, number]>>([])
  const [liveMemory, setLiveMemory] = useState<Array<[number, number]>>([])
  const history = useApiCall('run.history', { id: run.id })
  const loss = useMemo(() => {
    const past = history.data?.loss ?? []
    const lastPast = past.length ? (past[past.length - 1] as [number, number])[0] : -1
    return [...past, ...liveLoss.filter((p) => p[0] > lastPast)]
  }, [history.data, liveLoss])
  const memory = useMemo(() => {
    const past = history.data?.memory ?? []
    const lastPast = past.length ? (past[past.length - 1] as [number, number])[0] : -1
    return [...past, ...liveMemory.filter((p) => p[0] > lastPast)]
  }, [history.data, liveMemory])
  useSubscription(
    'run.progress',
    { id: run.id },
    {
      onData: useCallback((u: { events: RunEvent[] }) => {
        const fresh: Array<[number, number]> = []
        const memoryNow: Array<[number, number]> = []
        for (const e of u.events)
          if (e.type === 'progress' && e.bar === 'train' && e.avr_loss !== null)
            fresh.push([e.step, e.avr_loss])
          else if (e.type === 'gpu_memory') memoryNow.push([e.elapsed_s, e.used_mib])
        if (memoryNow.length) setLiveMemory((old) => [...old, ...memoryNow])
        if (fresh.length)
          setLiveLoss((old: Array<[number, number]>) => [
            ...old.filter((p) => p[0] < (fresh[0] as [number, number])[0]),
            ...fresh,
          ])
      }, []),
    },
  )
  const stop = useApiAction('run.stop')
  const [stopActions, setStopActions] = useState<StopAction[]>([])
  const stopRun = (mode: 'now' | 'after_checkpoint') =>
    void stop
      .run({ id: run.id, mode })
      .then((r) => setStopActions(r.actions))
      .catch(() => undefined)
  const rerun = useApiAction('run.rerun')
  const del = useApiAction('run.delete')
  const s = run.summary
  const percent = s.total_steps && s.last_step !== null ? (100 * s.last_step) / s.total_steps : 0
  const speed =
    run.it_per_s === null
      ? '—'
      : run.it_per_s >= 1
        ? `${f.fixed(run.it_per_s, 2)} it/s`
        : `${f.fixed(1 / run.it_per_s, 2)} s/it`
  const live = !ended(run.state)
  const error = stop.error ?? rerun.error ?? del.error
  return (
    <Stack data-testid="run-detail">
      <Group justify="space-between">
        <Group>
          <Title order={3}>{run.name}</Title>
          <Badge color={stateColor[run.state]} data-testid="run-state">
            {t(`state.${run.state}`)}
          </Badge>
        </Group>
        <Group>
          {live && run.state !== 'stopping' ? (
            <>
              {run.save_configured && run.state === 'running' ? (
                <Button
                  variant="light"
                  loading={stop.pending}
                  onClick={() => stopRun('after_checkpoint')}
                  data-testid="run-stop-after-checkpoint"
                >
                  {t('stopAfterCheckpoint')}
                </Button>
              ) : null}
              <Button
                color="red"
                loading={stop.pending}
                onClick={() => stopRun('now')}
                data-testid="run-stop"
              >
                {run.state === 'queued' ? t('removeFromQueue') : t('stopNow')}
              </Button>
            </>
          ) : null}
          {!live ? (
            <>
              <ResumeRun run={run} />
              <Button variant="light" onClick={() => void rerun.run({ id: run.id }).catch(() => undefined)}>
                {t('rerun')}
              </Button>
              <Button
                variant="subtle"
                color="red"
                onClick={() =>
                  void del
                    .run({ id: run.id })
                    .then(onGone)
                    .catch(() => undefined)
                }
              >
                {t('delete')}
              </Button>
            </>
          ) : null}
        </Group>
      </Group>
      {live && run.state !== 'queued' ? (
        <Text size="sm" c="dimmed">
          {run.save_configured ? t('stopHintSaving') : t('stopHintNoSaving')}
        </Text>
      ) : null}
      <StopReport actions={stopActions} />
      {error ? <Alert color="red">{error.message}</Alert> : null}
      {run.state === 'failed' ? (
        <Alert
          color="red"
          title={s.error === 'oom' ? t('failure.oomTitle') : t('failure.title')}
          data-testid="run-failure"
        >
          <Text size="sm">{run.reason}</Text>
          {run.failure && run.failure.message !== run.reason ? (
            <Text size="xs" ff="monospace" mt="xs">
              {run.failure.message}
            </Text>
          ) : null}
        </Alert>
      ) : run.reason ? (
        <Alert color={run.state === 'stopped' ? 'yellow' : 'blue'} data-testid="run-reason">
          {run.reason}
        </Alert>
      ) : null}
      <Card withBorder>
        <Stack gap="xs">
          <Progress value={percent} animated={run.state === 'running'} data-testid="run-progress" />
          <SimpleGrid cols={{ base: 2, sm: 5 }}>
            <Text size="sm">
              {t('steps')}: <b data-testid="run-steps">{s.last_step ?? '—'}</b> / {s.total_steps ?? '—'}
            </Text>
            <Text size="sm">
              {t('epoch')}: {s.last_epoch ?? '—'} / {s.epochs_total ?? '—'}
            </Text>
            <Text size="sm">
              {t('speed')}: <span data-testid="run-speed">{speed}</span>
            </Text>
            <Text size="sm">
              {t('eta')}: {live ? interval(run.remaining_s) : '—'}
            </Text>
            <Text size="sm">
              avr_loss:{' '}
              <b data-testid="run-loss">{s.last_avr_loss === null ? '—' : f.number(s.last_avr_loss)}</b>
            </Text>
          </SimpleGrid>
          <GpuMemory run={run} points={memory} />
          <RunGpuMemoryPerGpu run={run} />
          {s.saved_checkpoints.length ? (
            <Text size="sm">
              {t('checkpoints')}: {s.saved_checkpoints.join(', ')}
            </Text>
          ) : null}
        </Stack>
      </Card>
      <Card withBorder>
        <Text fw={500} mb="xs">
          {t('lossChart')}
        </Text>
        <LossChart points={loss} />
      </Card>
      <TensorBoardCharts run={run} />
      {run.samples.length ? (
        <Card withBorder>
          <Text fw={500} mb="xs">
            {t('samples')}
          </Text>
          <SimpleGrid cols={{ base: 3, sm: 6 }}>
            {run.samples.slice(-12).map((n) => (
              <SampleImage key={n} id={run.id} name={n} />
            ))}
          </SimpleGrid>
        </Card>
      ) : null}
      <Text size="xs" ff="monospace" c="dimmed" data-testid="run-command">
        {run.display_command}
      </Text>
      <OutputLocation run={run} />
      {/* One terminal per run: it follows the run to its end (the stream has every byte the log has), so
          the end of a run neither clears it nor moves where the user has scrolled. */}
      <RunParts run={run} />
      {/* A resumed run's next part is a new terminal stream. */}
      {run.state !== 'queued' ? <RunTerminal key={`${run.id}:${run.segments.length}`} id={run.id} /> : null}
    </Stack>
  )
}

function NewRun({ onStarted }: { onStarted: (id: string) => void }) {
  const { t } = useTranslation('runs')
  const [text, setText] = useState('')
  const [parseError, setParseError] = useState<string | null>(null)
  const start = useApiAction('run.start')
  const submit = () => {
    let input: unknown
    try {
      input = JSON.parse(text)
    } catch (e) {
      setParseError(t('newRun.badJson', { message: (e as Error).message }))
      return
    }
    setParseError(null)
    void start
      .run(input as Parameters<typeof start.run>[0])
      .then((r) => onStarted(r.id))
      .catch(() => undefined)
  }
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Text fw={500}>{t('newRun.title')}</Text>
        <Text size="xs" c="dimmed">
          {t('newRun.help')}
        </Text>
        <Textarea
          autosize
          minRows={3}
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          placeholder='{"command": ["python", "sdxl_train_network.py", "…"], "cwd": "…"}'
          styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
          data-testid="new-run-json"
        />
        {parseError || start.error ? <Alert color="red">{parseError ?? start.error?.message}</Alert> : null}
        <Group>
          <Button
            onClick={submit}
            loading={start.pending}
            disabled={!text.trim()}
            data-testid="new-run-start"
          >
            {t('newRun.start')}
          </Button>
        </Group>
      </Stack>
    </Card>
  )
}

/** No runs yet: where runs come from. */
function EmptyRuns() {
  const { t } = useTranslation('runs')
  return (
    <Card withBorder data-testid="runs-empty">
      <Stack gap="xs" align="flex-start">
        <Text fw={500}>{t('emptyTitle')}</Text>
        <Text size="sm" c="dimmed">
          {t('empty')}
        </Text>
        <Button
          onClick={() => {
            window.location.hash = '/train'
          }}
          data-testid="runs-empty-train"
        >
          {t('openTrain')}
        </Button>
      </Stack>
    </Card>
  )
}

export default function RunsPage() {
  const { t } = useTranslation(['runs', 'common'])
  const f = useFormat()
  const { settings } = useSettings()
  const list = useApiCall('run.list', {})
  const reloadList = list.reload
  const [updates, setUpdates] = useState<Map<string, RunRecord | null>>(new Map())
  const [queueOrder, setQueueOrder] = useState<string[] | null>(null)
  const [selected, setSelected] = useState<string | null>(null)
  useRunFocus(setSelected)
  // The list as loaded, overlaid with live updates (null: deleted here).
  const runs = useMemo(() => {
    const m = new Map((list.data?.runs ?? []).map((r) => [r.id, r]))
    for (const [id, r] of updates) {
      if (r) m.set(id, r)
      else m.delete(id)
    }
    return m
  }, [list.data, updates])
  useSubscription(
    'run.progress',
    {},
    {
      onData: useCallback(
        (u: { run: RunRecord }) => {
          setUpdates((old) => new Map(old).set(u.run.id, u.run))
          // A run ended or started: the queue (and its hold) may have changed.
          if (u.run.state !== 'running' && u.run.state !== 'stopping') {
            setQueueOrder(null)
            reloadList()
          }
        },
        [reloadList],
      ),
    },
  )
  const ordered = [...runs.values()].sort((a, b) => b.created_at.localeCompare(a.created_at))
  const current = (selected && runs.get(selected)) || ordered[0] || null
  const queued = (queueOrder ?? list.data?.queue ?? [])
    .map((id) => runs.get(id))
    .filter((r): r is RunRecord => r?.state === 'queued')
  return (
    <Stack>
      <Title order={2}>{t('title')}</Title>
      <Group align="flex-start" wrap="nowrap">
        <Stack w={260} style={{ flexShrink: 0 }}>
          {settings.developer && <NewRun onStarted={(id) => setSelected(id)} />}
          <QueuePanel
            queued={queued}
            heldBy={list.data?.held_by ?? null}
            onChanged={(q) => {
              setQueueOrder(q)
              if (!q) reloadList()
            }}
          />
          <DamagedRuns items={list.data?.unreadable ?? []} onDeleted={reloadList} />
          <ScrollArea.Autosize mah={600}>
            <Stack gap={4} data-testid="run-list">
              {ordered.length === 0 && settings.developer ? <Text c="dimmed">{t('empty')}</Text> : null}
              {ordered.map((r) => (
                <UnstyledButton
                  key={r.id}
                  onClick={() => setSelected(r.id)}
                  data-testid={`run-item-${r.id}`}
                  p="xs"
                  style={{
                    borderRadius: 4,
                    background: current?.id === r.id ? 'var(--mantine-color-default-hover)' : undefined,
                  }}
                >
                  <Group justify="space-between" wrap="nowrap">
                    <Text size="sm" truncate>
                      {r.name}
                    </Text>
                    <Badge size="xs" color={stateColor[r.state]}>
                      {t(`state.${r.state}`)}
                    </Badge>
                  </Group>
                  <Text size="xs" c="dimmed">
                    {r.summary.last_step ?? 0}/{r.summary.total_steps ?? '?'} · {f.date(r.created_at)}
                  </Text>
                </UnstyledButton>
              ))}
            </Stack>
          </ScrollArea.Autosize>
        </Stack>
        <div style={{ flex: 1, minWidth: 0 }}>
          {ordered.length === 0 && <EmptyRuns />}
          {current ? (
            <RunDetail
              key={current.id}
              run={current}
              onGone={() => {
                setUpdates((old) => new Map(old).set(current.id, null))
                setSelected(null)
              }}
            />
          ) : null}
        </div>
      </Group>
    </Stack>
  )
}
