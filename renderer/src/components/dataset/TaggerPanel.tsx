import {
  Alert,
  Button,
  Card,
  Checkbox,
  Group,
  NumberInput,
  Progress,
  Radio,
  Select,
  Stack,
  Text,
  TextInput,
} from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { TaggerProgress } from '../../../../core/api/domains/dataset'
import { toApiError } from '../../api/client'
import { useApiAction, useApiCall, useSubscription } from '../../api/hooks'

const FINISHED = new Set(['done', 'failed', 'cancelled'])

export function TaggerPanel({
  folders,
  onChanged,
}: {
  folders: Array<{ image_dir: string; caption_extension: string }>
  onChanged: () => void
}) {
  const { t } = useTranslation('dataset')
  const check = useApiCall('dataset.tagger.check', {})
  const start = useApiAction('dataset.tagger.start')
  const cancel = useApiAction('dataset.tagger.cancel')
  const undo = useApiAction('dataset.captions.undo')
  const [dirChoice, setDir] = useState<string | null>(folders[0]?.image_dir ?? null)
  const dir = folders.some((f) => f.image_dir === dirChoice) ? dirChoice : (folders[0]?.image_dir ?? null)
  const [repo, setRepo] = useState('SmilingWolf/wd-v1-4-convnext-tagger-v2')
  const [threshold, setThreshold] = useState<number | string>(0.35)
  const [batch, setBatch] = useState<number | string>(4)
  const [undesired, setUndesired] = useState('')
  const [underscore, setUnderscore] = useState(true)
  const [mode, setMode] = useState<'missing' | 'append' | 'overwrite'>('missing')
  const [job, setJob] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [undone, setUndone] = useState(false)
  const progress = useSubscription(
    'dataset.tagger.progress',
    { job: job ?? '' },
    {
      enabled: !!job,
      onData: (p: TaggerProgress) => {
        if (p.phase === 'done') onChanged()
      },
    },
  )
  const p = progress.data
  const running = !!job && !!p && !FINISHED.has(p.phase)
  const thresholdOk = typeof threshold === 'number' && threshold >= 0.01 && threshold <= 1
  const batchOk = typeof batch === 'number' && Number.isInteger(batch) && batch >= 1 && batch <= 64

  const run = async () => {
    if (!dir) return
    setError(null)
    setUndone(false)
    try {
      const r = await start.run({
        dir,
        repo_id: repo.trim(),
        threshold: Number(threshold),
        batch_size: Number(batch),
        mode,
        undesired_tags: undesired,
        remove_underscore: underscore,
        caption_extension: folders.find((f) => f.image_dir === dir)?.caption_extension ?? '.txt',
      })
      setJob(r.job)
    } catch (e) {
      setError(toApiError(e).message)
    }
  }

  const c = check.data
  return (
    <Stack gap="sm" data-testid="tagger">
      <Text size="sm" c="dimmed">
        {t('tagger.explain')}
      </Text>
      {c && !c.environment && (
        <Alert color="yellow" data-testid="tagger-not-ready">
          {c.problem_kind
            ? t(`tagger.problem.${c.problem_kind}`)
            : t('tagger.notReady', { problem: c.problem ?? '' })}
        </Alert>
      )}
      {c && c.environment && (
        <Text size="sm">
          {t('tagger.environment', { name: c.environment })} ·{' '}
          {t('tagger.endpoint', { url: c.hf_endpoint ?? t('tagger.endpointDefault') })}
          {c.missing.length > 0 && ` · ${t('tagger.missing', { packages: c.missing.join(', ') })}`}
        </Text>
      )}
      {c?.problem_kind && c.environment && (
        <Alert color="yellow">{t(`tagger.problem.${c.problem_kind}`)}</Alert>
      )}
      <Card withBorder>
        <Stack gap="xs">
          <Group grow wrap="wrap" align="flex-start">
            <Select
              label={t('tagger.folder')}
              data={folders.map((f) => f.image_dir)}
              value={dir}
              onChange={setDir}
              allowDeselect={false}
            />
            <TextInput
              label={t('tagger.repo')}
              value={repo}
              onChange={(e) => setRepo(e.currentTarget.value)}
              error={/^[\w.-]+\/[\w.-]+(\/[\w.-]+)*$/.test(repo.trim()) ? undefined : t('tagger.repoFormat')}
              data-testid="tagger-repo"
            />
          </Group>
          <Group grow wrap="wrap" align="flex-start">
            <NumberInput
              label={t('tagger.threshold')}
              value={threshold}
              onChange={setThreshold}
              min={0.01}
              max={1}
              step={0.05}
              decimalScale={2}
              error={thresholdOk ? undefined : t('tagger.thresholdRange')}
              data-testid="tagger-threshold"
            />
            <NumberInput
              label={t('tagger.batch')}
              value={batch}
              onChange={setBatch}
              min={1}
              max={64}
              allowDecimal={false}
              error={batchOk ? undefined : t('tagger.batchRange')}
            />
            <TextInput
              label={t('tagger.undesired')}
              placeholder={t('tagger.undesiredPlaceholder')}
              value={undesired}
              onChange={(e) => setUndesired(e.currentTarget.value)}
            />
          </Group>
          <Checkbox
            label={t('tagger.removeUnderscore')}
            checked={underscore}
            onChange={(e) => setUnderscore(e.currentTarget.checked)}
          />
          <Radio.Group label={t('tagger.mode')} value={mode} onChange={(v) => setMode(v as typeof mode)}>
            <Group gap="md" mt={4} wrap="wrap">
              <Radio value="missing" label={t('tagger.modeMissing')} data-testid="tagger-mode-missing" />
              <Radio value="append" label={t('tagger.modeAppend')} data-testid="tagger-mode-append" />
              <Radio
                value="overwrite"
                label={t('tagger.modeOverwrite')}
                data-testid="tagger-mode-overwrite"
              />
            </Group>
          </Radio.Group>
          <Group gap="xs" wrap="wrap">
            <Button
              onClick={() => void run()}
              disabled={!dir || running || !thresholdOk || !batchOk || !c?.environment}
              loading={start.pending}
              data-testid="tagger-start"
            >
              {t('tagger.start')}
            </Button>
            {running && (
              <Button
                variant="light"
                color="red"
                onClick={() => void cancel.run({ job: job! })}
                data-testid="tagger-cancel"
              >
                {t('tagger.cancel')}
              </Button>
            )}
          </Group>
        </Stack>
      </Card>
      {error && <Alert color="red">{t('errors.actionFailed', { message: error })}</Alert>}
      {p && (
        <Card withBorder data-testid="tagger-progress" data-phase={p.phase}>
          <Text size="sm" fw={600} c={p.phase === 'failed' ? 'red' : undefined}>
            {t(`tagger.phase.${p.phase}`, { count: p.written })}
          </Text>
          {p.total !== null && p.phase === 'tagging' && (
            <>
              <Progress value={(p.done / Math.max(1, p.total)) * 100} mt="xs" />
              <Text size="xs" mt={4}>
                {t('tagger.progress', { done: p.done, total: p.total })}
              </Text>
            </>
          )}
          {p.error && (
            <Text size="sm" c="red" mt="xs" style={{ wordBreak: 'break-word' }}>
              {p.error}
            </Text>
          )}
          {!FINISHED.has(p.phase) && p.line && (
            <Text size="xs" c="dimmed" ff="monospace" mt="xs" truncate>
              {p.line}
            </Text>
          )}
          {p.phase === 'done' && p.history_id && dir && !undone && (
            <Button
              size="xs"
              variant="light"
              mt="xs"
              loading={undo.pending}
              onClick={() =>
                void undo.run({ dir, id: p.history_id! }).then(
                  () => (setUndone(true), onChanged()),
                  (e: unknown) => setError(toApiError(e).message),
                )
              }
              data-testid="tagger-undo"
            >
              {t('tagger.undo')}
            </Button>
          )}
        </Card>
      )}
      <Text size="xs" c="dimmed">
        {t('tagger.noCharacters')}
      </Text>
      <Text size="xs" c="dimmed">
        {t('tagger.blip')}
      </Text>
    </Stack>
  )
}
