import { Button, Code, Group, Paper, Tabs, Text, Title } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import { downloadText } from './download'
import type { LiveCheck } from './useLiveCheck'

/**
 * The sd-scripts files and the command exactly as Start would run them (for the active environment),
 * each with a button to save it.
 */
export function PreviewPanel({ render }: { render: NonNullable<LiveCheck['render']> }) {
  const { t } = useTranslation('train')
  const files: Array<[string, string]> = [
    ['command.txt', `${render.display}\n`],
    ...Object.entries(render.files),
  ]
  return (
    <Paper withBorder p="md" data-testid="train-preview">
      <Group justify="space-between" mb="xs" gap="xs" wrap="wrap">
        <Title order={4}>{t('preview')}</Title>
        <Button
          size="xs"
          variant="light"
          style={{ flexShrink: 0 }}
          onClick={() => files.forEach(([name, content]) => downloadText(name, content))}
          data-testid="train-save-all"
        >
          {t('saveAllFiles')}
        </Button>
      </Group>
      <Text size="xs" c="dimmed" mb="xs" data-testid="train-preview-note">
        {render.environment
          ? t('previewForEnvironment', { dir: render.environment })
          : t('previewNoEnvironment')}
      </Text>
      <Tabs defaultValue="command">
        <Tabs.List>
          <Tabs.Tab value="command">{t('command')}</Tabs.Tab>
          {Object.keys(render.files).map((name) => (
            <Tabs.Tab key={name} value={name} data-testid={`preview-tab-${name}`}>
              {name}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {files.map(([name, content]) => (
          <Tabs.Panel key={name} value={name === 'command.txt' ? 'command' : name} pt="xs">
            <Code
              block
              data-testid={name === 'command.txt' ? 'train-command' : `preview-${name}`}
              style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', maxHeight: 360, overflowY: 'auto' }}
            >
              {name === 'command.txt' ? render.display : content}
            </Code>
            <Button
              mt="xs"
              size="xs"
              variant="default"
              onClick={() => downloadText(name, content)}
              data-testid={`save-file-${name}`}
            >
              {t('saveFile', { name })}
            </Button>
          </Tabs.Panel>
        ))}
      </Tabs>
    </Paper>
  )
}
