import { Alert, Button, Group, Stack, Text, TextInput } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RequestInput, RequestOutput } from '../../../core/api/contract'
import { useApiAction, useApiCall } from '../api/hooks'
import { useEnvError } from '../i18n/env-messages'

type EnvSettings = RequestOutput<'env.settings.get'>
const FIELDS = ['source', 'pypiIndex', 'torchIndex', 'hfEndpoint', 'pythonMirror', 'proxy'] as const
type Field = (typeof FIELDS)[number]
type Values = Record<Field, string>

const toValues = (s: EnvSettings): Values => ({
  source: s.source ?? '',
  pypiIndex: s.mirrors.pypiIndex ?? '',
  torchIndex: s.mirrors.torchIndex ?? '',
  hfEndpoint: s.mirrors.hfEndpoint ?? '',
  pythonMirror: s.mirrors.pythonMirror ?? '',
  proxy: s.mirrors.proxy ?? '',
})

// An empty box means "the default", which the backend stores as null.
const orNull = (v: string) => (v.trim() === '' ? null : v.trim())
const toPatch = (v: Values): RequestInput<'env.settings.update'> => ({
  source: orNull(v.source),
  mirrors: {
    pypiIndex: orNull(v.pypiIndex),
    torchIndex: orNull(v.torchIndex),
    hfEndpoint: orNull(v.hfEndpoint),
    pythonMirror: orNull(v.pythonMirror),
    proxy: orNull(v.proxy),
  },
})

/** The field the server named in a typed 'invalid_setting' error, if it named one. */
function fieldOf(details: unknown): Field | null {
  if (typeof details !== 'object' || details === null || !('field' in details)) return null
  const field = (details as { field: unknown }).field
  return FIELDS.find((f) => f === field) ?? null
}

/**
 * Where sd-scripts, uv, Python packages, Python, torch wheels and the tokenizer are downloaded from,
 * and through which proxy. The same settings as `env settings` on the CLI; the server checks each
 * value and says which one is wrong. Passwords in addresses come back as ****; saving a value back
 * unchanged keeps the stored password.
 */
export function MirrorsSettings() {
  const { t } = useTranslation(['settings', 'common'])
  const current = useApiCall('env.settings.get', {})
  const update = useApiAction('env.settings.update')
  // What the server last returned from a save (newer than the initial read) and the user's unsaved edits.
  const [stored, setStored] = useState<EnvSettings | null>(null)
  const [edits, setEdits] = useState<Partial<Values>>({})
  const [saved, setSaved] = useState(false)
  // The server's refusal is coded (details.code/params): shown in the UI's language.
  const errorText = useEnvError()

  if (current.error) {
    return (
      <Text c="red" size="sm" data-testid="settings-mirrors-load-error">
        {current.error.message}
      </Text>
    )
  }
  const base = stored ?? current.data
  if (!base) {
    return (
      <Text c="dimmed" size="sm">
        {t('common:loading')}
      </Text>
    )
  }

  const storedValues = toValues(base)
  const values: Values = { ...storedValues, ...edits }
  const dirty = FIELDS.some((f) => values[f].trim() !== storedValues[f])
  const errorField = update.error ? fieldOf(update.error.details) : null
  const errorMessage = update.error ? errorText(update.error) : null

  const submit = (next: Values) => {
    setSaved(false)
    update.run(toPatch(next)).then(
      (result) => {
        setStored(result)
        setEdits({})
        setSaved(true)
      },
      // The error is kept by useApiAction and shown below the field it names.
      () => undefined,
    )
  }
  const empty: Values = {
    source: '',
    pypiIndex: '',
    torchIndex: '',
    hfEndpoint: '',
    pythonMirror: '',
    proxy: '',
  }

  return (
    <Stack gap="xs" data-testid="settings-mirrors">
      <Text size="sm" c="dimmed">
        {t('mirrors.note')}
      </Text>
      {FIELDS.map((field) => (
        <TextInput
          key={field}
          label={t(`mirrors.${field}.label`)}
          description={t(`mirrors.${field}.description`)}
          placeholder={t(`mirrors.${field}.placeholder`)}
          value={values[field]}
          onChange={(e) => {
            const value = e.currentTarget.value
            setSaved(false)
            setEdits((e) => ({ ...e, [field]: value }))
          }}
          error={errorField === field ? errorMessage : undefined}
          data-testid={`settings-mirrors-${field}`}
          errorProps={{ 'data-testid': `settings-mirrors-${field}-error` }}
        />
      ))}
      {update.error && errorField === null && (
        <Alert color="red" title={t('saveFailed')} data-testid="settings-mirrors-error">
          {errorMessage}
        </Alert>
      )}
      <Group gap="sm">
        <Button
          onClick={() => submit(values)}
          loading={update.pending}
          disabled={!dirty}
          data-testid="settings-mirrors-save"
        >
          {t('mirrors.save')}
        </Button>
        <Button
          variant="default"
          onClick={() => submit(empty)}
          disabled={update.pending}
          data-testid="settings-mirrors-reset"
        >
          {t('mirrors.reset')}
        </Button>
        {saved && !dirty && (
          <Text size="sm" c="teal" data-testid="settings-mirrors-saved">
            {t('mirrors.saved')}
          </Text>
        )}
      </Group>
    </Stack>
  )
}
