import { Button, Group, NumberInput, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { toApiError } from '../api/client'
import { useSettings } from '../settings'

const MAX_GRACE_S = 600

/** Seconds from Ctrl-C to the tree kill when a run is stopped (the stop_grace_s setting). */
export function StopGraceSetting() {
  const { t } = useTranslation('settings')
  const { settings, update } = useSettings()
  const [value, setValue] = useState<string | number>(settings.stop_grace_s)
  const [error, setError] = useState<string | null>(null)
  const [saved, setSaved] = useState(false)
  const save = () => {
    setSaved(false)
    const seconds = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value)
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_GRACE_S) {
      setError(t('stopGrace.invalid'))
      return
    }
    setError(null)
    update({ stop_grace_s: seconds }).then(
      () => setSaved(true),
      (e: unknown) => setError(toApiError(e).message),
    )
  }
  return (
    <Stack gap={4}>
      <Group align="flex-start" wrap="nowrap">
        <NumberInput
          label={t('stopGrace.input')}
          value={value}
          onChange={(v) => {
            setValue(v)
            setSaved(false)
          }}
          min={0}
          max={MAX_GRACE_S}
          allowNegative
          decimalScale={1}
          clampBehavior="none"
          error={error}
          w={220}
          data-testid="settings-stop-grace"
        />
        <Button mt={25} onClick={save} data-testid="settings-stop-grace-save">
          {t('stopGrace.save')}
        </Button>
        {saved ? (
          <Text mt={31} size="sm" c="green" data-testid="settings-stop-grace-saved">
            {t('stopGrace.saved')}
          </Text>
        ) : null}
      </Group>
      <Text size="sm" c="dimmed">
        {t('stopGrace.description')}
      </Text>
    </Stack>
  )
}
