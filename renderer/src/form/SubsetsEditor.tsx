import { Button, Collapse, Group, Paper, SimpleGrid, Stack, Text } from '@mantine/core'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Subset } from '../../../core/config/schema'
import { setPath } from '../../../core/config/set-path'
import { parseRepeatsFolder } from '../../../core/config/steps'
import type { TrainingConfig } from '../../../core/config/schema'
import { FieldInput } from './FieldInput'
import { SUBSET_FIELDS, SUBSET_MAIN } from './fields'
import { useForm } from './form-context'
import { RemoveButton } from './RemoveButton'

const MAIN = SUBSET_FIELDS.filter(
  (f) => (SUBSET_MAIN as readonly string[]).includes(f.path) && f.path !== 'image_dir',
)
const MORE = SUBSET_FIELDS.filter((f) => !(SUBSET_MAIN as readonly string[]).includes(f.path))
const IMAGE_DIR = SUBSET_FIELDS.find((f) => f.path === 'image_dir')!

/** A folder picked from a listing: its `10_sks dog` name also gives repeats and class tokens, as sd-scripts reads them. */
function pickFolder(config: TrainingConfig, i: number, folder: string): TrainingConfig {
  const named = parseRepeatsFolder(folder.split(/[\\/]/).pop() ?? '')
  let next = setPath(config, `dataset.subsets.${i}.image_dir`, folder)
  if (named) {
    next = setPath(next, `dataset.subsets.${i}.num_repeats`, named.num_repeats)
    if (!config.dataset.subsets[i]?.class_tokens && named.class_tokens)
      next = setPath(next, `dataset.subsets.${i}.class_tokens`, named.class_tokens)
  }
  return next as TrainingConfig
}

/** The image folders (dataset subsets): folder, repeats, class tokens, and each folder's caption options. */
export function SubsetsEditor({ summary }: { summary?: ReactNode }) {
  const { t } = useTranslation('train')
  const form = useForm()
  const subsets = form.state.config.dataset.subsets
  const [open, setOpen] = useState<Record<number, boolean>>({})
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        {t('folders')}
      </Text>
      {subsets.length === 0 && (
        <Text size="sm" c="dimmed">
          {t('noFolders')}
        </Text>
      )}
      {subsets.map((_, i) => (
        <Paper key={i} withBorder p="sm" data-testid={`train-subset-${i}`}>
          <Stack gap="xs">
            <Group gap="xs" wrap="nowrap" align="flex-start">
              <div style={{ flex: 1, minWidth: 0 }}>
                <FieldInput
                  field={IMAGE_DIR}
                  path={`dataset.subsets.${i}.image_dir`}
                  onPick={(p) => form.change((c) => pickFolder(c, i, p))}
                />
              </div>
              <RemoveButton
                label={t('removeFolder')}
                testId={`subset-remove-${i}`}
                onClick={() => form.remove('dataset.subsets', i)}
              />
            </Group>
            <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
              {MAIN.map((f) => (
                <FieldInput key={f.path} field={f} path={`dataset.subsets.${i}.${f.path}`} />
              ))}
            </SimpleGrid>
            <Button
              variant="subtle"
              size="compact-sm"
              style={{ alignSelf: 'flex-start' }}
              onClick={() => setOpen((o) => ({ ...o, [i]: !o[i] }))}
              data-testid={`subset-options-${i}`}
            >
              {open[i] ? t('captionOptionsHide') : t('captionOptions')}
            </Button>
            <Collapse expanded={open[i] === true}>
              <SimpleGrid cols={{ base: 1, sm: 2, xl: 3 }} spacing="sm">
                {MORE.map((f) => (
                  <FieldInput key={f.path} field={f} path={`dataset.subsets.${i}.${f.path}`} />
                ))}
              </SimpleGrid>
            </Collapse>
          </Stack>
        </Paper>
      ))}
      <Group>
        <Button
          variant="light"
          size="xs"
          data-testid="train-add-folder"
          onClick={() =>
            form.set('dataset.subsets', [...subsets, Subset.parse({ image_dir: '', num_repeats: 10 })])
          }
        >
          {t('addFolder')}
        </Button>
      </Group>
      <div data-testid="dataset-summary-slot">{summary}</div>
    </Stack>
  )
}
