import { Alert, Code, SegmentedControl, Stack, Switch, Text, Title } from '@mantine/core'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { Language, Settings, SettingsPatch } from '../../../core/api/domains/app'
import { useApiCall } from '../api/hooks'
import { toApiError } from '../api/client'
import { MirrorsSettings } from '../components/MirrorsSettings'
import { supportedLanguages } from '../i18n'
import { useSettings } from '../settings'

const themes = ['light', 'dark', 'auto'] as const satisfies ReadonlyArray<Settings['theme']>

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Stack gap={6}>
      <Text fw={600}>{title}</Text>
      {children}
    </Stack>
  )
}

export default function SettingsPage() {
  const { t } = useTranslation(['settings', 'common'])
  const { settings, update } = useSettings()
  const info = useApiCall('app.info', {})
  const [saveError, setSaveError] = useState<string | null>(null)

  const save = (patch: SettingsPatch) => {
    setSaveError(null)
    update(patch).catch((e: unknown) => setSaveError(toApiError(e).message))
  }

  return (
    <Stack maw={640} gap="lg">
      <Title order={2}>{t('title')}</Title>
      {saveError !== null && (
        <Alert color="red" title={t('saveFailed')} data-testid="settings-save-error">
          {saveError}
        </Alert>
      )}
      <Section title={t('language.label')}>
        <SegmentedControl
          data-testid="settings-language"
          value={settings.language}
          onChange={(value) => save({ language: value as Language })}
          data={supportedLanguages.map((lng) => ({
            value: lng,
            label: <span data-testid={`settings-language-${lng}`}>{t(`language.names.${lng}`)}</span>,
          }))}
        />
      </Section>
      <Section title={t('theme.label')}>
        <SegmentedControl
          data-testid="settings-theme"
          value={settings.theme}
          onChange={(value) => save({ theme: value as Settings['theme'] })}
          data={themes.map((theme) => ({
            value: theme,
            label: <span data-testid={`settings-theme-${theme}`}>{t(`theme.${theme}`)}</span>,
          }))}
        />
      </Section>
      <Section title={t('developer.label')}>
        <Switch
          checked={settings.developer}
          onChange={(e) => save({ developer: e.currentTarget.checked })}
          label={t('developer.toggle')}
          description={t('developer.note')}
          data-testid="settings-developer"
        />
      </Section>
      <Section title={t('mirrors.label')}>
        <MirrorsSettings />
      </Section>
      <Section title={t('dataDir.label')}>
        {info.data ? (
          <Code block data-testid="settings-data-dir">
            {info.data.dataDir}
          </Code>
        ) : info.error ? (
          <Text c="red" size="sm">
            {info.error.message}
          </Text>
        ) : (
          <Text c="dimmed" size="sm">
            {t('common:loading')}
          </Text>
        )}
        <Text size="sm" c="dimmed">
          {t('dataDir.note')}
        </Text>
      </Section>
      {info.data && (
        <Text size="xs" c="dimmed" data-testid="settings-about">
          {t('about', {
            name: info.data.name,
            version: info.data.version,
            mode: t(`mode.${info.data.mode}`),
          })}
        </Text>
      )}
    </Stack>
  )
}
