import { ActionIcon, Popover, Stack, Text } from '@mantine/core'
import { useState, type MouseEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { FieldDef } from './fields'

/**
 * A field's label with a "?" that opens its help: what the setting does, typical values, its effect on
 * memory and speed, and the sd-scripts option it becomes. The "?" sits inside the <label>, so a click
 * on it must not reach the input (it would toggle a switch).
 */
export function HelpLabel({ field }: { field: FieldDef }) {
  const { t } = useTranslation('train')
  const [open, setOpen] = useState(false)
  const label = t(`fields.${field.id}.label`)
  const stop = (e: MouseEvent) => {
    e.preventDefault()
    e.stopPropagation()
  }
  const options = (field.args ?? []).map((a) =>
    a.startsWith('network_args ')
      ? `--network_args "${a.slice(13)}=…"`
      : a.startsWith('accelerate ')
        ? `accelerate --${a.slice(11)}`
        : a.startsWith('dataset ')
          ? `dataset.toml: ${a.slice(8)}`
          : `--${a}`,
  )
  return (
    <span style={{ display: 'inline-flex', alignItems: 'center', gap: 4, flexWrap: 'wrap' }}>
      <span>{label}</span>
      <Popover opened={open} onChange={setOpen} width={340} position="top-start" withArrow shadow="md">
        <Popover.Target>
          <ActionIcon
            component="span"
            role="button"
            tabIndex={0}
            size={16}
            radius="xl"
            variant="light"
            color="gray"
            aria-label={t('help')}
            title={t('helpFor', { label })}
            data-testid={`help-${field.id}`}
            onClick={(e: MouseEvent) => {
              stop(e)
              setOpen((o) => !o)
            }}
            onKeyDown={(e: React.KeyboardEvent) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault()
                setOpen((o) => !o)
              }
            }}
          >
            <Text span size="10px" fw={700} lh={1}>
              ?
            </Text>
          </ActionIcon>
        </Popover.Target>
        <Popover.Dropdown onClick={stop} data-testid={`help-text-${field.id}`}>
          <Stack gap={6}>
            <Text size="sm" fw={600}>
              {label}
            </Text>
            <Text size="sm" style={{ whiteSpace: 'pre-line' }}>
              {t(`fields.${field.id}.help`)}
            </Text>
            {options.length > 0 && (
              <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                {options.join(' · ')}
              </Text>
            )}
          </Stack>
        </Popover.Dropdown>
      </Popover>
    </span>
  )
}
