import { Button, Group, Paper, SimpleGrid, Stack, Text } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { SamplePrompt } from '../../../core/config/schema'
import { FieldInput } from './FieldInput'
import { PROMPT_FIELDS } from './fields'
import { useForm } from './form-context'
import { RemoveButton } from './RemoveButton'

const TEXTS = PROMPT_FIELDS.filter((f) => f.path === 'prompt' || f.path === 'negative')
const NUMBERS = PROMPT_FIELDS.filter((f) => f.path !== 'prompt' && f.path !== 'negative')

/** Sample prompts: text, negative text, size, steps, CFG scale and seed per prompt. */
export function PromptsEditor() {
  const { t } = useTranslation('train')
  const form = useForm()
  const c = form.state.config
  const prompts = c.sampling.prompts
  const add = () => {
    // Sized like the training images: without a size sd-scripts renders 512 × 512.
    const prompt: SamplePrompt = {
      prompt: c.dataset.subsets.find((s) => s.class_tokens)?.class_tokens ?? 'a photo',
      width: c.dataset.resolution.width,
      height: c.dataset.resolution.height,
      steps: 28,
      cfg_scale: 7,
    }
    form.set('sampling.prompts', [...prompts, prompt])
  }
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        {t('prompts')}
      </Text>
      {prompts.map((_, i) => (
        <Paper key={i} withBorder p="sm" data-testid={`prompt-${i}`}>
          <Stack gap="xs">
            <Group gap="xs" wrap="nowrap" align="flex-start">
              <Stack gap="xs" style={{ flex: 1, minWidth: 0 }}>
                {TEXTS.map((f) => (
                  <FieldInput key={f.path} field={f} path={`sampling.prompts.${i}.${f.path}`} />
                ))}
              </Stack>
              <RemoveButton
                label={t('removePrompt')}
                testId={`prompt-remove-${i}`}
                onClick={() => form.remove('sampling.prompts', i)}
              />
            </Group>
            <SimpleGrid cols={{ base: 2, sm: 3, xl: 5 }} spacing="sm">
              {NUMBERS.map((f) => (
                <FieldInput key={f.path} field={f} path={`sampling.prompts.${i}.${f.path}`} />
              ))}
            </SimpleGrid>
          </Stack>
        </Paper>
      ))}
      <Group>
        <Button variant="light" size="xs" onClick={add} data-testid="prompt-add">
          {t('addPrompt')}
        </Button>
      </Group>
    </Stack>
  )
}
