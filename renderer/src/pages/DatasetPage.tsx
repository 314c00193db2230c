import {
  ActionIcon,
  Alert,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { Component, useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { DatasetScan, ProblemKind } from '../../../core/api/domains/dataset'
import { useApiCall } from '../api/hooks'
import { CaptionEditor } from '../components/dataset/CaptionEditor'
import {
  fieldError,
  newFolder,
  RANGES,
  repeatsFromName,
  toConfig,
  useDraft,
  type Draft,
  type DraftFolder,
  type NumberField,
} from '../components/dataset/draft'
import { BucketChart, ProblemsPanel, SummaryPanel } from '../components/dataset/ScanPanels'
import { TaggerPanel } from '../components/dataset/TaggerPanel'

/** A panel that throws shows a message instead of a blank page; the rest of the page keeps working. */
class PanelBoundary extends Component<{ children: ReactNode; message: string }, { error: Error | null }> {
  override state = { error: null as Error | null }
  static getDerivedStateFromError(error: Error) {
    return { error }
  }
  override render() {
    return this.state.error ? (
      <Alert color="red">
        {this.props.message}: {this.state.error.message}
      </Alert>
    ) : (
      this.props.children
    )
  }
}

function FolderRow({
  folder,
  index,
  onChange,
  onRemove,
}: {
  folder: DraftFolder
  index: number
  onChange: (f: DraftFolder) => void
  onRemove: () => void
}) {
  const { t } = useTranslation('dataset')
  const repeatsOk =
    Number.isInteger(Number(folder.num_repeats)) &&
    Number(folder.num_repeats) >= 1 &&
    Number(folder.num_repeats) <= 10_000
  return (
    <Group align="flex-start" wrap="nowrap" gap="xs" data-testid={`dataset-folder-${index}`}>
      <TextInput
        style={{ flex: 1, minWidth: 0 }}
        label={folder.is_reg ? `${t('folders.imageDir')} · ${t('folders.reg')}` : t('folders.imageDir')}
        placeholder={t('folders.imageDirPlaceholder')}
        value={folder.image_dir}
        error={folder.image_dir.trim() === '' ? t('settings.required') : undefined}
        onChange={(e) => {
          const image_dir = e.currentTarget.value
          // A <repeats>_<name> folder name fills repeats and class tokens, as sd-scripts' folder convention does.
          const fromName = repeatsFromName(image_dir)
          onChange({
            ...folder,
            image_dir,
            ...(fromName ? { num_repeats: fromName.num_repeats, class_tokens: fromName.class_tokens } : {}),
          })
        }}
        data-testid={`dataset-folder-${index}-dir`}
      />
      <NumberInput
        w={110}
        label={t('folders.repeats')}
        value={folder.num_repeats}
        onChange={(v) => onChange({ ...folder, num_repeats: v })}
        min={1}
        max={10_000}
        allowDecimal={false}
        error={repeatsOk ? undefined : t('settings.range', { min: 1, max: 10_000 })}
        data-testid={`dataset-folder-${index}-repeats`}
      />
      <TextInput
        w={170}
        label={t('folders.classTokens')}
        value={folder.class_tokens}
        onChange={(e) => onChange({ ...folder, class_tokens: e.currentTarget.value })}
      />
      <TextInput
        w={90}
        label={t('folders.captionExtension')}
        value={folder.caption_extension}
        onChange={(e) => onChange({ ...folder, caption_extension: e.currentTarget.value })}
        error={/^\.[\w.-]{1,20}$/.test(folder.caption_extension) ? undefined : '.txt'}
      />
      <Checkbox
        mt={30}
        label={t('folders.reg')}
        checked={folder.is_reg}
        onChange={(e) => onChange({ ...folder, is_reg: e.currentTarget.checked })}
        data-testid={`dataset-folder-${index}-reg`}
      />
      <ActionIcon
        mt={26}
        variant="subtle"
        color="red"
        size="lg"
        aria-label={t('folders.remove')}
        title={t('folders.remove')}
        onClick={onRemove}
        data-testid={`dataset-folder-${index}-remove`}
      >
        ×
      </ActionIcon>
    </Group>
  )
}

function NumberField({
  draft,
  field,
  label,
  set,
}: {
  draft: Draft
  field: NumberField
  label: string
  set: (f: NumberField, v: number | string) => void
}) {
  const { t } = useTranslation('dataset')
  const problem = fieldError(field, draft[field])
  const [min, max] = RANGES[field]
  return (
    <NumberInput
      label={label}
      value={draft[field]}
      onChange={(v) => set(field, v)}
      min={min}
      max={max}
      allowDecimal={false}
      error={
        problem === 'range'
          ? t('settings.range', { min, max })
          : problem === 'multiple32'
            ? t('settings.multiple32')
            : undefined
      }
      data-testid={`dataset-setting-${field}`}
    />
  )
}

export default function DatasetPage() {
  const { t } = useTranslation(['dataset', 'common'])
  const [draft, update] = useDraft()
  const config = useMemo(() => toConfig(draft), [draft])
  const [debounced] = useDebouncedValue(config, 400)
  const [tab, setTab] = useState<string | null>('summary')
  const enabled = !!debounced && (debounced.dataset?.subsets?.length ?? 0) > 0
  const scanCall = useApiCall('dataset.scan', { config: debounced ?? { type: 'lora' } }, { enabled })
  const scan: DatasetScan | null = enabled ? (scanCall.data ?? null) : null
  const scanError = enabled ? (scanCall.error?.message ?? null) : null
  const scanning = enabled && scanCall.loading

  const set = (f: NumberField, v: number | string) => update((d) => ({ ...d, [f]: v }))
  const folders = draft.folders
    .filter((f) => f.image_dir.trim() !== '')
    .map((f) => ({ image_dir: f.image_dir.trim(), caption_extension: f.caption_extension }))
  const rescan = scanCall.reload
  const problemCount = scan?.problems.length ?? 0
  const problemKinds = [
    ...new Set(scan?.problems.filter((p) => p.file).map((p) => p.kind) ?? []),
  ] as ProblemKind[]
  const failed = t('errors.actionFailed', { message: '' }).replace(/[:：]\s*$/, '')

  return (
    <Stack gap="md" data-testid="dataset-page">
      <div>
        <Title order={2}>{t('title')}</Title>
        <Text size="sm" c="dimmed">
          {t('intro')}
        </Text>
      </div>
      <Card withBorder>
        <Text fw={600} mb="xs">
          {t('folders.title')}
        </Text>
        <Stack gap="xs">
          {draft.folders.length === 0 && (
            <Text size="sm" c="dimmed">
              {t('folders.none')}
            </Text>
          )}
          {draft.folders.map((f, i) => (
            <FolderRow
              key={i}
              folder={f}
              index={i}
              onChange={(next) =>
                update((d) => ({ ...d, folders: d.folders.map((x, j) => (j === i ? next : x)) }))
              }
              onRemove={() => update((d) => ({ ...d, folders: d.folders.filter((_, j) => j !== i) }))}
            />
          ))}
          <Group gap="xs" wrap="wrap">
            <Button
              variant="light"
              onClick={() => update((d) => ({ ...d, folders: [...d.folders, newFolder(false)] }))}
              data-testid="dataset-add-folder"
            >
              {t('folders.add')}
            </Button>
            <Button
              variant="light"
              color="grape"
              onClick={() => update((d) => ({ ...d, folders: [...d.folders, newFolder(true)] }))}
              data-testid="dataset-add-reg"
            >
              {t('folders.addReg')}
            </Button>
          </Group>
        </Stack>
      </Card>
      <Card withBorder>
        <Text fw={600} mb="xs">
          {t('settings.title')}
        </Text>
        <SimpleGrid cols={{ base: 2, sm: 4, lg: 5 }} spacing="xs">
          <NumberField draft={draft} field="resolution" label={t('settings.resolution')} set={set} />
          <NumberField draft={draft} field="batch_size" label={t('settings.batch')} set={set} />
          <NumberField draft={draft} field="max_train_epochs" label={t('settings.epochs')} set={set} />
          <NumberField
            draft={draft}
            field="gradient_accumulation_steps"
            label={t('settings.gradAccum')}
            set={set}
          />
          <Select
            label={t('settings.maxTokens')}
            data={['75', '150', '225']}
            value={draft.max_token_length}
            onChange={(v) =>
              update((d) => ({ ...d, max_token_length: (v ?? '75') as Draft['max_token_length'] }))
            }
            allowDeselect={false}
          />
          <NumberField draft={draft} field="min_bucket_reso" label={t('settings.minBucket')} set={set} />
          <NumberField draft={draft} field="max_bucket_reso" label={t('settings.maxBucket')} set={set} />
          <NumberField draft={draft} field="bucket_reso_steps" label={t('settings.bucketSteps')} set={set} />
          <Stack gap={6} justify="flex-end">
            <Switch
              label={t('settings.enableBucket')}
              checked={draft.enable_bucket}
              onChange={(e) => update((d) => ({ ...d, enable_bucket: e.currentTarget.checked }))}
              data-testid="dataset-setting-enable_bucket"
            />
            <Switch
              label={t('settings.noUpscale')}
              checked={draft.bucket_no_upscale}
              onChange={(e) => update((d) => ({ ...d, bucket_no_upscale: e.currentTarget.checked }))}
              data-testid="dataset-setting-no_upscale"
            />
          </Stack>
          <Group align="flex-end">
            <Button
              variant="default"
              onClick={rescan}
              loading={scanning}
              disabled={!config}
              data-testid="dataset-rescan"
            >
              {t('settings.scan')}
            </Button>
            {scanning && <Loader size="xs" aria-label={t('settings.scanning')} />}
          </Group>
        </SimpleGrid>
      </Card>
      {scanError && (
        <Alert color="red" data-testid="dataset-scan-error">
          {t('errors.scanFailed', { message: scanError })}
        </Alert>
      )}
      {!scan && !scanError && (
        <Text c="dimmed" data-testid="dataset-empty">
          {t('summary.noData')}
        </Text>
      )}
      {scan && (
        <Tabs value={tab} onChange={setTab} keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="summary" data-testid="dataset-tab-summary">
              {t('tabs.summary')}
            </Tabs.Tab>
            <Tabs.Tab value="buckets" data-testid="dataset-tab-buckets">
              {t('tabs.buckets')}
            </Tabs.Tab>
            <Tabs.Tab
              value="problems"
              data-testid="dataset-tab-problems"
              color={scan.problems.some((p) => p.severity === 'error') ? 'red' : undefined}
            >
              {t('tabs.problems', { count: problemCount })}
            </Tabs.Tab>
            <Tabs.Tab value="captions" data-testid="dataset-tab-captions">
              {t('tabs.captions')}
            </Tabs.Tab>
            <Tabs.Tab value="tagging" data-testid="dataset-tab-tagging">
              {t('tabs.tagging')}
            </Tabs.Tab>
          </Tabs.List>
          <PanelBoundary message={failed}>
            <Tabs.Panel value="summary" pt="md">
              <SummaryPanel scan={scan} />
            </Tabs.Panel>
            <Tabs.Panel value="buckets" pt="md">
              <BucketChart scan={scan} />
            </Tabs.Panel>
            <Tabs.Panel value="problems" pt="md">
              <ProblemsPanel scan={scan} />
            </Tabs.Panel>
            <Tabs.Panel value="captions" pt="md">
              <CaptionEditor
                folders={folders}
                config={config}
                problemKinds={problemKinds}
                onChanged={rescan}
              />
            </Tabs.Panel>
            <Tabs.Panel value="tagging" pt="md">
              <TaggerPanel folders={folders} onChanged={rescan} />
            </Tabs.Panel>
          </PanelBoundary>
        </Tabs>
      )}
    </Stack>
  )
}
