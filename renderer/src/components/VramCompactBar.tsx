import { Badge, Button, Collapse, Group, Paper, Text } from '@mantine/core'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AdviceId, FitState } from '../../../core/vram/advice'
import type { ScenarioPatch, VramScenario } from '../../../core/vram/scenario'
import { useVramAssessment } from './vram-target'

const STATE_COLOR: Record<FitState, string> = { fits: 'teal', tight: 'orange', does_not_fit: 'red' }

/**
 * The gauge in one line, pinned at the top of a narrow window while the form scrolls under it: the
 * predicted peak against the target, whether it fits, "Make it fit", and a button that unfolds the
 * full gauge (passed as children) below the line.
 */
export function VramCompactBar({
  scenario,
  onApply,
  unavailable,
  children,
}: {
  scenario: VramScenario
  onApply: (patch: ScenarioPatch) => void
  unavailable?: readonly AdviceId[]
  children: ReactNode
}) {
  const { t } = useTranslation('vram')
  const { total, a, num } = useVramAssessment(scenario, unavailable)
  const [open, setOpen] = useState(false)
  const state = a.state ?? 'fits'
  const fit = a.make_it_fit
  return (
    <Paper
      withBorder
      shadow="sm"
      p="xs"
      data-testid="vram-bar"
      data-state={state}
      style={{
        position: 'sticky',
        top: 'calc(var(--app-shell-header-height, 52px) + 4px)',
        zIndex: 5,
        background: 'var(--mantine-color-body)',
      }}
    >
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Group gap="xs" wrap="wrap" style={{ minWidth: 0 }}>
          <Text fw={600} size="sm">
            {t('gauge.title')}
          </Text>
          <Text size="sm" data-testid="vram-bar-peak">
            {t('gauge.of_total', {
              peak: num.format(a.prediction.peak_gib),
              total: Number.isInteger(total) ? String(total) : num.format(total),
            })}
          </Text>
          <Badge color={STATE_COLOR[state]} style={{ flexShrink: 0 }}>
            {t(`state.${state}`)}
          </Badge>
        </Group>
        <Group gap="xs" wrap="wrap">
          {state !== 'fits' && fit && (
            <Button
              size="xs"
              color="teal"
              style={{ flexShrink: 0 }}
              onClick={() => onApply(fit.patch)}
              data-testid="vram-bar-make-it-fit"
            >
              {t('gauge.make_it_fit')}
            </Button>
          )}
          <Button
            size="xs"
            variant="subtle"
            style={{ flexShrink: 0 }}
            onClick={() => setOpen((o) => !o)}
            aria-expanded={open}
            data-testid="vram-bar-toggle"
          >
            {open ? t('gauge.less') : t('gauge.more')}
          </Button>
        </Group>
      </Group>
      <Collapse expanded={open}>
        <div style={{ paddingTop: 8, maxHeight: '60vh', overflowY: 'auto' }}>{children}</div>
      </Collapse>
    </Paper>
  )
}
