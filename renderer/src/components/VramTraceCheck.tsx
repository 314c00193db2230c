import { Alert, Button, Collapse, Group, Loader, Stack, Text, UnstyledButton } from '@mantine/core'
import { useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { ApiError } from '../../../core/api/api-error'
import type { VramTraceWire } from '../../../core/api/domains/vram'
import type { TrainingConfig } from '../../../core/config/schema'
import { getApiClient, toApiError } from '../api/client'
import { useApiCall } from '../api/hooks'

export interface VramTraceCheckProps {
  /** The config to trace (the form's); the check is offered only when the environment can run it. */
  config: TrainingConfig
  /** The gauge's own allocated figure for the same config, shown next to the trace's. */
  gaugeAllocatedGib: number
  /** Number formatting of the gauge (one decimal, the UI language). */
  format: (gib: number) => string
}

type State =
  | { kind: 'idle' }
  | { kind: 'running'; key: string }
  | { kind: 'done'; key: string; result: VramTraceWire }
  | { kind: 'failed'; key: string; error: ApiError }

/** Error kinds the service reports (details.kind) that have their own words. */
const KNOWN_ERRORS = new Set([
  'trace_timeout',
  'trace_failed',
  'trace_python_missing',
  'trace_sd_scripts_missing',
  'no_torch',
  'no_environment',
  'environment_broken',
])

function errorKind(error: ApiError): string {
  const kind = (error.details as { kind?: unknown } | undefined)?.kind
  return typeof kind === 'string' && KNOWN_ERRORS.has(kind) ? kind : 'other'
}

/**
 * "Check with the model code": traces one training step of the form's config with the active
 * environment's sd-scripts (CPU, meta device) in the background and shows both figures, the trace's
 * and the gauge's allocated peak. Shown only where the environment has torch (vram.trace_status).
 */
export function VramTraceCheck({ config, gaugeAllocatedGib, format }: VramTraceCheckProps) {
  const { t } = useTranslation('vram')
  const status = useApiCall('vram.trace_status', {})
  const [state, setState] = useState<State>({ kind: 'idle' })
  const [open, setOpen] = useState(false)
  const key = useMemo(() => JSON.stringify(config), [config])
  const live = useRef(true)
  useEffect(
    () => () => {
      live.current = false
    },
    [],
  )

  if (!status.data?.available) return null

  const start = () => {
    const runKey = key
    setState({ kind: 'running', key: runKey })
    getApiClient()
      .call('vram.trace', { config })
      .then(
        (result) => live.current && setState({ kind: 'done', key: runKey, result }),
        (e: unknown) => {
          if (!live.current) return
          const error = toApiError(e)
          const cancelled = (error.details as { kind?: string } | undefined)?.kind === 'trace_cancelled'
          // A newer check replaced this one (its own state is already set), or the user stopped it.
          setState((s) =>
            s.kind === 'running' && s.key === runKey
              ? cancelled
                ? { kind: 'idle' }
                : { kind: 'failed', key: runKey, error }
              : s,
          )
        },
      )
  }
  const stop = () => {
    void getApiClient().call('vram.trace_cancel', {})
  }

  const stale = state.kind !== 'idle' && state.key !== key
  return (
    <Stack gap={4} data-testid="vram-trace">
      <Group justify="space-between" wrap="nowrap" gap="xs">
        {state.kind === 'running' ? (
          <Group gap={6} wrap="nowrap" style={{ minWidth: 0 }}>
            <Loader size="xs" />
            <Text size="xs" c="dimmed" data-testid="vram-trace-running">
              {t('trace.running')}
            </Text>
          </Group>
        ) : (
          <Text size="xs" c="dimmed">
            {t('trace.hint')}
          </Text>
        )}
        {state.kind === 'running' ? (
          <Button size="compact-xs" variant="subtle" color="gray" onClick={stop}>
            {t('trace.cancel')}
          </Button>
        ) : (
          <Button size="compact-xs" variant="light" onClick={start} data-testid="vram-trace-start">
            {state.kind === 'idle' ? t('trace.button') : t('trace.again')}
          </Button>
        )}
      </Group>

      {state.kind === 'done' && (
        <div data-testid="vram-trace-result" data-stale={stale}>
          <Text size="xs" fw={500}>
            {t('trace.result_trace', {
              gib: format(state.result.trace.allocated_peak_gib),
              phase: t(`phase.${state.result.trace.phase}`),
            })}
          </Text>
          <Text size="xs">
            {t('trace.result_short_gauge', {
              gib: format(stale ? state.result.gauge.allocated_gib : gaugeAllocatedGib),
              diff: `${state.result.difference_pct >= 0 ? '+' : ''}${state.result.difference_pct.toFixed(1)} %`,
            })}
          </Text>
          {stale && (
            <Text size="xs" c="orange">
              {t('trace.stale')}
            </Text>
          )}
          <UnstyledButton onClick={() => setOpen((o) => !o)} aria-expanded={open}>
            <Text size="xs" c="blue">
              {open ? t('trace.hide_details') : t('trace.show_details')}
            </Text>
          </UnstyledButton>
          <Collapse expanded={open}>
            <Stack gap={0} mt={2}>
              {Object.entries(state.result.trace.breakdown).map(([id, gib]) => (
                <Group key={id} justify="space-between" gap="xs" wrap="nowrap">
                  <Text size="xs">{t(`terms.${id}`)}</Text>
                  <Text size="xs" c="dimmed">
                    {format(gib)}
                  </Text>
                </Group>
              ))}
              <Text size="xs" c="dimmed" mt={4}>
                {t('trace.footer', {
                  params: state.result.trace.trainable_params.toLocaleString(),
                  seconds: Math.round(state.result.trace.seconds),
                  torch: state.result.trace.versions?.torch ?? '?',
                })}
              </Text>
              <Text size="xs" c="dimmed">
                {t('trace.explain')}
              </Text>
            </Stack>
          </Collapse>
        </div>
      )}

      {state.kind === 'failed' && (
        <Alert color="red" variant="light" p="xs" data-testid="vram-trace-error">
          <Text size="xs">{t(`trace.errors.${errorKind(state.error)}`)}</Text>
          {errorKind(state.error) === 'trace_failed' || errorKind(state.error) === 'other' ? (
            <Text size="xs" c="dimmed" style={{ wordBreak: 'break-word' }}>
              {state.error.message}
            </Text>
          ) : null}
        </Alert>
      )}
    </Stack>
  )
}
