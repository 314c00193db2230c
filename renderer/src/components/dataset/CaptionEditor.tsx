import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Image,
  Pagination,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RequestInput, RequestOutput } from '../../../../core/api/contract'
import type { DatasetImage, ProblemKind } from '../../../../core/api/domains/dataset'
import { toApiError } from '../../api/client'
import { useApiAction, useApiCall } from '../../api/hooks'

const PAGE = 24

type Config = RequestInput<'dataset.scan'>['config']

/** Thumbnails of one page of images, fetched once per page (they are cached on the server too). */
function useThumbnails(paths: string[]): Record<string, string | null> {
  const [thumbs, setThumbs] = useState<Record<string, string | null>>({})
  const action = useApiAction('dataset.thumbnails')
  const key = paths.join('\n')
  useEffect(() => {
    const missing = key ? key.split('\n').filter((p) => !(p in thumbs)) : []
    if (!missing.length) return
    let live = true
    action.run({ paths: missing.slice(0, 60), size: 160 }).then(
      (r) => {
        if (!live) return
        setThumbs((old) => {
          const next = { ...old }
          for (const item of r.items)
            next[item.path] = item.data ? `data:${item.mime};base64,${item.data}` : null
          return next
        })
      },
      () => undefined,
    )
    return () => {
      live = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- fetch when the page's paths change
  }, [key])
  return thumbs
}

function CaptionCard({
  item,
  dir,
  captionExtension,
  thumb,
  estimate,
  maxTokens,
  onSaved,
}: {
  item: DatasetImage
  dir: string
  captionExtension: string
  thumb: string | null | undefined
  estimate: boolean
  maxTokens: number
  onSaved: () => void
}) {
  const { t } = useTranslation('dataset')
  const [text, setText] = useState(item.caption ?? '')
  const [base, setBase] = useState(item.caption)
  const [conflict, setConflict] = useState<string | null | undefined>(undefined)
  const [error, setError] = useState<string | null>(null)
  const write = useApiAction('dataset.captions.write')
  const dirty = text !== (base ?? '')

  const save = async () => {
    if (!dirty || write.pending) return
    setError(null)
    try {
      const r = await write.run({
        dir,
        caption_extension: captionExtension,
        writes: [{ image: item.name, expected: base, text }],
        label: 'Edit',
      })
      if (r.conflicts.length) setConflict(r.conflicts[0]!.current)
      else {
        setBase(text)
        onSaved()
      }
    } catch (e) {
      setError(toApiError(e).message)
    }
  }
  const over = item.tokens !== null && item.tokens > maxTokens
  return (
    <Card withBorder p="xs" data-testid={`caption-card-${item.name}`}>
      <Group align="flex-start" wrap="nowrap" gap="xs">
        <div
          style={{
            width: 96,
            height: 96,
            flex: 'none',
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'center',
            background: 'var(--mantine-color-gray-1)',
          }}
        >
          {thumb ? (
            <Image src={thumb} alt={item.name} maw={96} mah={96} fit="contain" data-testid="caption-thumb" />
          ) : (
            <Text size="xs" c="dimmed" ta="center">
              {thumb === null ? t('captions.noPreview') : '…'}
            </Text>
          )}
        </div>
        <Stack gap={4} style={{ flex: 1, minWidth: 0 }}>
          <Group gap={4} wrap="nowrap" justify="space-between">
            <Text size="xs" fw={600} truncate title={item.path} style={{ minWidth: 0 }}>
              {item.name}
            </Text>
            <Text size="xs" c="dimmed" style={{ flex: 'none' }}>
              {item.width} × {item.height}
            </Text>
          </Group>
          <Textarea
            aria-label={item.name}
            value={text}
            placeholder={t('captions.placeholder')}
            autosize
            minRows={2}
            maxRows={6}
            size="xs"
            onChange={(e) => setText(e.currentTarget.value)}
            onBlur={() => void save()}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void save()
            }}
            data-testid="caption-text"
          />
          <Group gap={4} wrap="wrap" justify="space-between">
            <Group gap={4} wrap="wrap">
              {item.tokens !== null && (
                <Badge size="xs" color={over ? 'red' : 'gray'} variant="light">
                  {t(estimate ? 'captions.tokensEstimated' : 'captions.tokens', {
                    count: item.tokens,
                    limit: maxTokens,
                  })}
                </Badge>
              )}
              {item.bucket && (
                <Badge size="xs" variant="outline" color="gray">
                  {t('captions.bucket', { width: item.bucket[0], height: item.bucket[1] })}
                </Badge>
              )}
              {item.problems.length > 0 && (
                <Badge size="xs" color="orange" title={item.problems.join(', ')}>
                  {item.problems.length}
                </Badge>
              )}
            </Group>
            <Button
              size="compact-xs"
              variant={dirty ? 'filled' : 'subtle'}
              disabled={!dirty}
              loading={write.pending}
              onClick={() => void save()}
              data-testid="caption-save"
            >
              {dirty ? t('captions.save') : t('captions.saved')}
            </Button>
          </Group>
          {conflict !== undefined && (
            <Alert color="orange" p="xs" data-testid="caption-conflict">
              <Text size="xs">{t('captions.conflict', { current: conflict ?? '' })}</Text>
              <Button
                size="compact-xs"
                mt={4}
                variant="light"
                onClick={() => {
                  setBase(conflict ?? null)
                  setText(conflict ?? '')
                  setConflict(undefined)
                }}
              >
                {t('captions.reload')}
              </Button>
            </Alert>
          )}
          {error && (
            <Text size="xs" c="red">
              {t('errors.actionFailed', { message: error })}
            </Text>
          )}
        </Stack>
      </Group>
    </Card>
  )
}

type OpKind = 'replace' | 'addTag' | 'removeTag' | 'triggerFirst'
type ApplyResult = RequestOutput<'dataset.captions.apply'>

function BulkEdit({
  dir,
  captionExtension,
  onChanged,
}: {
  dir: string
  captionExtension: string
  onChanged: () => void
}) {
  const { t } = useTranslation('dataset')
  const [kind, setKind] = useState<OpKind>('replace')
  const [find, setFind] = useState('')
  const [replace, setReplace] = useState('')
  const [wholeTag, setWholeTag] = useState(false)
  const [caseSensitive, setCaseSensitive] = useState(true)
  const [tag, setTag] = useState('')
  const [position, setPosition] = useState<'start' | 'end'>('end')
  const [preview, setPreview] = useState<ApplyResult | null>(null)
  const [done, setDone] = useState<number | null>(null)
  const [error, setError] = useState<string | null>(null)
  const apply = useApiAction('dataset.captions.apply')
  const op = (): RequestInput<'dataset.captions.apply'>['op'] =>
    kind === 'replace'
      ? { kind, find, replace, wholeTag, caseSensitive }
      : kind === 'addTag'
        ? { kind, tag, position }
        : { kind, tag }
  const run = async (previewOnly: boolean) => {
    setError(null)
    setDone(null)
    try {
      const r = await apply.run({ dir, caption_extension: captionExtension, op: op(), preview: previewOnly })
      if (previewOnly) setPreview(r)
      else {
        setPreview(null)
        setDone(r.changed)
        onChanged()
      }
    } catch (e) {
      setError(toApiError(e).message)
    }
  }
  const reset = () => {
    setPreview(null)
    setDone(null)
  }
  const ready = kind === 'replace' ? find !== '' : tag.trim() !== ''
  return (
    <Card withBorder data-testid="caption-bulk">
      <Text fw={600} mb="xs">
        {t('captions.bulk.title')}
      </Text>
      <Stack gap="xs">
        <SegmentedControl
          value={kind}
          onChange={(v) => {
            setKind(v as OpKind)
            reset()
          }}
          data={(['replace', 'addTag', 'removeTag', 'triggerFirst'] as const).map((k) => ({
            value: k,
            label: t(`captions.bulk.${k}`),
          }))}
          data-testid="caption-bulk-kind"
          fullWidth
        />
        {kind === 'replace' ? (
          <Group grow wrap="wrap" align="flex-end">
            <TextInput
              label={t('captions.bulk.find')}
              value={find}
              onChange={(e) => (setFind(e.currentTarget.value), reset())}
              data-testid="caption-bulk-find"
            />
            <TextInput
              label={t('captions.bulk.replaceWith')}
              value={replace}
              onChange={(e) => (setReplace(e.currentTarget.value), reset())}
              data-testid="caption-bulk-replace"
            />
            <Stack gap={4}>
              <Checkbox
                label={t('captions.bulk.wholeTag')}
                checked={wholeTag}
                onChange={(e) => (setWholeTag(e.currentTarget.checked), reset())}
              />
              <Checkbox
                label={t('captions.bulk.caseSensitive')}
                checked={caseSensitive}
                onChange={(e) => (setCaseSensitive(e.currentTarget.checked), reset())}
              />
            </Stack>
          </Group>
        ) : (
          <Group grow wrap="wrap" align="flex-end">
            <TextInput
              label={t('captions.bulk.tag')}
              value={tag}
              onChange={(e) => (setTag(e.currentTarget.value), reset())}
              data-testid="caption-bulk-tag"
            />
            {kind === 'addTag' && (
              <SegmentedControl
                value={position}
                onChange={(v) => (setPosition(v as 'start' | 'end'), reset())}
                data={[
                  { value: 'start', label: t('captions.bulk.start') },
                  { value: 'end', label: t('captions.bulk.end') },
                ]}
              />
            )}
          </Group>
        )}
        {kind === 'triggerFirst' && (
          <Text size="xs" c="dimmed">
            {t('captions.bulk.triggerHint')}
          </Text>
        )}
        <Group gap="xs" wrap="wrap">
          <Button
            variant="light"
            disabled={!ready}
            loading={apply.pending && !preview}
            onClick={() => void run(true)}
            data-testid="caption-bulk-preview"
          >
            {t('captions.bulk.preview')}
          </Button>
          {preview && preview.changed > 0 && (
            <Button onClick={() => void run(false)} loading={apply.pending} data-testid="caption-bulk-apply">
              {t('captions.bulk.apply', { count: preview.changed })}
            </Button>
          )}
        </Group>
        {preview && (
          <Stack gap={2} data-testid="caption-bulk-result">
            <Text size="sm">
              {preview.changed
                ? t('captions.bulk.previewCount', { count: preview.changed })
                : t('captions.bulk.nothing')}
            </Text>
            {preview.examples.map((ex) => (
              <Text key={ex.image} size="xs" style={{ wordBreak: 'break-word' }}>
                <b>{ex.image}</b>: <s>{ex.before ?? ''}</s> → {ex.after ?? ''}
              </Text>
            ))}
          </Stack>
        )}
        {done !== null && (
          <Text size="sm" c="teal" data-testid="caption-bulk-done">
            {t('captions.bulk.done', { count: done })}
          </Text>
        )}
        {error && (
          <Text size="sm" c="red">
            {t('errors.actionFailed', { message: error })}
          </Text>
        )}
      </Stack>
    </Card>
  )
}

function History({ dir, version, onChanged }: { dir: string; version: number; onChanged: () => void }) {
  const { t, i18n } = useTranslation('dataset')
  const history = useApiCall('dataset.captions.history', { dir })
  const undo = useApiAction('dataset.captions.undo')
  const [result, setResult] = useState<string | null>(null)
  const { reload } = history
  useEffect(() => reload(), [version, reload])
  const time = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'short', timeStyle: 'medium' })
  const entries = history.data ?? []
  return (
    <Card withBorder data-testid="caption-history">
      <Text fw={600} mb="xs">
        {t('captions.history.title')}
      </Text>
      {entries.length === 0 && (
        <Text size="sm" c="dimmed">
          {t('captions.history.empty')}
        </Text>
      )}
      <Stack gap={4}>
        {entries.slice(0, 8).map((e) => (
          <Group key={e.id} justify="space-between" wrap="nowrap">
            <Text size="xs">
              {time.format(e.at)} · {e.label} · {t('captions.history.files', { count: e.files })}
            </Text>
            {e.undone ? (
              <Text size="xs" c="dimmed">
                {t('captions.history.undone')}
              </Text>
            ) : (
              <Button
                size="compact-xs"
                variant="light"
                data-testid={`caption-undo-${e.id}`}
                loading={undo.pending}
                onClick={() =>
                  void undo.run({ dir, id: e.id }).then(
                    (r) => {
                      setResult(
                        [
                          t('captions.history.undoneResult', { restored: r.restored }),
                          r.skipped.length ? t('captions.history.skipped', { count: r.skipped.length }) : '',
                        ]
                          .filter(Boolean)
                          .join(' '),
                      )
                      onChanged()
                    },
                    (err: unknown) =>
                      setResult(t('errors.actionFailed', { message: toApiError(err).message })),
                  )
                }
              >
                {t('captions.history.undo')}
              </Button>
            )}
          </Group>
        ))}
        {result && (
          <Text size="xs" c="teal" data-testid="caption-undo-result">
            {result}
          </Text>
        )}
      </Stack>
    </Card>
  )
}

export function CaptionEditor({
  folders,
  config,
  problemKinds,
  onChanged,
}: {
  folders: Array<{ image_dir: string; caption_extension: string }>
  config: Config | null
  problemKinds: ProblemKind[]
  onChanged: () => void
}) {
  const { t } = useTranslation('dataset')
  const [dirChoice, setDir] = useState<string | null>(folders[0]?.image_dir ?? null)
  const dir = folders.some((f) => f.image_dir === dirChoice) ? dirChoice : (folders[0]?.image_dir ?? null)
  const captionExtension = folders.find((f) => f.image_dir === dir)?.caption_extension ?? '.txt'
  const [query, setQuery] = useState('')
  const [debounced] = useDebouncedValue(query, 300)
  const [problem, setProblem] = useState<string | null>(null)
  const [page, setPage] = useState(1)
  const [version, setVersion] = useState(0)
  const images = useApiCall(
    'dataset.images',
    {
      dir: dir ?? '',
      caption_extension: captionExtension,
      offset: (page - 1) * PAGE,
      limit: PAGE,
      query: debounced,
      ...(problem ? { problem: problem as ProblemKind } : {}),
      ...(config ? { config } : {}),
    },
    { enabled: !!dir },
  )
  const { reload } = images
  const items = images.data?.items ?? []
  const thumbs = useThumbnails(items.map((i) => i.path))
  const changed = () => {
    setVersion((v) => v + 1)
    reload()
    onChanged()
  }
  if (!dir) return <Text c="dimmed">{t('summary.noData')}</Text>
  const total = images.data?.total ?? 0
  return (
    <Stack gap="sm" data-testid="caption-editor">
      <Group grow wrap="wrap" align="flex-end">
        <Select
          label={t('captions.folder')}
          data={folders.map((f) => ({ value: f.image_dir, label: f.image_dir }))}
          value={dir}
          onChange={(v) => {
            setDir(v)
            setPage(1)
          }}
          allowDeselect={false}
        />
        <TextInput
          label={t('captions.search')}
          value={query}
          onChange={(e) => (setQuery(e.currentTarget.value), setPage(1))}
          data-testid="caption-search"
        />
        <Select
          label={t('captions.problemFilter')}
          data={[
            { value: '', label: t('captions.allImages') },
            ...problemKinds.map((k) => ({
              value: k,
              label: t(`problems.kind.${k}`, { defaultValue: k }).slice(0, 80),
            })),
          ]}
          value={problem ?? ''}
          onChange={(v) => (setProblem(v || null), setPage(1))}
          allowDeselect={false}
        />
      </Group>
      {images.error && (
        <Alert color="red">{t('errors.actionFailed', { message: images.error.message })}</Alert>
      )}
      {!images.loading && items.length === 0 && !images.error && (
        <Text c="dimmed">{t('captions.noImages')}</Text>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="xs">
        {items.map((item) => (
          <CaptionCard
            // The text on disk is part of the key: after a folder-wide edit or an undo the card shows the new text.
            key={`${item.path}\n${item.caption ?? ''}`}
            item={item}
            dir={dir}
            captionExtension={captionExtension}
            thumb={thumbs[item.path]}
            estimate={images.data?.tokenizer === 'estimate'}
            maxTokens={images.data?.max_tokens ?? 75}
            onSaved={() => {
              setVersion((v) => v + 1)
              onChanged()
            }}
          />
        ))}
      </SimpleGrid>
      {total > PAGE && (
        <Group justify="space-between">
          <Text size="sm">
            {t('captions.page', { from: (page - 1) * PAGE + 1, to: Math.min(total, page * PAGE), total })}
          </Text>
          <Pagination total={Math.ceil(total / PAGE)} value={page} onChange={setPage} size="sm" />
        </Group>
      )}
      <BulkEdit dir={dir} captionExtension={captionExtension} onChanged={changed} />
      <History dir={dir} version={version} onChanged={changed} />
    </Stack>
  )
}
