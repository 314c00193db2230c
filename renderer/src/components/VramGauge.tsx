import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Loader,
  Progress,
  SegmentedControl,
  Stack,
  Text,
  Tooltip,
} from '@mantine/core'
import { useMemo, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { TrainingConfig } from '../../../core/config/schema'
import type { AdviceId, FitState } from '../../../core/vram/advice'
import { FITTED } from '../../../core/vram/constants'
import { configFromScenario, scenarioFromConfig } from '../../../core/vram/from-config'
import type { ScenarioPatch, VramScenario } from '../../../core/vram/scenario'
import { RingGauge } from './RingGauge'
import { VramTraceCheck } from './VramTraceCheck'
import { GPU_TARGET as GPU, useVramAssessment } from './vram-target'
import { VramPerGpuLine, type MultiGpuLaunch } from './VramPerGpuLine'

/** Planning targets when there is no GPU here (e.g. a rented box), GiB as cards are sold. */
const TARGETS = [6, 8, 12, 16, 24, 48] as const
const NONE: readonly AdviceId[] = []

const STATE_COLOR: Record<FitState, string> = { fits: 'teal', tight: 'orange', does_not_fit: 'red' }
const SEVERITY_COLOR = { info: 'blue', warning: 'orange', danger: 'red' } as const

/** Breakdown colours, in the order terms appear. */
const TERM_COLORS = [
  'gray',
  'blue',
  'cyan',
  'teal',
  'green',
  'lime',
  'yellow',
  'orange',
  'red',
  'pink',
  'grape',
  'violet',
  'indigo',
  'dark',
]

export interface VramGaugeProps {
  /** The run as the VRAM model sees it (map a TrainingConfig with core/vram/from-config.ts). */
  scenario: VramScenario
  /** Applies a change to the form (one advice item, or "make it fit"). */
  onApply: (patch: ScenarioPatch) => void
  /** How many single changes to list. */
  maxAdvice?: number
  /** Changes the form cannot make (e.g. ['lycoris_bypass'] while the config has no bypass field). */
  unavailable?: readonly AdviceId[]
  /**
   * The form's training config: "check with the model code" traces exactly it, and the settings the model
   * does not compute are listed as "not modelled". Without it the trace runs a config made from the
   * scenario (configFromScenario), which leaves out what the scenario cannot say.
   */
  config?: TrainingConfig
  /** Training on several GPUs: a line with the need per GPU (VramPerGpuLine). */
  multiGpu?: MultiGpuLaunch | undefined
  /** Under the breakdown: what the activations are sized for (e.g. the dataset's largest bucket). */
  breakdownNote?: ReactNode
}

/**
 * Predicted peak GPU memory of the run against the selected GPU or a target, what takes it, the best
 * changes (one click each) and "Make it fit". Recomputed locally on every change (well under 1 ms).
 */
export function VramGauge({
  scenario,
  onApply,
  maxAdvice = 6,
  unavailable = NONE,
  config,
  multiGpu,
  breakdownNote,
}: VramGaugeProps) {
  const { t } = useTranslation('vram')
  const { ready, gpu, gpuTotal, selected, total, setChoice, a, num } = useVramAssessment(
    scenario,
    unavailable,
  )
  const unmodelled = useMemo(() => (config ? scenarioFromConfig(config).unmodelled : []), [config])
  const traced = useMemo(() => config ?? configFromScenario(scenario), [config, scenario])
  const p = a.prediction
  const state = a.state ?? 'fits'
  const percent = (p.peak_gib / total) * 100

  const speed = (slowdown: number) => {
    const pct = Math.round(Math.abs(slowdown - 1) * 100)
    if (pct === 0) return t('gauge.same_speed')
    return slowdown > 1 ? t('gauge.slower', { pct }) : t('gauge.faster', { pct })
  }

  // gpu.watch re-renders every second: keep the options (and so the control's layout) stable between readings.
  const gpuName = gpu?.name ?? 'GPU'
  const hasGpu = gpuTotal !== null
  const targetOptions = useMemo(
    () => [
      ...(hasGpu ? [{ value: GPU, label: t('gauge.gpu_short') }] : []),
      ...TARGETS.map((g) => ({ value: String(g), label: `${g}` })),
    ],
    [hasGpu, t],
  )

  return (
    <Card withBorder padding="md" radius="md" data-testid="vram-gauge" data-state={state}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap">
          <Text fw={600}>{t('gauge.title')}</Text>
          <Badge color={STATE_COLOR[state]} data-testid="vram-state">
            {t(`state.${state}`)}
          </Badge>
        </Group>

        <Group gap="xs" wrap="wrap">
          <Text size="xs" c="dimmed">
            {gpuTotal === null ? t('gauge.no_gpu') : t('gauge.target')}
          </Text>
          {/* The GPU's name on its own line: in the choices it would not leave room for the targets. */}
          {gpuTotal !== null && (
            <Text size="xs" data-testid="vram-gpu">
              {t('gauge.gpu_total', { name: gpuName, gib: num.format(gpuTotal) })}
            </Text>
          )}
          {ready ? (
            <SegmentedControl
              size="xs"
              value={selected}
              onChange={setChoice}
              data={targetOptions}
              data-testid="vram-target"
            />
          ) : (
            <Loader size="xs" />
          )}
        </Group>

        <Group wrap="nowrap" align="center">
          <RingGauge
            percent={percent}
            color={STATE_COLOR[state]}
            size={110}
            thickness={11}
            aria-label={t('gauge.of_total', {
              peak: num.format(p.peak_gib),
              total: Number.isInteger(total) ? String(total) : num.format(total),
            })}
            label={
              <Text ta="center" size="sm" fw={700} data-testid="vram-peak">
                {num.format(p.peak_gib)}
              </Text>
            }
          />
          <Stack gap={2} style={{ flex: 1 }}>
            <Text size="xs" c="dimmed">
              {t('gauge.predicted')}
            </Text>
            <Text fw={600}>
              {t('gauge.of_total', {
                peak: num.format(p.peak_gib),
                total: Number.isInteger(total) ? String(total) : num.format(total),
              })}
            </Text>
            <Text size="xs" c="dimmed" data-testid="vram-band">
              {t('gauge.band', {
                low: num.format(p.peak_low_gib),
                high: num.format(p.peak_high_gib),
                pct: Math.round(FITTED.band_pct),
              })}
            </Text>
            <Text size="xs" c="dimmed">
              {t('gauge.allocated', { gib: num.format(p.allocated_gib) })}
            </Text>
            {multiGpu ? <VramPerGpuLine launch={multiGpu} prediction={p} /> : null}
            <Text size="xs" c="dimmed">
              {t('gauge.peak_at', { phase: t(`phase.${p.phase}`) })}
            </Text>
          </Stack>
        </Group>

        {a.used_gib !== null && a.used_gib >= 0.05 && (
          <Text size="xs" c="dimmed" data-testid="vram-available">
            {t('gauge.available', {
              available: num.format(Math.max(0, total - a.used_gib)),
              used: num.format(a.used_gib),
            })}
          </Text>
        )}

        <div>
          <Text size="xs" c="dimmed" mb={4}>
            {t('gauge.breakdown')}
          </Text>
          <Progress.Root size="lg" aria-hidden>
            {p.breakdown.map((b, i) => (
              <Tooltip key={b.id + i} label={`${t(b.label_key)}: ${num.format(b.gib)}`}>
                <Progress.Section
                  value={(b.gib / Math.max(p.peak_gib, total)) * 100}
                  color={TERM_COLORS[i % TERM_COLORS.length]}
                />
              </Tooltip>
            ))}
          </Progress.Root>
          <Stack gap={0} mt={4} data-testid="vram-breakdown">
            {p.breakdown.map((b, i) => (
              <Group key={b.id + i} justify="space-between" gap="xs" wrap="nowrap">
                <Group gap={6} wrap="nowrap">
                  <span
                    style={{
                      width: 8,
                      height: 8,
                      borderRadius: 2,
                      background: `var(--mantine-color-${TERM_COLORS[i % TERM_COLORS.length]}-6)`,
                      flex: 'none',
                    }}
                  />
                  <Text size="xs">{t(b.label_key)}</Text>
                </Group>
                <Text size="xs" c="dimmed">
                  {num.format(b.gib)}
                </Text>
              </Group>
            ))}
          </Stack>
          {breakdownNote}
        </div>

        {state !== 'fits' && (
          <Group justify="space-between" wrap="wrap" gap="xs" data-testid="vram-make-it-fit">
            {a.make_it_fit ? (
              <>
                <Text size="xs" style={{ flex: '1 1 180px', minWidth: 0 }}>
                  {t('gauge.make_it_fit_summary', {
                    count: a.make_it_fit.items.length,
                    peak: num.format(a.make_it_fit.peak_gib),
                    slowdown: speed(a.make_it_fit.slowdown),
                  })}
                  {': '}
                  {a.make_it_fit.items.map((i) => t(i.label_key, i.values)).join(', ')}
                </Text>
                <Button
                  size="xs"
                  color="teal"
                  style={{ flexShrink: 0 }}
                  onClick={() => onApply(a.make_it_fit!.patch)}
                  data-testid="vram-make-it-fit-apply"
                >
                  {t('gauge.make_it_fit')}
                </Button>
              </>
            ) : (
              <Text size="xs" c="red">
                {t('gauge.nothing_fits')}
              </Text>
            )}
          </Group>
        )}

        {a.advice.length > 0 && (
          <div>
            <Text size="xs" c="dimmed" mb={4}>
              {t('gauge.best_changes')}
            </Text>
            <Stack gap={4} data-testid="vram-advice">
              {a.advice.slice(0, maxAdvice).map((x) => (
                <Group
                  key={x.label_key + JSON.stringify(x.values)}
                  justify="space-between"
                  gap="xs"
                  wrap="nowrap"
                >
                  <div style={{ minWidth: 0 }}>
                    <Text size="xs" fw={500}>
                      {t(x.label_key, x.values)}: {t('gauge.saving', { gib: num.format(x.saving_gib) })}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {speed(x.slowdown)}
                      {x.changes_result ? ` · ${t('gauge.changes_result')}` : ''}
                    </Text>
                  </div>
                  <Button
                    size="compact-xs"
                    variant="light"
                    style={{ flexShrink: 0 }}
                    onClick={() => onApply(x.patch)}
                  >
                    {t('gauge.apply')}
                  </Button>
                </Group>
              ))}
            </Stack>
          </div>
        )}

        {unmodelled.length > 0 && (
          <Alert color="gray" variant="light" p="xs" data-testid="vram-unmodelled">
            <Text size="xs" fw={500}>
              {t('unmodelled.title')}
            </Text>
            {unmodelled.map((u, i) => (
              <Text size="xs" key={u.code + i}>
                {t(`unmodelled.${u.code}`, u.params)}
              </Text>
            ))}
          </Alert>
        )}

        <VramTraceCheck config={traced} gaugeAllocatedGib={p.allocated_gib} format={(g) => num.format(g)} />

        {a.warnings.length > 0 && (
          <Stack gap={4} data-testid="vram-warnings">
            {a.warnings.map((w) => (
              <Alert key={w.id} color={SEVERITY_COLOR[w.severity]} variant="light" p="xs">
                <Text size="xs">{t(w.label_key)}</Text>
              </Alert>
            ))}
          </Stack>
        )}
      </Stack>
    </Card>
  )
}
