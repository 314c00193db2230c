import { Button, Group, Select, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunRecord } from '../../../core/runs/record'
import { useApiAction } from '../api/hooks'

/** The last path component, whichever separator the path uses. */
const baseName = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p

/**
 * Resume an ended run from a state it saved (sd-scripts --resume): the newest by default, or one the
 * user picks. The run goes on as the next part of the same record.
 */
export function ResumeRun({ run }: { run: RunRecord }) {
  const { t } = useTranslation('runs')
  const resume = useApiAction('run.resume')
  const states = [...run.saved_states].reverse()
  const [state, setState] = useState<string | null>(states[0] ?? null)
  if (states.length === 0) return null
  return (
    <Stack gap={2}>
      <Group gap={4} wrap="nowrap">
        {states.length > 1 ? (
          <Select
            size="xs"
            w={200}
            aria-label={t('resume.from')}
            data={states.map((s) => ({ value: s, label: baseName(s) }))}
            value={state}
            onChange={setState}
            allowDeselect={false}
            data-testid="run-resume-state"
          />
        ) : null}
        <Button
          variant="filled"
          loading={resume.pending}
          title={t('resume.hint', { folder: state ?? '' })}
          onClick={() => void resume.run({ id: run.id, ...(state ? { state } : {}) }).catch(() => undefined)}
          data-testid="run-resume"
        >
          {t('resume.button')}
        </Button>
      </Group>
      {resume.error ? (
        <Text size="xs" c="red" maw={420} data-testid="run-resume-error">
          {resume.error.message}
        </Text>
      ) : null}
    </Stack>
  )
}

/** The earlier parts of a resumed run: how each ended, and which state the next took over from. */
export function RunParts({ run }: { run: RunRecord }) {
  const { t } = useTranslation('runs')
  if (run.segments.length === 0) return null
  return (
    <Stack gap={0} data-testid="run-parts">
      {run.segments.map((s, i) => (
        <Text key={i} size="xs" c="dimmed">
          {t('resume.part', {
            n: i + 1,
            state: t(`state.${s.state}`),
            step: s.last_step ?? '—',
          })}
        </Text>
      ))}
      {run.resume_from ? (
        <Text size="xs" c="dimmed" truncate title={run.resume_from}>
          {t('resume.current', { n: run.segments.length + 1, folder: baseName(run.resume_from) })}
        </Text>
      ) : null}
    </Stack>
  )
}
