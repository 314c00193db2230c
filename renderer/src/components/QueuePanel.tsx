import { Alert, Badge, Button, Card, Checkbox, Group, Modal, Stack, Text, TextInput } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunRecord } from '../../../core/runs/record'
import { useApiAction } from '../api/hooks'

/** "0,1" → [0, 1]; empty → undefined (no change); anything else → null (invalid). */
export function parseGpuList(text: string): number[] | undefined | null {
  const t = text.trim()
  if (t === '') return undefined
  if (!/^\d{1,3}(\s*,\s*\d{1,3})*$/.test(t)) return null
  return t.split(',').map((g) => Number(g.trim()))
}

/** Name, GPUs and stop-on-failure of a queued run, before it starts. */
function EditQueued({ run, onClose }: { run: RunRecord; onClose: () => void }) {
  const { t } = useTranslation('runs')
  const edit = useApiAction('queue.edit')
  const [name, setName] = useState(run.name)
  const [gpus, setGpus] = useState(run.gpus?.join(',') ?? '')
  const [holdOnFailure, setHoldOnFailure] = useState(run.stop_on_failure)
  const parsedGpus = parseGpuList(gpus)
  const nameError = name.trim() === '' ? t('queue.nameEmpty') : name.length > 200 ? t('queue.nameLong') : null
  const gpuError = parsedGpus === null ? t('queue.gpusBad') : null
  const save = () =>
    void edit
      .run({
        id: run.id,
        name: name.trim(),
        ...(parsedGpus ? { gpus: parsedGpus } : {}),
        stop_on_failure: holdOnFailure,
      })
      .then(onClose)
      .catch(() => undefined)
  return (
    <Modal opened onClose={onClose} title={t('queue.editTitle')} data-testid="queue-edit">
      <Stack>
        <TextInput
          label={t('queue.name')}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={nameError}
          data-testid="queue-edit-name"
        />
        <TextInput
          label={t('queue.gpus')}
          description={t('queue.gpusHint')}
          value={gpus}
          onChange={(e) => setGpus(e.currentTarget.value)}
          error={gpuError}
          data-testid="queue-edit-gpus"
        />
        <Checkbox
          label={t('queue.stopOnFailure')}
          checked={holdOnFailure}
          onChange={(e) => setHoldOnFailure(e.currentTarget.checked)}
        />
        {edit.error ? (
          <Text size="sm" c="red" data-testid="queue-edit-error">
            {edit.error.message}
          </Text>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t('queue.cancel')}
          </Button>
          <Button
            onClick={save}
            loading={edit.pending}
            disabled={!!nameError || !!gpuError}
            data-testid="queue-edit-save"
          >
            {t('queue.save')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  )
}

/**
 * Queued runs in start order: move them, pause them (a paused run keeps its place and holds no GPU),
 * edit them; and the hold after a stop-on-failure run failed.
 */
export function QueuePanel({
  queued,
  heldBy,
  onChanged,
}: {
  queued: RunRecord[]
  heldBy: string | null
  onChanged: (queue: string[] | null) => void
}) {
  const { t } = useTranslation('runs')
  const reorder = useApiAction('queue.reorder')
  const resume = useApiAction('queue.resume')
  const pause = useApiAction('queue.pause')
  const [editing, setEditing] = useState<RunRecord | null>(null)
  const move = (i: number, by: number) => {
    const ids = queued.map((r) => r.id)
    const j = i + by
    if (j < 0 || j >= ids.length) return
    ;[ids[i], ids[j]] = [ids[j] as string, ids[i] as string]
    void reorder
      .run({ ids })
      .then((r) => onChanged(r.queue))
      .catch(() => onChanged(null))
  }
  if (queued.length === 0 && !heldBy) return null
  const error = reorder.error ?? pause.error
  return (
    <Card withBorder data-testid="run-queue">
      <Stack gap={4}>
        <Text fw={500}>{t('queue.title')}</Text>
        {heldBy ? (
          <Alert color="orange" p="xs">
            <Text size="xs">{t('queue.held')}</Text>
            <Button
              size="xs"
              mt={4}
              onClick={() =>
                void resume
                  .run({})
                  .then(() => onChanged(null))
                  .catch(() => undefined)
              }
            >
              {t('queue.resume')}
            </Button>
          </Alert>
        ) : null}
        {queued.map((r, i) => (
          <Stack key={r.id} gap={0} data-testid={`queue-item-${i}`}>
            <Group justify="space-between" wrap="nowrap" gap={4}>
              <Text size="xs" truncate>
                {i + 1}. {r.name}
              </Text>
              {r.paused ? (
                <Badge size="xs" color="yellow" data-testid="queue-paused">
                  {t('queue.paused')}
                </Badge>
              ) : null}
            </Group>
            <Group gap={2} wrap="nowrap">
              <Button
                size="compact-xs"
                variant="subtle"
                disabled={i === 0}
                onClick={() => move(i, -1)}
                aria-label={t('queue.up')}
              >
                ↑
              </Button>
              <Button
                size="compact-xs"
                variant="subtle"
                disabled={i === queued.length - 1}
                onClick={() => move(i, 1)}
                aria-label={t('queue.down')}
              >
                ↓
              </Button>
              <Button
                size="compact-xs"
                variant="subtle"
                onClick={() =>
                  void pause
                    .run({ id: r.id, paused: !r.paused })
                    .then(() => onChanged(null))
                    .catch(() => undefined)
                }
                data-testid="queue-pause"
              >
                {r.paused ? t('queue.unpause') : t('queue.pause')}
              </Button>
              <Button
                size="compact-xs"
                variant="subtle"
                onClick={() => setEditing(r)}
                data-testid="queue-edit-open"
              >
                {t('queue.edit')}
              </Button>
            </Group>
          </Stack>
        ))}
        {error ? (
          <Text size="xs" c="red">
            {error.message}
          </Text>
        ) : null}
      </Stack>
      {editing ? (
        <EditQueued
          run={editing}
          onClose={() => {
            setEditing(null)
            onChanged(null)
          }}
        />
      ) : null}
    </Card>
  )
}
