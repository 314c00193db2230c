import { Button, CopyButton, Group, Stack, Text } from '@mantine/core'
import { useEffect, useRef } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunRecord } from '../../../core/runs/record'
import { isDesktopApp } from '../api/client'
import { useApiAction, useApiCall } from '../api/hooks'

function PathRow({ label, path, testId }: { label: string; path: string; testId: string }) {
  const { t } = useTranslation('desktop')
  return (
    <Group gap="xs" wrap="nowrap" data-testid={testId}>
      <Text size="xs" c="dimmed" style={{ flexShrink: 0 }}>
        {label}:
      </Text>
      <Text
        size="xs"
        ff="monospace"
        truncate="start"
        title={path}
        style={{ minWidth: 0 }}
        data-testid={`${testId}-path`}
      >
        {path}
      </Text>
      <CopyButton value={path}>
        {({ copied, copy }) => (
          <Button
            size="compact-xs"
            variant="subtle"
            onClick={copy}
            data-testid={`${testId}-copy`}
            style={{ flexShrink: 0 }}
          >
            {copied ? t('output.copied') : t('output.copy')}
          </Button>
        )}
      </CopyButton>
    </Group>
  )
}

/**
 * Where a run's results are. In the desktop app: "Open output folder" and "Show in file manager" (the last
 * saved file selected). In a browser the files are on the machine running SDXL Studio, not this one: the
 * paths, with copy buttons.
 */
export function OutputLocation({ run }: { run: RunRecord }) {
  const { t } = useTranslation('desktop')
  const desktop = isDesktopApp()
  const saved = run.summary.saved_checkpoints.length
  const location = useApiCall('run.output_location', { id: run.id }, { enabled: run.output_dir !== null })
  const where = location.data
  // Asked again whenever the run saves something or changes state (not on the first render: loaded then).
  const reload = location.reload
  const seen = useRef(`${saved} ${run.state}`)
  useEffect(() => {
    const now = `${saved} ${run.state}`
    if (seen.current === now) return
    seen.current = now
    reload()
  }, [saved, run.state, reload])
  const open = useApiAction('run.open_output')
  const reveal = useApiAction('run.reveal_output')
  if (!run.output_dir) return null
  const folder = where?.folder ?? run.output_dir
  const file = where?.file ?? null
  const error = open.error ?? reveal.error
  return (
    <Stack gap={4} data-testid="run-output">
      {desktop ? (
        <Group gap="xs">
          <Text size="xs" c="dimmed">
            {t('output.folder')}: <span style={{ fontFamily: 'monospace' }}>{folder}</span>
          </Text>
          <Button
            size="compact-xs"
            variant="subtle"
            onClick={() => void open.run({ id: run.id }).catch(() => undefined)}
            data-testid="run-open-output"
          >
            {t('output.openFolder')}
          </Button>
          <Button
            size="compact-xs"
            variant="subtle"
            disabled={!where || !(where.file_exists || where.folder_exists)}
            onClick={() => void reveal.run({ id: run.id }).catch(() => undefined)}
            data-testid="run-reveal-output"
          >
            {t('output.reveal')}
          </Button>
        </Group>
      ) : (
        <>
          <PathRow label={t('output.folder')} path={folder} testId="run-output-folder" />
          {file ? <PathRow label={t('output.file')} path={file} testId="run-output-file" /> : null}
          <Text size="xs" c="dimmed">
            {t('output.onServer')}
          </Text>
        </>
      )}
      {error ? (
        <Text size="xs" c="red">
          {error.message}
        </Text>
      ) : null}
    </Stack>
  )
}
