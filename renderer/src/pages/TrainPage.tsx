import {
  Accordion,
  Box,
  Flex,
  ActionIcon,
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  FileButton,
  Group,
  Modal,
  NavLink,
  NumberInput,
  ScrollArea,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { useEffect, useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { Issue, RenderResult, ValidationResult } from '../../../core/api/domains/configs'
import {
  defaultConfig,
  isNetworkType,
  TRAINING_TYPES,
  type TrainingConfig,
  type TrainingType,
} from '../../../core/config/schema'
import { setPath } from '../../../core/config/set-path'
import { parseRepeatsFolder } from '../../../core/config/steps'
import { getApiClient, toApiError } from '../api/client'
import { useApiAction, useApiCall } from '../api/hooks'
import { StartTrainingButton } from '../components/StartTrainingButton'
import { VramGauge } from '../components/VramGauge'
import { configPatchFromScenarioPatch, scenarioFromConfig } from '../../../core/vram/from-config'

/*
 * The Train page: pick a type and a preset, fill in paths, adjust settings (basic first, the rest
 * folded), and see what the backend says about it as you type: rule violations with one-click fixes,
 * a dataset summary and the exact sd-scripts files and command.
 */

const TYPE_LABEL: Record<TrainingType, string> = {
  lora: 'LoRA',
  locon: 'LoCon',
  loha: 'LoHa',
  lokr: 'LoKr',
  dreambooth: 'Dreambooth',
}

const SEVERITY_COLOR: Record<Issue['severity'], string> = { error: 'red', warning: 'yellow', info: 'blue' }

/** Validates (with file checks) and renders the draft, debounced, dropping stale answers. */
function useLiveCheck(draft: TrainingConfig) {
  const [result, setResult] = useState<{
    validation?: ValidationResult
    render?: RenderResult
    error?: string
  }>({})
  const json = JSON.stringify(draft)
  useEffect(() => {
    let live = true
    const timer = setTimeout(() => {
      const client = getApiClient()
      void (async () => {
        try {
          const validation = await client.call('config.validate', {
            config: JSON.parse(json) as unknown,
            checkFiles: true,
          })
          let render: RenderResult | undefined
          if (validation.config) {
            const out = validation.config.saving.output_dir
            render = await client.call('config.render', {
              config: validation.config,
              filesDir: out
                ? `${out.replace(/[\\/]+$/, '')}/${validation.config.saving.output_name}-files`
                : '<<SET: output folder>>',
              sdScriptsDir: '<<sd-scripts>>',
            })
          }
          if (live) setResult({ validation, render })
        } catch (e) {
          if (live) setResult({ error: toApiError(e).message })
        }
      })()
    }, 250)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [json])
  return result
}

/**
 * Picks a folder or a model file. In the desktop app: the native dialog (paths.pick). In a browser
 * talking to headless mode (or when the native dialog is unavailable): the backend's folder listing
 * (paths.browse) in a modal, since the browser cannot see the machine's files.
 */
function BrowseButton({
  mode,
  start,
  onPick,
  testId,
}: {
  mode: 'folders' | 'models'
  start: string
  onPick: (path: string) => void
  testId: string
}) {
  const { t } = useTranslation(['train', 'common'])
  const [open, setOpen] = useState(false)
  const [at, setAt] = useState<string | undefined>(undefined)
  const listing = useApiCall('paths.browse', { path: at, mode }, { enabled: open })
  const showBrowser = () => {
    // Start next to what is already entered (its folder for a file).
    setAt(start ? (mode === 'models' ? start.replace(/[\\/][^\\/]*$/, '') || start : start) : undefined)
    setOpen(true)
  }
  const show = async () => {
    if (!window.sdxlStudio) return showBrowser()
    try {
      const picked = await getApiClient().call('paths.pick', {
        kind: mode === 'models' ? 'file' : 'folder',
        title: mode === 'models' ? t('pickModel') : t('pickFolder'),
        ...(mode === 'models'
          ? { filters: [{ name: t('modelFiles'), extensions: ['safetensors', 'ckpt'] }] }
          : {}),
        ...(start ? { defaultPath: start } : {}),
      })
      if (picked.path) onPick(picked.path)
    } catch {
      // No native dialog here ('unavailable') or it failed: the folder browser always works.
      showBrowser()
    }
  }
  const data = listing.data
  return (
    <>
      <Button variant="default" onClick={() => void show()} data-testid={testId}>
        {t('browse')}
      </Button>
      <Modal
        opened={open}
        onClose={() => setOpen(false)}
        title={mode === 'models' ? t('pickModel') : t('pickFolder')}
        size="lg"
      >
        <Stack gap="xs">
          <Group gap="xs">
            {data?.roots.map((r) => (
              <Button key={r} size="compact-xs" variant="light" onClick={() => setAt(r)}>
                {r}
              </Button>
            ))}
          </Group>
          <Code data-testid="browse-path">{data?.path ?? at ?? ''}</Code>
          {listing.error && <Alert color="red">{listing.error.message}</Alert>}
          <ScrollArea h={320}>
            {data?.parent && <NavLink label=".." onClick={() => setAt(data.parent ?? undefined)} />}
            {data?.entries.map((e) => (
              <NavLink
                key={e.path}
                label={e.kind === 'dir' ? `📁 ${e.name}` : e.name}
                description={e.size !== null ? `${(e.size / 1e9).toFixed(2)} GB` : undefined}
                onClick={() => {
                  if (e.kind === 'dir') setAt(e.path)
                  else {
                    onPick(e.path)
                    setOpen(false)
                  }
                }}
              />
            ))}
          </ScrollArea>
          {mode === 'folders' && data && (
            <Group justify="space-between">
              <Text size="sm" c="dimmed">
                {t('imagesHere', { count: data.images })}
              </Text>
              <Button
                data-testid="browse-choose"
                onClick={() => {
                  onPick(data.path)
                  setOpen(false)
                }}
              >
                {t('chooseFolder')}
              </Button>
            </Group>
          )}
        </Stack>
      </Modal>
    </>
  )
}

type PresetNote = 'presetSaved' | 'presetUpdated' | 'presetRenamed' | 'presetDuplicated'

function usePresetActions() {
  const save = useApiAction('presets.save')
  const rename = useApiAction('presets.rename')
  const duplicate = useApiAction('presets.duplicate')
  const remove = useApiAction('presets.delete')
  return {
    save: save.run,
    rename: rename.run,
    duplicate: duplicate.run,
    remove: remove.run,
    pending: save.pending || rename.pending || duplicate.pending || remove.pending,
  }
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      {children}
    </Stack>
  )
}

export default function TrainPage() {
  const { t } = useTranslation(['train', 'common'])
  const [draft, setDraft] = useState<TrainingConfig>(() => defaultConfig('lora'))
  const [presetId, setPresetId] = useState<string | null>(null)
  const [presetName, setPresetName] = useState('')
  const [savedNote, setSavedNote] = useState<string | null>(null)
  const presets = useApiCall('presets.list', {})
  const getPreset = useApiAction('presets.get')
  const applyFix = useApiAction('config.applyFix')
  const presetAction = usePresetActions()
  const selected = presets.data?.find((p) => p.id === presetId)

  /** Runs a preset change, then selects the preset it returns and refreshes the list. */
  const runPresetAction = async (action: () => Promise<{ id: string; name: string }>, note: PresetNote) => {
    setSavedNote(null)
    try {
      const p = await action()
      presets.reload()
      setPresetId(p.id)
      setSavedNote(t(note, { name: p.name }))
    } catch (e) {
      setSavedNote(toApiError(e).message)
    }
  }
  const importKohya = useApiAction('config.importKohya')
  const [importNote, setImportNote] = useState<{
    unmapped: string[]
    warnings: string[]
    error?: string
  } | null>(null)

  const importFile = async (file: File | null) => {
    if (!file) return
    setImportNote(null)
    let json: unknown
    try {
      json = JSON.parse(await file.text())
    } catch {
      setImportNote({ unmapped: [], warnings: [], error: t('importNotJson', { name: file.name }) })
      return
    }
    try {
      const r = await importKohya.run({ json })
      setPresetId(null)
      setDraft(r.config)
      setImportNote({ unmapped: r.unmapped, warnings: r.warnings })
    } catch (e) {
      setImportNote({ unmapped: [], warnings: [], error: toApiError(e).message })
    }
  }
  const check = useLiveCheck(draft)
  const net = isNetworkType(draft.type)
  // The VRAM gauge predicts from the draft on every change (microseconds); its one-click changes are
  // scenario patches translated back into config fields.
  const vram = useMemo(
    () => scenarioFromConfig(draft, navigator.userAgent.includes('Windows') ? 'windows' : 'linux'),
    [draft],
  )
  const applyVram = (p: Partial<typeof vram.scenario>) =>
    setDraft((d) => {
      let next: unknown = d
      for (const [section, fields] of Object.entries(configPatchFromScenarioPatch(p, d.type).patch))
        for (const [field, value] of Object.entries(fields))
          next = setPath(next as TrainingConfig, `${section}.${field}`, value)
      return next as TrainingConfig
    })

  const set = (path: string, value: unknown) => setDraft((d) => setPath(d, path, value) as TrainingConfig)
  const num = (path: string) => (v: string | number) => set(path, v === '' ? undefined : Number(v))

  const presetOptions = useMemo(
    () =>
      (presets.data ?? [])
        .filter((p) => p.type === draft.type)
        .map((p) => ({
          value: p.id,
          label: p.builtin ? p.name : `${p.name} (${t('userPreset')})`,
        })),
    [presets.data, draft.type, t],
  )

  const choosePreset = async (id: string | null) => {
    setPresetId(id)
    if (!id) return
    const p = await getPreset.run({ id })
    // Keep what the user already entered about their own files.
    setDraft((d) => ({
      ...p.config,
      base_model: d.base_model || p.config.base_model,
      vae: d.vae ?? p.config.vae,
      dataset: {
        ...p.config.dataset,
        subsets: d.dataset.subsets.length ? d.dataset.subsets : p.config.dataset.subsets,
      },
      saving: {
        ...p.config.saving,
        output_dir: d.saving.output_dir || p.config.saving.output_dir,
        output_name: d.saving.output_name,
      },
    }))
  }

  const fix = async (issue: Issue) => {
    const base = check.validation?.config
    if (!issue.fix || !base) return
    setDraft(await applyFix.run({ config: base, fix: issue.fix }))
  }

  const issues = check.validation?.issues ?? []
  const issuesFor = (prefix: string) => issues.filter((i) => i.field?.startsWith(prefix))
  const subsets = draft.dataset.subsets

  return (
    <Stack gap="md">
      <Title order={2}>{t('title')}</Title>
      {/* The form on the left, the VRAM gauge beside it (below it on narrow windows), always in view. */}
      <Flex gap="md" align="flex-start" wrap="wrap">
        <Stack gap="md" style={{ flex: '1 1 620px', minWidth: 0 }} maw={1100}>
          <Group align="flex-end" wrap="wrap">
            <Field label={t('type')}>
              <SegmentedControl
                data-testid="train-type"
                value={draft.type}
                onChange={(v) => {
                  setPresetId(null)
                  set('type', v)
                }}
                data={TRAINING_TYPES.map((type) => ({ value: type, label: TYPE_LABEL[type] }))}
              />
            </Field>
            <Select
              data-testid="train-preset"
              label={t('preset')}
              placeholder={t('presetPlaceholder')}
              data={presetOptions}
              value={presetId}
              onChange={(v) => void choosePreset(v)}
              w={300}
              clearable
            />
            <FileButton onChange={(f) => void importFile(f)} accept="application/json,.json">
              {(props) => (
                <Button variant="default" {...props} data-testid="train-import-kohya">
                  {t('importKohya')}
                </Button>
              )}
            </FileButton>
          </Group>
          {importNote && (
            <Alert
              color={importNote.error ? 'red' : importNote.unmapped.length ? 'yellow' : 'teal'}
              withCloseButton
              onClose={() => setImportNote(null)}
              data-testid="train-import-note"
            >
              {importNote.error ?? (
                <Stack gap={2}>
                  <Text size="sm">
                    {importNote.unmapped.length
                      ? t('importUnmapped', { keys: importNote.unmapped.join(', ') })
                      : t('importAllMapped')}
                  </Text>
                  {importNote.warnings.map((w) => (
                    <Text size="sm" key={w}>
                      {w}
                    </Text>
                  ))}
                </Stack>
              )}
            </Alert>
          )}
          {presetId && (
            <Text size="sm" c="dimmed" data-testid="train-preset-rationale">
              {presets.data?.find((p) => p.id === presetId)?.rationale}
            </Text>
          )}

          <Paper withBorder p="md">
            <Stack gap="sm">
              <Title order={4}>{t('basic')}</Title>
              <Group align="flex-start" wrap="nowrap">
                <TextInput
                  style={{ flex: 1 }}
                  data-testid="train-base-model"
                  label={t('baseModel')}
                  description={t('baseModelHint')}
                  value={draft.base_model}
                  onChange={(e) => set('base_model', e.currentTarget.value)}
                  error={issuesFor('base_model').find((i) => i.severity === 'error')?.message}
                />
                <Stack gap={0} pt={44}>
                  <BrowseButton
                    mode="models"
                    start={draft.base_model}
                    onPick={(p) => set('base_model', p)}
                    testId="train-browse-model"
                  />
                </Stack>
              </Group>
              {check.validation?.model && !check.validation.model.problem && (
                <Text size="sm" c="teal" data-testid="train-model-ok">
                  {check.validation.model.description}
                </Text>
              )}

              <Text size="sm" fw={500}>
                {t('folders')}
              </Text>
              {subsets.map((s, i) => (
                <Group key={i} align="flex-end" wrap="nowrap" data-testid={`train-subset-${i}`}>
                  <TextInput
                    style={{ flex: 1 }}
                    label={t('imageFolder')}
                    value={s.image_dir}
                    onChange={(e) => set(`dataset.subsets.${i}.image_dir`, e.currentTarget.value)}
                    error={issuesFor(`dataset.subsets.${i}.image_dir`)[0]?.message}
                  />
                  <BrowseButton
                    mode="folders"
                    start={s.image_dir}
                    testId={`train-browse-folder-${i}`}
                    onPick={(p) =>
                      setDraft((d) => {
                        // A `10_sks dog` folder name also gives repeats and class tokens, as sd-scripts reads them.
                        const named = parseRepeatsFolder(p.split(/[\\/]/).pop() ?? '')
                        let next = setPath(d, `dataset.subsets.${i}.image_dir`, p)
                        if (named) {
                          next = setPath(next, `dataset.subsets.${i}.num_repeats`, named.num_repeats)
                          if (!d.dataset.subsets[i]?.class_tokens && named.class_tokens)
                            next = setPath(next, `dataset.subsets.${i}.class_tokens`, named.class_tokens)
                        }
                        return next as TrainingConfig
                      })
                    }
                  />
                  <NumberInput
                    w={100}
                    label={t('repeats')}
                    min={1}
                    value={s.num_repeats}
                    onChange={num(`dataset.subsets.${i}.num_repeats`)}
                  />
                  <TextInput
                    w={180}
                    label={t('classTokens')}
                    value={s.class_tokens ?? ''}
                    onChange={(e) =>
                      set(`dataset.subsets.${i}.class_tokens`, e.currentTarget.value || undefined)
                    }
                  />
                  <Checkbox
                    mb={8}
                    label={t('regularization')}
                    checked={s.is_reg}
                    onChange={(e) => set(`dataset.subsets.${i}.is_reg`, e.currentTarget.checked)}
                  />
                  <ActionIcon
                    mb={4}
                    variant="subtle"
                    color="red"
                    aria-label={t('removeFolder')}
                    onClick={() =>
                      set(
                        'dataset.subsets',
                        subsets.filter((_, j) => j !== i),
                      )
                    }
                  >
                    ×
                  </ActionIcon>
                </Group>
              ))}
              <Group>
                <Button
                  variant="light"
                  size="xs"
                  data-testid="train-add-folder"
                  onClick={() => set('dataset.subsets', [...subsets, emptySubset()])}
                >
                  {t('addFolder')}
                </Button>
              </Group>

              <SimpleGrid cols={{ base: 2, md: 4 }}>
                <TextInput
                  data-testid="train-output-dir"
                  label={t('outputDir')}
                  value={draft.saving.output_dir}
                  onChange={(e) => set('saving.output_dir', e.currentTarget.value)}
                  error={issuesFor('saving.output_dir')[0]?.message}
                />
                <TextInput
                  label={t('outputName')}
                  value={draft.saving.output_name}
                  onChange={(e) => set('saving.output_name', e.currentTarget.value)}
                />
                <NumberInput
                  label={t('epochs')}
                  min={1}
                  value={draft.training.max_train_epochs ?? ''}
                  onChange={num('training.max_train_epochs')}
                />
                <NumberInput
                  label={t('batchSize')}
                  min={1}
                  value={draft.training.batch_size}
                  onChange={num('training.batch_size')}
                />
                <NumberInput
                  label={t('learningRate')}
                  decimalScale={8}
                  step={0.00001}
                  value={draft.optimizer.learning_rate}
                  onChange={num('optimizer.learning_rate')}
                />
                <TextInput
                  label={t('optimizer')}
                  value={draft.optimizer.type}
                  onChange={(e) => set('optimizer.type', e.currentTarget.value)}
                />
                {net && (
                  <NumberInput
                    label={t('networkDim')}
                    min={1}
                    value={draft.network.dim}
                    onChange={num('network.dim')}
                  />
                )}
                {net && (
                  <NumberInput
                    label={t('networkAlpha')}
                    min={0}
                    value={draft.network.alpha}
                    onChange={num('network.alpha')}
                  />
                )}
              </SimpleGrid>
            </Stack>
          </Paper>

          <Accordion variant="separated" data-testid="train-advanced">
            <Accordion.Item value="advanced">
              <Accordion.Control data-testid="train-advanced-toggle">{t('advanced')}</Accordion.Control>
              <Accordion.Panel>
                <Stack gap="sm">
                  <SimpleGrid cols={{ base: 2, md: 3 }}>
                    <Select
                      label={t('mixedPrecision')}
                      data={['bf16', 'fp16', 'no']}
                      value={draft.memory.mixed_precision}
                      onChange={(v) => v && set('memory.mixed_precision', v)}
                    />
                    <Select
                      data-testid="train-attention"
                      label={t('attention')}
                      data={[
                        { value: 'sdpa', label: 'SDPA' },
                        { value: 'xformers', label: 'xformers' },
                        { value: 'none', label: t('attentionNone') },
                      ]}
                      value={draft.memory.attention}
                      onChange={(v) => v && set('memory.attention', v)}
                    />
                    <NumberInput
                      label={t('bucketSteps')}
                      min={1}
                      value={draft.dataset.bucket_reso_steps}
                      onChange={num('dataset.bucket_reso_steps')}
                    />
                    {(draft.type === 'locon' || draft.type === 'loha' || draft.type === 'lokr') && (
                      <>
                        <NumberInput
                          label={t('convDim')}
                          min={1}
                          value={draft.network.conv_dim ?? ''}
                          onChange={num('network.conv_dim')}
                        />
                        <NumberInput
                          label={t('convAlpha')}
                          min={0}
                          value={draft.network.conv_alpha ?? ''}
                          onChange={num('network.conv_alpha')}
                        />
                      </>
                    )}
                    {draft.type === 'lokr' && (
                      <NumberInput
                        label={t('factor')}
                        min={-1}
                        value={draft.network.factor ?? -1}
                        onChange={num('network.factor')}
                      />
                    )}
                    <NumberInput
                      label={t('textEncoderLr')}
                      decimalScale={8}
                      step={0.00001}
                      value={draft.optimizer.text_encoder_lr ?? ''}
                      onChange={num('optimizer.text_encoder_lr')}
                    />
                    <NumberInput
                      label={t('minSnrGamma')}
                      min={0}
                      value={draft.loss.min_snr_gamma ?? ''}
                      onChange={num('loss.min_snr_gamma')}
                    />
                    <NumberInput
                      label={t('saveEvery')}
                      min={1}
                      value={draft.saving.save_every_n_epochs ?? ''}
                      onChange={num('saving.save_every_n_epochs')}
                    />
                  </SimpleGrid>
                  <SimpleGrid cols={{ base: 1, md: 3 }}>
                    <Switch
                      label={t('gradientCheckpointing')}
                      checked={draft.memory.gradient_checkpointing}
                      onChange={(e) => set('memory.gradient_checkpointing', e.currentTarget.checked)}
                    />
                    <Switch
                      label={t('cacheLatents')}
                      checked={draft.memory.cache_latents}
                      onChange={(e) => set('memory.cache_latents', e.currentTarget.checked)}
                    />
                    <Switch
                      data-testid="train-cache-te"
                      label={t('cacheTe')}
                      checked={draft.memory.cache_text_encoder_outputs}
                      onChange={(e) => set('memory.cache_text_encoder_outputs', e.currentTarget.checked)}
                    />
                    {net ? (
                      <Switch
                        data-testid="train-unet-only"
                        label={t('unetOnly')}
                        checked={draft.network.train_unet_only}
                        onChange={(e) => set('network.train_unet_only', e.currentTarget.checked)}
                      />
                    ) : (
                      <Switch
                        label={t('trainTextEncoder')}
                        checked={draft.optimizer.train_text_encoder}
                        onChange={(e) => set('optimizer.train_text_encoder', e.currentTarget.checked)}
                      />
                    )}
                    <Switch
                      label={t('fp8Base')}
                      checked={draft.memory.fp8_base}
                      onChange={(e) => set('memory.fp8_base', e.currentTarget.checked)}
                    />
                    <Switch
                      label={t('fullBf16')}
                      checked={draft.memory.full_bf16}
                      onChange={(e) => set('memory.full_bf16', e.currentTarget.checked)}
                    />
                    <Switch
                      label={t('fusedBackward')}
                      checked={draft.memory.fused_backward_pass}
                      onChange={(e) => set('memory.fused_backward_pass', e.currentTarget.checked)}
                    />
                    <Switch
                      label={t('shuffleCaption')}
                      checked={subsets.some((s) => s.shuffle_caption)}
                      onChange={(e) => {
                        const on = e.currentTarget.checked
                        setDraft((d) => ({
                          ...d,
                          dataset: {
                            ...d.dataset,
                            subsets: d.dataset.subsets.map((s) => ({ ...s, shuffle_caption: on })),
                          },
                        }))
                      }}
                    />
                    <Switch
                      label={t('sampling')}
                      checked={draft.sampling.enabled}
                      onChange={(e) => set('sampling.enabled', e.currentTarget.checked)}
                    />
                  </SimpleGrid>
                  {draft.sampling.enabled && (
                    <TextInput
                      label={t('samplePrompt')}
                      value={draft.sampling.prompts[0]?.prompt ?? ''}
                      onChange={(e) => {
                        const text = e.currentTarget.value
                        set('sampling.prompts', text ? [{ ...draft.sampling.prompts[0], prompt: text }] : [])
                      }}
                    />
                  )}
                </Stack>
              </Accordion.Panel>
            </Accordion.Item>
          </Accordion>

          <Paper withBorder p="md" data-testid="train-issues">
            <Group justify="space-between" mb="xs">
              <Title order={4}>{t('checks')}</Title>
              {check.validation && (
                <Badge color={check.validation.valid ? 'teal' : 'red'} data-testid="train-valid">
                  {check.validation.valid ? t('ready') : t('notReady')}
                </Badge>
              )}
            </Group>
            {check.error && <Alert color="red">{check.error}</Alert>}
            {applyFix.error && <Alert color="red">{applyFix.error.message}</Alert>}
            {!check.validation && !check.error && <Text c="dimmed">{t('common:loading')}</Text>}
            <Stack gap={6}>
              {issues.map((issue, i) => (
                <Alert
                  key={`${issue.rule}-${i}`}
                  color={SEVERITY_COLOR[issue.severity]}
                  variant="light"
                  p="xs"
                  data-testid={`issue-${issue.rule}`}
                >
                  <Group justify="space-between" wrap="nowrap" align="flex-start">
                    <Text size="sm">
                      {issue.code
                        ? t(`issues.${issue.code}`, { ...issue.params, defaultValue: issue.message })
                        : issue.message}
                    </Text>
                    {issue.fix && (
                      <Button
                        size="compact-xs"
                        variant="white"
                        onClick={() => void fix(issue)}
                        data-testid={`fix-${issue.rule}`}
                      >
                        {t('fixButton', {
                          label: issue.fix.code
                            ? t(`fixes.${issue.fix.code}`, {
                                ...issue.fix.params,
                                defaultValue: issue.fix.label,
                              })
                            : issue.fix.label,
                        })}
                      </Button>
                    )}
                  </Group>
                </Alert>
              ))}
            </Stack>
          </Paper>

          {check.validation?.dataset && (
            <Paper withBorder p="md" data-testid="train-dataset-summary">
              <Title order={4} mb="xs">
                {t('datasetSummary')}
              </Title>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('imageFolder')}</Table.Th>
                    <Table.Th>{t('images')}</Table.Th>
                    <Table.Th>{t('captions')}</Table.Th>
                    <Table.Th>{t('repeats')}</Table.Th>
                    <Table.Th>{t('withRepeats')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {check.validation.dataset.subsets.map((s, i) => (
                    <Table.Tr key={i}>
                      <Table.Td>
                        {s.path}
                        {s.is_reg ? ` (${t('regularization')})` : ''}
                      </Table.Td>
                      <Table.Td>{s.images}</Table.Td>
                      <Table.Td>{s.captioned}</Table.Td>
                      <Table.Td>{s.num_repeats}</Table.Td>
                      <Table.Td>{s.images_with_repeats}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Text size="sm" mt="xs" data-testid="train-steps">
                {t('stepsLine', {
                  perEpoch: check.validation.dataset.steps.steps_per_epoch,
                  total: check.validation.dataset.steps.total_steps,
                  epochs: check.validation.dataset.steps.epochs,
                })}
              </Text>
              <Text size="xs" c="dimmed">
                {t('stepsNote')}
              </Text>
            </Paper>
          )}

          {check.render && (
            <Paper withBorder p="md" data-testid="train-preview">
              <Title order={4} mb="xs">
                {t('preview')}
              </Title>
              <Tabs defaultValue="command">
                <Tabs.List>
                  <Tabs.Tab value="command">{t('command')}</Tabs.Tab>
                  {Object.keys(check.render.files).map((name) => (
                    <Tabs.Tab key={name} value={name}>
                      {name}
                    </Tabs.Tab>
                  ))}
                </Tabs.List>
                <Tabs.Panel value="command" pt="xs">
                  <Code block data-testid="train-command">
                    {check.render.display}
                  </Code>
                </Tabs.Panel>
                {Object.entries(check.render.files).map(([name, content]) => (
                  <Tabs.Panel key={name} value={name} pt="xs">
                    <Code block>{content}</Code>
                  </Tabs.Panel>
                ))}
              </Tabs>
            </Paper>
          )}

          <StartTrainingButton config={draft} />

          <Paper withBorder p="md" data-testid="train-presets-panel">
            <Stack gap="xs">
              <Title order={4}>{t('myPresets')}</Title>
              <Group align="flex-end">
                <TextInput
                  label={t('presetName')}
                  value={presetName}
                  onChange={(e) => setPresetName(e.currentTarget.value)}
                  data-testid="train-preset-name"
                />
                <Button
                  disabled={!presetName.trim() || !check.validation?.config}
                  loading={presetAction.pending}
                  data-testid="train-save-preset"
                  onClick={() => {
                    const config = check.validation?.config
                    if (config)
                      void runPresetAction(
                        () => presetAction.save({ name: presetName.trim(), config }),
                        'presetSaved',
                      )
                  }}
                >
                  {t('savePreset')}
                </Button>
                {selected && !selected.builtin && (
                  <>
                    <Button
                      variant="light"
                      disabled={!check.validation?.config}
                      data-testid="train-update-preset"
                      onClick={() => {
                        const config = check.validation?.config
                        if (config)
                          void runPresetAction(
                            () => presetAction.save({ id: selected.id, name: selected.name, config }),
                            'presetUpdated',
                          )
                      }}
                    >
                      {t('updatePreset')}
                    </Button>
                    <Button
                      variant="light"
                      disabled={!presetName.trim()}
                      data-testid="train-rename-preset"
                      onClick={() =>
                        void runPresetAction(
                          () => presetAction.rename({ id: selected.id, name: presetName.trim() }),
                          'presetRenamed',
                        )
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
                      void runPresetAction(
                        () =>
                          presetAction.duplicate({ id: selected.id, name: presetName.trim() || undefined }),
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
                      const name = selected.name
                      void presetAction.remove({ id: selected.id }).then(
                        () => {
                          setPresetId(null)
                          setSavedNote(t('presetDeleted', { name }))
                          presets.reload()
                        },
                        (e: unknown) => setSavedNote(toApiError(e).message),
                      )
                    }}
                  >
                    {t('deletePreset')}
                  </Button>
                )}
              </Group>
              {savedNote && (
                <Text size="sm" data-testid="train-preset-saved">
                  {savedNote}
                </Text>
              )}
            </Stack>
          </Paper>
        </Stack>
        <Box style={{ flex: '1 1 360px', maxWidth: 480, position: 'sticky', top: 64 }}>
          <VramGauge scenario={vram.scenario} onApply={applyVram} unavailable={['lycoris_bypass']} />
        </Box>
      </Flex>
    </Stack>
  )
}

function emptySubset() {
  return {
    image_dir: '',
    num_repeats: 10,
    caption_extension: '.txt',
    is_reg: false,
    keep_tokens: 0,
    shuffle_caption: false,
    flip_aug: false,
    caption_dropout_rate: 0,
    caption_tag_dropout_rate: 0,
    caption_dropout_every_n_epochs: 0,
    token_warmup_step: 0,
  }
}
