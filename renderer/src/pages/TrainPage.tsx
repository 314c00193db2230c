import { Alert, Box, Group, Loader, Stack, Text, Title } from '@mantine/core'
import { useMediaQuery } from '@mantine/hooks'
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { Issue } from '../../../core/api/domains/configs'
import { isPlaceholder } from '../../../core/config/presets'
import { Subset, type TrainingConfig } from '../../../core/config/schema'
import { setPath } from '../../../core/config/set-path'
import { withLargestBucket } from '../../../core/vram/bucket-basis'
import { configPatchFromScenarioPatch, scenarioFromConfig } from '../../../core/vram/from-config'
import type { ScenarioPatch } from '../../../core/vram/scenario'
import { useApiAction, useApiCall } from '../api/hooks'
import { StartTrainingButton } from '../components/StartTrainingButton'
import { repeatsFromName } from '../components/dataset/draft'
import { useDropIntents } from '../desktop/hooks'
import { VramCompactBar } from '../components/VramCompactBar'
import { VramGauge } from '../components/VramGauge'
import { multiGpuLaunch } from '../components/VramPerGpuLine'
import { useVramTotal, VramTargetProvider } from '../components/vram-target'
import { FIELDS } from '../form/fields'
import { FormContext, type FormApi } from '../form/form-context'
import {
  changeConfig,
  removeItem,
  replaceConfig,
  suggestPreset,
  setValue,
  typeAs,
  typeText,
  type FormState,
} from '../form/form-state'
import { usesDecimalComma } from '../form/number-text'
import { SettingsSections } from '../form/SettingsSections'
import { useFormat } from '../i18n/format'
import { ChecksPanel } from '../train/ChecksPanel'
import { DatasetSummary } from '../train/DatasetSummary'
import { ImportExport } from '../train/ImportExport'
import { PresetPicker, presetName, presetRationale } from '../train/PresetPicker'
import { PresetsPanel } from '../train/PresetsPanel'
import { PreviewPanel } from '../train/PreviewPanel'
import { suggestedPreset } from '../train/presets'
import { useDatasetScan } from '../train/useDatasetScan'
import { useLiveCheck } from '../train/useLiveCheck'
import { VramBasisNote } from '../train/VramBasisNote'
import { useTrainDraft, type DraftStatus } from '../train/useTrainDraft'

/*
 * The Train page: the form (rendered section by section from the field registry, form/fields.ts),
 * live checks with one-click fixes, the files and command as they will run, and the VRAM gauge in
 * view while editing (a sticky column on wide windows, a bar pinned at the top on narrow ones).
 * The form is a draft on disk, so nothing typed is lost to a reload, a crash or a restart.
 */

/** Wide enough for the form and the gauge side by side (the navigation takes 200 px). */
const WIDE = '(min-width: 1200px)'
const GAUGE_UNAVAILABLE = ['lycoris_bypass'] as const

/** Registry paths: an issue about a parent of one of these belongs to its children too. */
const FIELD_PATHS = new Set(FIELDS.map((f) => f.path))

function issueIsAbout(issue: Issue, path: string): boolean {
  const field = issue.field
  if (!field) return false
  if (field === path) return true
  // "dataset.resolution" speaks about width and height; "dataset.subsets" is a field of its own.
  return path.startsWith(`${field}.`) && !FIELD_PATHS.has(field)
}

function DraftNote({ status }: { status: DraftStatus }) {
  const { t } = useTranslation('train')
  const f = useFormat()
  const text =
    status.kind === 'saved'
      ? t('draftSaved', { time: f.date(status.at) })
      : status.kind === 'saving'
        ? t('draftSaving')
        : status.kind === 'error'
          ? t('draftError', { message: status.message })
          : ''
  return (
    <Text
      size="xs"
      c={status.kind === 'error' ? 'red' : 'dimmed'}
      data-testid="train-draft-status"
      data-state={status.kind}
    >
      {text}
    </Text>
  )
}

export default function TrainPage() {
  return (
    <VramTargetProvider>
      <TrainForm />
    </VramTargetProvider>
  )
}

function TrainForm() {
  const { t } = useTranslation(['train', 'common'])
  const draft = useTrainDraft()
  return (
    <Stack gap="md">
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Title order={2}>{t('title')}</Title>
        <DraftNote status={draft.status} />
      </Group>
      {draft.state ? (
        <TrainFormLoaded
          state={draft.state}
          update={draft.update}
          fresh={draft.fresh}
          dropped={draft.dropped}
          dismissDropped={draft.dismissDropped}
        />
      ) : (
        <Loader size="sm" aria-label={t('common:loading')} />
      )}
    </Stack>
  )
}

function TrainFormLoaded({
  state,
  update,
  fresh,
  dropped,
  dismissDropped,
}: {
  state: FormState
  update: (fn: (s: FormState) => FormState) => void
  fresh: boolean
  dropped: string[]
  dismissDropped: () => void
}) {
  const { t, i18n } = useTranslation(['train', 'common'])
  const decimalComma = usesDecimalComma(i18n.language)
  const wide = useMediaQuery(WIDE, true)
  const config = state.config
  const check = useLiveCheck(config)
  const scan = useDatasetScan(config)
  const issues = useMemo(() => check.validation?.issues ?? [], [check.validation])
  const presets = useApiCall('presets.list', {})
  const getPreset = useApiAction('presets.get')
  const applyFix = useApiAction('config.applyFix')
  const { gpu } = useVramTotal()
  /** "Started from the preset that fits your GPU": shown while the form is still on that preset. */
  const [presetNote, setPresetNote] = useState<{ presetId: string; text: string } | null>(null)

  const api: FormApi = useMemo(
    () => ({
      state,
      decimalComma,
      showErrors: state.touched,
      issues,
      type: (path, text) => update((s) => typeText(s, path, text, decimalComma)),
      typeAs: (path, text, value) => update((s) => typeAs(s, path, text, value)),
      set: (path, value) =>
        update((s) => {
          const next = setValue(s, path, value)
          // A new type starts without the old preset: presets are made for one type.
          return path === 'type' ? { ...next, presetId: null } : next
        }),
      remove: (listPath, index) => update((s) => removeItem(s, listPath, index)),
      change: (fn) => update((s) => changeConfig(s, fn(s.config))),
      issuesAt: (path) => issues.filter((i) => issueIsAbout(i, path)),
    }),
    [state, decimalComma, issues, update],
  )

  // A model file or an image folder dropped on the window (or opened from the menu): into the form. A
  // preset's placeholder folder is replaced; a `10_name` folder gives its repeats and class tokens.
  useDropIntents(
    (intent) => {
      if (intent.type === 'set-model-path')
        update((s) => ({ ...setValue(s, 'base_model', intent.path), touched: true }))
      else if (intent.type === 'add-image-folder')
        update((s) => {
          const kept = s.config.dataset.subsets.filter(
            (x) => !isPlaceholder(x.image_dir) && x.image_dir !== intent.path,
          )
          const subset = Subset.parse({ image_dir: intent.path, ...(repeatsFromName(intent.path) ?? {}) })
          const dataset = { ...s.config.dataset, subsets: [...kept, subset] }
          return changeConfig(s, { ...s.config, dataset })
        })
    },
    ['set-model-path', 'add-image-folder'],
  )

  /** Applies a preset, keeping what the user entered about their own files. */
  const choosePreset = useCallback(
    async (id: string | null, touched: boolean) => {
      if (!id) {
        update((s) => ({ ...s, presetId: null }))
        return
      }
      // A failed read (the server went away: the connection banner says so) leaves the form as it is.
      const p = await getPreset.run({ id }).catch(() => null)
      if (!p) return
      update((s) => {
        const d = s.config
        const next: TrainingConfig = {
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
        }
        return touched ? { ...replaceConfig(s, next, id), touched: true } : suggestPreset(s, next, id)
      })
    },
    [getPreset, update],
  )

  // A brand-new form starts from the built-in preset that fits this GPU (the defaults are made for 24 GB).
  const suggested = useRef(false)
  useEffect(() => {
    if (!fresh || suggested.current || state.touched || state.presetId || !presets.data || !gpu) return
    suggested.current = true
    const p = suggestedPreset(presets.data, config.type, gpu.memory_total_mib)
    if (!p) return
    void choosePreset(p.id, false).then(() =>
      setPresetNote({
        presetId: p.id,
        text: t('presetChosenForGpu', { name: presetName(t, p), gpu: gpu.name ?? 'GPU' }),
      }),
    )
  }, [fresh, state.touched, state.presetId, presets.data, gpu, config.type, choosePreset, t])

  const fix = async (issue: Issue) => {
    const base = check.validation?.config
    if (!issue.fix || !base) return
    const next = await applyFix.run({ config: base, fix: issue.fix }).catch(() => null)
    if (next) update((s) => changeConfig(s, next))
  }

  // The gauge predicts from the form on every change (microseconds). A config the VRAM mapping cannot
  // read shows a note instead of breaking the page.
  // Activations are sized for the dataset's largest bucket once the scan has answered.
  const vram = useMemo(() => {
    try {
      const { scenario } = scenarioFromConfig(
        config,
        navigator.userAgent.includes('Windows') ? 'windows' : 'linux',
      )
      return withLargestBucket(scenario, scan.scan)
    } catch {
      return null
    }
  }, [config, scan.scan])
  const applyVram = (p: ScenarioPatch) =>
    update((s) => {
      let next: unknown = s.config
      for (const [section, fields] of Object.entries(configPatchFromScenarioPatch(p, s.config.type).patch))
        for (const [field, value] of Object.entries(fields))
          next = setPath(next as TrainingConfig, `${section}.${field}`, value)
      return changeConfig(s, next as TrainingConfig)
    })

  const gauge = vram ? (
    <VramGauge
      scenario={vram.scenario}
      onApply={applyVram}
      unavailable={GAUGE_UNAVAILABLE}
      config={config}
      multiGpu={multiGpuLaunch(config)}
      breakdownNote={<VramBasisNote basis={vram.basis} />}
    />
  ) : (
    <Alert color="gray">{t('gaugeUnavailable')}</Alert>
  )

  const selectedPreset = presets.data?.find((p) => p.id === state.presetId)
  const form = (
    <Stack gap="md" style={{ minWidth: 0 }}>
      {!wide && vram && (
        <VramCompactBar scenario={vram.scenario} onApply={applyVram} unavailable={GAUGE_UNAVAILABLE}>
          {gauge}
        </VramCompactBar>
      )}
      <ImportExport
        config={config}
        onImported={(next) => update((s) => ({ ...replaceConfig(s, next, null), touched: true }))}
      />
      {dropped.length > 0 && (
        <Alert color="yellow" withCloseButton onClose={dismissDropped} data-testid="train-draft-dropped">
          {t('draftDropped', { fields: dropped.join(', ') })}
        </Alert>
      )}
      {presetNote && presetNote.presetId === state.presetId && (
        <Alert
          color="teal"
          withCloseButton
          onClose={() => setPresetNote(null)}
          data-testid="train-preset-suggested"
        >
          {presetNote.text}
        </Alert>
      )}
      <SettingsSections
        extras={{
          model: {
            before: (
              <Stack gap={4}>
                <PresetPicker
                  presets={presets.data ?? []}
                  type={config.type}
                  value={state.presetId}
                  onChange={(id) => void choosePreset(id, true)}
                />
                {selectedPreset && (
                  <Text size="sm" c="dimmed" data-testid="train-preset-rationale">
                    {presetRationale(t, selectedPreset)}
                  </Text>
                )}
              </Stack>
            ),
            after: check.validation?.model && !check.validation.model.problem && (
              <ModelNote model={check.validation.model} />
            ),
          },
          dataset: {
            after: check.validation?.dataset && (
              <DatasetSummary dataset={check.validation.dataset} config={config} scan={scan} />
            ),
          },
        }}
      />
      <ChecksPanel
        check={check}
        showErrors={state.touched}
        onFix={(i) => void fix(i)}
        fixError={applyFix.error?.message}
      />
      {check.render && <PreviewPanel render={check.render} />}
      <StartTrainingButton config={config} onAttempt={() => update((s) => ({ ...s, touched: true }))} />
      <PresetsPanel
        config={check.validation?.config ?? null}
        selected={selectedPreset}
        onSelected={(id) => update((s) => ({ ...s, presetId: id }))}
        reload={presets.reload}
      />
    </Stack>
  )

  return (
    <FormContext.Provider value={api}>
      {wide ? (
        <Box
          style={{
            display: 'grid',
            gridTemplateColumns: 'minmax(0, 1fr) minmax(300px, 360px)',
            gap: 'var(--mantine-spacing-md)',
            alignItems: 'start',
          }}
        >
          {form}
          <Box
            component="aside"
            data-testid="train-gauge-column"
            style={{
              position: 'sticky',
              top: 'calc(var(--app-shell-header-height, 52px) + var(--mantine-spacing-md))',
              maxHeight: 'calc(100vh - var(--app-shell-header-height, 52px) - 2 * var(--mantine-spacing-md))',
              overflowY: 'auto',
            }}
          >
            {gauge}
          </Box>
        </Box>
      ) : (
        form
      )}
    </FormContext.Provider>
  )
}

function ModelNote({
  model,
}: {
  model: {
    description: string
    description_code?: string | null
    description_params?: Record<string, string | number> | null
  }
}) {
  const f = useFormat()
  return (
    <Text size="sm" c="teal" data-testid="train-model-ok">
      {f.message('train:notes', {
        code: model.description_code ?? undefined,
        params: model.description_params ?? undefined,
        message: model.description,
      })}
    </Text>
  )
}
