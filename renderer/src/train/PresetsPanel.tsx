import { Button, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core'
import { useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { PresetSummary } from '../../../core/api/domains/configs'
import type { TrainingConfig } from '../../../core/config/schema'
import { toApiError } from '../api/client'
import { useApiAction } from '../api/hooks'
import { useAppCommands } from '../desktop/hooks'

type PresetNote = 'presetSaved' | 'presetUpdated' | 'presetRenamed' | 'presetDuplicated'

/** The user's own presets: save the form as one, update, rename, duplicate or delete the chosen one. */
export function PresetsPanel({
  config,
  selected,
  onSelected,
  reload,
}: {
  /** The checked config (null while it is being checked). */
  config: TrainingConfig | null
  selected: PresetSummary | undefined
  onSelected: (id: string | null) => void
  reload: () => void
}) {
  const { t } = useTranslation('train')
  const [name, setName] = useState('')
  const [note, setNote] = useState<string | null>(null)
  const save = useApiAction('presets.save')
  const rename = useApiAction('presets.rename')
  const duplicate = useApiAction('presets.duplicate')
  const remove = useApiAction('presets.delete')
  const pending = save.pending || rename.pending || duplicate.pending || remove.pending

  /** Runs a preset change, then selects the preset it returns and refreshes the list. */
  const run = async (action: () => Promise<{ id: string; name: string }>, done: PresetNote) => {
    setNote(null)
    try {
      const p = await action()
      reload()
      onSelected(p.id)
      setNote(t(done, { name: p.name }))
    } catch (e) {
      setNote(toApiError(e).message)
    }
  }
  const nameInput = useRef<HTMLInputElement>(null)
  // Ctrl+S and the app menu's Save preset: saves under the typed name, or asks for one.
  useAppCommands(['save-preset'], () => {
    if (pending || !config) return
    if (!name.trim()) {
      nameInput.current?.scrollIntoView({ block: 'center' })
      nameInput.current?.focus()
      return
    }
    void run(() => save.run({ name: name.trim(), config }), 'presetSaved')
  })
  return (
    <Paper withBorder p="md" data-testid="train-presets-panel">
      <Stack gap="xs">
        <Title order={4}>{t('myPresets')}</Title>
        <Group align="flex-end" gap="xs" wrap="wrap">
          <TextInput
            label={t('presetName')}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            ref={nameInput}
            data-testid="train-preset-name"
            style={{ flex: '1 1 200px', minWidth: 0 }}
          />
          <Button
            disabled={!name.trim() || !config}
            loading={pending}
            data-testid="train-save-preset"
            onClick={() => config && void run(() => save.run({ name: name.trim(), config }), 'presetSaved')}
          >
            {t('savePreset')}
          </Button>
          {selected && !selected.builtin && (
            <>
              <Button
                variant="light"
                disabled={!config}
                data-testid="train-update-preset"
                onClick={() =>
                  config &&
                  void run(() => save.run({ id: selected.id, name: selected.name, config }), 'presetUpdated')
                }
              >
                {t('updatePreset')}
              </Button>
              <Button
                variant="light"
                disabled={!name.trim()}
                data-testid="train-rename-preset"
                onClick={() =>
                  void run(() => rename.run({ id: selected.id, name: name.trim() }), 'presetRenamed')
                }
              >
                {t('renamePreset')}
              </Button>
            </>
          )}
          {selected && (
            <Button
              variant="light"
              data-testid="train-duplicate-preset"
              onClick={() =>
                void run(
                  () => duplicate.run({ id: selected.id, name: name.trim() || undefined }),
                  'presetDuplicated',
                )
              }
            >
              {t('duplicatePreset')}
            </Button>
          )}
          {selected && !selected.builtin && (
            <Button
              variant="light"
              color="red"
              data-testid="train-delete-preset"
              onClick={() => {
                const old = selected.name
                void remove.run({ id: selected.id }).then(
                  () => {
                    onSelected(null)
                    setNote(t('presetDeleted', { name: old }))
                    reload()
                  },
                  (e: unknown) => setNote(toApiError(e).message),
                )
              }}
            >
              {t('deletePreset')}
            </Button>
          )}
        </Group>
        {note && (
          <Text size="sm" data-testid="train-preset-saved">
            {note}
          </Text>
        )}
      </Stack>
    </Paper>
  )
}
