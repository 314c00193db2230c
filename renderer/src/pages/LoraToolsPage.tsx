import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  NumberInput,
  Progress,
  ScrollArea,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { LoraInspection, LoraJob, ToolCheck } from '../../../core/api/domains/lora'
import type { LoraProblem } from '../../../core/lora/inspect'
import type { DynamicMethod, MergeMode, ToolInputRaw } from '../../../core/lora/tools'
import { stripAnsi } from '../../../core/runs/ansi'
import { getApiClient, toApiError } from '../api/client'
import { useApiAction, useApiCall, useSubscription } from '../api/hooks'

/*
 * LoRA tools: inspect a file (and carry its training settings to the Train page as a preset), and
 * resize / merge / extract through sd-scripts' scripts, each a small form checked as it is filled in
 * (lora.check reads the files' headers), with the runs listed below with progress, log and stop.
 * Form contents are kept in localStorage, so leaving the page loses nothing.
 */

type Tool = 'inspect' | 'resize' | 'merge' | 'extract'
type Num = number | ''
type Precision = 'float' | 'fp16' | 'bf16'
type Device = 'cpu' | 'cuda'

/** State kept across page visits and reloads; a stored value of the wrong shape is ignored. */
function usePersisted<T extends object>(key: string, initial: T): [T, (patch: Partial<T>) => void] {
  const storageKey = `sdxl-studio.lora.${key}`
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = localStorage.getItem(storageKey)
      const parsed = raw ? (JSON.parse(raw) as unknown) : null
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
        ? { ...initial, ...parsed }
        : initial
    } catch {
      return initial
    }
  })
  const update = useCallback(
    (patch: Partial<T>) =>
      setValue((old) => {
        const next = { ...old, ...patch }
        try {
          localStorage.setItem(storageKey, JSON.stringify(next))
        } catch {
          // storage full or disabled: the form still works, it just is not kept
        }
        return next
      }),
    [storageKey],
  )
  return [value, update]
}

function useProblemText() {
  const { t } = useTranslation('lora')
  return useCallback(
    (p: LoraProblem) => {
      const params: Record<string, string | number> = { ...p.params }
      if (typeof p.params.label === 'string')
        params.label = t(`labels.${p.params.label}`, { index: p.params.index })
      if (typeof p.params.network === 'string') params.network = t(`kinds.${p.params.network}`)
      return t(`problem.${p.code}`, { ...params, defaultValue: p.message })
    },
    [t],
  )
}

function Problems({ problems, testId }: { problems: LoraProblem[]; testId: string }) {
  const text = useProblemText()
  if (problems.length === 0) return null
  return (
    <Alert color="red" data-testid={testId}>
      <Stack gap={4}>
        {problems.map((p, i) => (
          <Text size="sm" key={`${p.code}-${i}`}>
            {text(p)}
          </Text>
        ))}
      </Stack>
    </Alert>
  )
}

const dirOf = (file: string) => file.replace(/[\\/][^\\/]*$/, '')
const sepOf = (file: string) => (file.includes('\\') && !file.includes('/') ? '\\' : '/')
const stem = (file: string) => (file.split(/[\\/]/).pop() ?? '').replace(/\.safetensors$/i, '')
/** `<folder>/<name><suffix>.safetensors` next to `file`. */
function besides(file: string, suffix: string): string {
  const f = file.trim()
  if (!f) return ''
  return `${dirOf(f)}${sepOf(f)}${stem(f)}${suffix}.safetensors`
}

const isRank = (v: Num) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1024

// ——— Inspect ———

function Stat({ label, value, testId }: { label: string; value: ReactNode; testId: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600} data-testid={testId}>
        {value}
      </Text>
    </Stack>
  )
}

function InspectResult({ r, onResize }: { r: LoraInspection; onResize: (file: string) => void }) {
  const { t } = useTranslation('lora')
  const problemText = useProblemText()
  const save = useApiAction('presets.save')
  const [saved, setSaved] = useState<string | null>(null)
  const w = r.weights
  const rank =
    r.rank === null
      ? '—'
      : w.uniform_rank
        ? String(r.rank)
        : `${r.rank} (${t('ranksVary', { min: w.rank_min, max: w.rank_max })})`
  const size = (bytes: number) =>
    bytes < 1048576
      ? t('sizeKib', { kib: Math.max(1, Math.round(bytes / 1024)) })
      : t('size', { mib: (bytes / 1048576).toFixed(1) })
  const ss = r.training.used
  const name =
    r.metadata.ss_output_name && r.metadata.ss_output_name !== 'None'
      ? r.metadata.ss_output_name
      : stem(r.file)
  const entries = Object.entries(r.metadata).sort((a, b) => a[0].localeCompare(b[0]))
  return (
    <Stack data-testid="lora-inspect-result">
      <Card withBorder>
        <SimpleGrid cols={{ base: 3, sm: 6 }}>
          <Stat label={t('network')} value={t(`kinds.${r.network}`)} testId="lora-network" />
          <Stat label={t('rank')} value={rank} testId="lora-rank" />
          <Stat label={t('alpha')} value={r.alpha ?? '—'} testId="lora-alpha" />
          <Stat
            label={t('modules')}
            value={
              <span title={t('modulesSplit', { unet: r.unet_modules, te: r.text_encoder_modules })}>
                {r.modules}
              </span>
            }
            testId="lora-modules"
          />
          <Stat label={t('base')} value={t(`bases.${r.base}`)} testId="lora-base" />
          <Stat label={t('dtype')} value={`${w.dtype ?? '—'} · ${size(r.size_bytes)}`} testId="lora-dtype" />
          {r.conv_rank !== null ? (
            <>
              <Stat label={t('convRank')} value={r.conv_rank} testId="lora-conv-rank" />
              <Stat label={t('convAlpha')} value={r.conv_alpha ?? '—'} testId="lora-conv-alpha" />
            </>
          ) : null}
        </SimpleGrid>
      </Card>
      {r.problems.length ? (
        <Alert color="yellow" data-testid="lora-inspect-problems">
          {r.problems.map((p, i) => (
            <Text size="sm" key={i}>
              {problemText(p)}
            </Text>
          ))}
        </Alert>
      ) : null}
      {(r.network === 'lora' || r.network === 'locon') && r.base === 'sdxl' ? (
        <Group>
          <Button variant="light" onClick={() => onResize(r.file)} data-testid="lora-resize-this">
            {t('resizeThis')}
          </Button>
        </Group>
      ) : null}
      {r.blocks.length ? (
        <Card withBorder>
          <Text fw={500} mb="xs">
            {t('blocks')}
          </Text>
          <Table striped data-testid="lora-blocks" fz="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('block')}</Table.Th>
                <Table.Th>{t('modules')}</Table.Th>
                <Table.Th>{t('rank')}</Table.Th>
                <Table.Th>{t('alpha')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {r.blocks.map((b) => (
                <Table.Tr key={b.block}>
                  <Table.Td>{b.block}</Table.Td>
                  <Table.Td>{b.modules}</Table.Td>
                  <Table.Td>
                    {b.rank_min === b.rank_max ? (b.rank_max ?? '—') : `${b.rank_min}–${b.rank_max}`}
                  </Table.Td>
                  <Table.Td>
                    {b.alpha_min === b.alpha_max ? (b.alpha_max ?? '—') : `${b.alpha_min}–${b.alpha_max}`}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      ) : null}
      <Card withBorder data-testid="lora-training">
        <Stack gap="xs">
          <Text fw={500}>{t('trainingSettings')}</Text>
          {ss.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t('noTrainingSettings')}
            </Text>
          ) : (
            <ScrollArea.Autosize mah={240}>
              <SimpleGrid cols={{ base: 1, md: 2 }} spacing="xs" verticalSpacing={2}>
                {ss.map((k) => (
                  <Group key={k} gap="xs" wrap="nowrap" align="flex-start">
                    <Text size="xs" ff="monospace" c="dimmed" style={{ flexShrink: 0 }}>
                      {k}
                    </Text>
                    <Text size="xs" style={{ wordBreak: 'break-all' }}>
                      {r.metadata[k]}
                    </Text>
                  </Group>
                ))}
              </SimpleGrid>
            </ScrollArea.Autosize>
          )}
          {r.training.notes.map((n, i) => (
            <Text size="xs" c="dimmed" key={i}>
              {t(`note.${n.code}`, {
                ...n.params,
                ...(typeof n.params.network === 'string' ? { network: t(`kinds.${n.params.network}`) } : {}),
                defaultValue: n.message,
              })}
            </Text>
          ))}
          <Group>
            <Button
              variant="light"
              loading={save.pending}
              onClick={() => {
                const presetName = t('presetName', { name }).slice(0, 120)
                void save
                  .run({ name: presetName, config: r.training.config })
                  .then((p) => setSaved(p.name))
                  .catch(() => undefined)
              }}
              data-testid="lora-use-for-training"
            >
              {t('useForTraining')}
            </Button>
          </Group>
          {saved ? (
            <Alert color="green" data-testid="lora-preset-saved">
              {t('presetSaved', { name: saved })} <Anchor href="#/train">{t('openTrain')}</Anchor>
            </Alert>
          ) : null}
          {save.error ? <Alert color="red">{save.error.message}</Alert> : null}
        </Stack>
      </Card>
      {entries.length ? (
        <Card withBorder>
          <Text fw={500} mb="xs">
            {t('metadata', { count: entries.length })}
          </Text>
          <ScrollArea.Autosize mah={260}>
            <Table fz="xs" data-testid="lora-metadata">
              <Table.Tbody>
                {entries.map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Td ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                      {k}
                    </Table.Td>
                    <Table.Td style={{ wordBreak: 'break-all' }} title={v.length > 300 ? v : undefined}>
                      {v.length > 300 ? `${v.slice(0, 300)}…` : v}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
        </Card>
      ) : null}
    </Stack>
  )
}

function InspectTab({ onResize }: { onResize: (file: string) => void }) {
  const { t } = useTranslation('lora')
  const [form, set] = usePersisted('inspect', { file: '' })
  const inspect = useApiAction('lora.inspect')
  const [result, setResult] = useState<LoraInspection | null>(null)
  const run = () => {
    setResult(null)
    void inspect
      .run({ file: form.file.trim() })
      .then(setResult)
      .catch(() => undefined)
  }
  const error = inspect.error
  const kind = (error?.details as { kind?: string } | undefined)?.kind
  const errorText = !error
    ? null
    : error.code === 'not_found'
      ? t('errors.not_found', { file: form.file.trim() })
      : kind === 'not_safetensors'
        ? t('errors.not_safetensors', { file: form.file.trim() })
        : error.code === 'bad_request' && !form.file.trim()
          ? t('fieldErrors.required')
          : error.code === 'bad_request'
            ? t('errors.folder', { file: form.file.trim() })
            : error.message
  return (
    <Stack>
      <Group align="flex-end" wrap="nowrap">
        <TextInput
          style={{ flex: 1 }}
          label={t('file')}
          placeholder={t('filePlaceholder')}
          value={form.file}
          onChange={(e) => set({ file: e.currentTarget.value })}
          onKeyDown={(e) => {
            if (e.key === 'Enter') run()
          }}
          data-testid="lora-inspect-file"
        />
        <Button
          onClick={run}
          loading={inspect.pending}
          disabled={!form.file.trim()}
          data-testid="lora-inspect-run"
        >
          {t('inspect')}
        </Button>
      </Group>
      {errorText ? (
        <Alert color="red" data-testid="lora-inspect-error">
          {errorText}
        </Alert>
      ) : null}
      {result ? <InspectResult r={result} onResize={onResize} /> : null}
    </Stack>
  )
}

// ——— Tool forms ———

/** lora.check for a complete input, debounced; stale answers are dropped. */
function useToolCheck(input: ToolInputRaw | null) {
  const json = input ? JSON.stringify(input) : ''
  const [state, setState] = useState<{ json: string; check?: ToolCheck; error?: string } | null>(null)
  useEffect(() => {
    if (!json) return
    let live = true
    const timer = setTimeout(() => {
      getApiClient()
        .call('lora.check', JSON.parse(json) as ToolInputRaw)
        .then(
          (check) => live && setState({ json, check }),
          (e: unknown) => live && setState({ json, error: toApiError(e).message }),
        )
    }, 350)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [json])
  return state?.json === json ? state : null
}

function RunPanel({
  tool,
  input,
  fieldsOk,
  onStarted,
}: {
  tool: 'resize' | 'merge' | 'extract'
  input: ToolInputRaw | null
  fieldsOk: boolean
  onStarted: (job: LoraJob) => void
}) {
  const { t } = useTranslation('lora')
  const checked = useToolCheck(fieldsOk ? input : null)
  const start = useApiAction('lora.run')
  const problems = checked?.check?.problems ?? []
  const runProblems = (start.error?.details as { problems?: LoraProblem[] } | undefined)?.problems
  const ready = fieldsOk && !!checked?.check?.ok
  return (
    <Stack gap="xs">
      {fieldsOk && !checked ? (
        <Text size="sm" c="dimmed">
          {t('form.checking')}
        </Text>
      ) : null}
      <Problems problems={problems} testId={`lora-${tool}-problems`} />
      {checked?.error ? <Alert color="red">{checked.error}</Alert> : null}
      {ready ? (
        <Text size="sm" c="green" data-testid={`lora-${tool}-ready`}>
          {t('form.ready')}
        </Text>
      ) : null}
      {checked?.check?.display ? (
        <Text
          size="xs"
          c="dimmed"
          ff="monospace"
          style={{ wordBreak: 'break-all' }}
          data-testid={`lora-${tool}-command`}
        >
          {checked.check.display}
        </Text>
      ) : null}
      {runProblems ? <Problems problems={runProblems} testId={`lora-${tool}-refused`} /> : null}
      {start.error && !runProblems ? <Alert color="red">{start.error.message}</Alert> : null}
      <Group>
        <Button
          disabled={!ready || !input}
          loading={start.pending}
          onClick={() => {
            if (input)
              void start
                .run(input)
                .then(onStarted)
                .catch(() => undefined)
          }}
          data-testid={`lora-${tool}-run`}
        >
          {t(`form.run.${tool}`)}
        </Button>
      </Group>
    </Stack>
  )
}

function Common({
  form,
  set,
  withDevice = true,
}: {
  form: { save_precision: Precision; device: Device; overwrite: boolean }
  set: (p: Partial<{ save_precision: Precision; device: Device; overwrite: boolean }>) => void
  withDevice?: boolean
}) {
  const { t } = useTranslation('lora')
  return (
    <Group align="flex-end">
      <Select
        w={220}
        label={t('form.precision')}
        data={['fp16', 'bf16', 'float']}
        value={form.save_precision}
        allowDeselect={false}
        onChange={(v) => v && set({ save_precision: v as Precision })}
      />
      {withDevice ? (
        <Select
          w={200}
          label={t('form.device')}
          data={[
            { value: 'cpu', label: t('form.devices.cpu') },
            { value: 'cuda', label: t('form.devices.cuda') },
          ]}
          value={form.device}
          allowDeselect={false}
          onChange={(v) => v && set({ device: v as Device })}
        />
      ) : null}
      <Checkbox
        mb={8}
        label={t('form.overwrite')}
        checked={form.overwrite}
        onChange={(e) => set({ overwrite: e.currentTarget.checked })}
      />
    </Group>
  )
}

const numberValue = (v: string | number): Num => (typeof v === 'number' && Number.isFinite(v) ? v : '')

/** Where the tool writes its result; empty uses the suggestion shown as placeholder (when there is one). */
function OutputField({
  value,
  suggested,
  onChange,
  testId,
}: {
  value: string
  suggested?: string
  onChange: (v: string) => void
  testId: string
}) {
  const { t } = useTranslation('lora')
  return (
    <TextInput
      label={t('form.output')}
      description={t('form.outputHint')}
      placeholder={suggested}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
      error={value.trim() || suggested ? null : t('fieldErrors.required')}
      data-testid={testId}
    />
  )
}

/** A rank: a whole number 1–1024; `optional` allows empty. */
function RankField({
  label,
  value,
  onChange,
  optional = false,
  w,
  testId,
}: {
  label: string
  value: Num
  onChange: (v: Num) => void
  optional?: boolean
  w: number
  testId?: string
}) {
  const { t } = useTranslation('lora')
  return (
    <NumberInput
      w={w}
      label={label}
      value={value}
      onChange={(v) => onChange(numberValue(v))}
      error={(optional && value === '') || isRank(value) ? null : t('fieldErrors.rank')}
      data-testid={testId}
    />
  )
}

function ResizeTab({ model, onStarted }: { model: string | null; onStarted: (job: LoraJob) => void }) {
  const { t } = useTranslation('lora')
  const [form, set] = usePersisted('resize', {
    model: '',
    save_to: '',
    new_rank: 8 as Num,
    new_conv_rank: '' as Num,
    dynamic_method: '' as DynamicMethod | '',
    dynamic_param: '' as Num,
    save_precision: 'fp16' as Precision,
    device: 'cpu' as Device,
    overwrite: false,
  })
  useEffect(() => {
    if (model) set({ model, save_to: '' })
  }, [model, set])
  const suggested = besides(form.model, `-r${isRank(form.new_rank) ? form.new_rank : ''}`)
  const saveTo = form.save_to.trim() || suggested
  const errors = {
    model: form.model.trim() ? null : t('fieldErrors.required'),
    new_rank: isRank(form.new_rank) ? null : 'rank',
    new_conv_rank: form.new_conv_rank === '' || isRank(form.new_conv_rank) ? null : 'rank',
    dynamic_param: form.dynamic_method && form.dynamic_param === '' ? t('fieldErrors.number') : null,
  }
  const fieldsOk = Object.values(errors).every((e) => e === null) && !!saveTo
  const input: ToolInputRaw | null = fieldsOk
    ? {
        tool: 'resize',
        model: form.model.trim(),
        save_to: saveTo,
        new_rank: form.new_rank as number,
        ...(form.new_conv_rank !== '' ? { new_conv_rank: form.new_conv_rank } : {}),
        ...(form.dynamic_method
          ? { dynamic_method: form.dynamic_method, dynamic_param: form.dynamic_param as number }
          : {}),
        save_precision: form.save_precision,
        device: form.device,
        overwrite: form.overwrite,
      }
    : null
  return (
    <Stack>
      <TextInput
        label={t('form.model')}
        placeholder={t('filePlaceholder')}
        value={form.model}
        onChange={(e) => set({ model: e.currentTarget.value })}
        data-testid="lora-resize-model"
      />
      <OutputField
        value={form.save_to}
        suggested={suggested}
        onChange={(v) => set({ save_to: v })}
        testId="lora-resize-output"
      />
      <Group align="flex-start">
        <RankField
          w={140}
          label={t('form.newRank')}
          value={form.new_rank}
          onChange={(v) => set({ new_rank: v })}
          testId="lora-resize-rank"
        />
        <RankField
          w={220}
          label={t('form.newConvRank')}
          value={form.new_conv_rank}
          onChange={(v) => set({ new_conv_rank: v })}
          optional
        />
        <Select
          w={380}
          label={t('form.dynamic')}
          description={t('form.dynamicHint')}
          data={[
            { value: '', label: t('form.dynamicNone') },
            ...(['sv_ratio', 'sv_fro', 'sv_cumulative'] as const).map((m) => ({
              value: m,
              label: t(`form.dynamicMethods.${m}`),
            })),
          ]}
          value={form.dynamic_method}
          allowDeselect={false}
          onChange={(v) => set({ dynamic_method: (v ?? '') as DynamicMethod | '' })}
          data-testid="lora-resize-dynamic"
        />
        {form.dynamic_method ? (
          <NumberInput
            w={120}
            label={t('form.dynamicParam')}
            value={form.dynamic_param}
            decimalScale={4}
            onChange={(v) => set({ dynamic_param: numberValue(v) })}
            error={errors.dynamic_param}
            data-testid="lora-resize-param"
          />
        ) : null}
      </Group>
      <Common form={form} set={set} />
      <RunPanel tool="resize" input={input} fieldsOk={fieldsOk} onStarted={onStarted} />
    </Stack>
  )
}

interface MergeRow {
  file: string
  ratio: Num
}

function MergeTab({ onStarted }: { onStarted: (job: LoraJob) => void }) {
  const { t } = useTranslation('lora')
  const [form, set] = usePersisted('merge', {
    mode: 'sum' as MergeMode,
    models: [
      { file: '', ratio: 1 },
      { file: '', ratio: 1 },
    ] as MergeRow[],
    save_to: '',
    new_rank: 16 as Num,
    sd_model: '',
    save_precision: 'fp16' as Precision,
    device: 'cpu' as Device,
    overwrite: false,
  })
  const models = Array.isArray(form.models) ? form.models : []
  const setRow = (i: number, patch: Partial<MergeRow>) =>
    set({ models: models.map((m, j) => (j === i ? { ...m, ...patch } : m)) })
  const ratioOk = (v: Num) => typeof v === 'number' && v >= -10 && v <= 10
  const fieldsOk =
    models.length > 0 &&
    models.every((m) => m.file.trim() && ratioOk(m.ratio)) &&
    !!form.save_to.trim() &&
    (form.mode !== 'svd' || isRank(form.new_rank)) &&
    (form.mode !== 'checkpoint' || !!form.sd_model.trim())
  const input: ToolInputRaw | null = fieldsOk
    ? {
        tool: 'merge',
        mode: form.mode,
        models: models.map((m) => ({ file: m.file.trim(), ratio: m.ratio as number })),
        save_to: form.save_to.trim(),
        ...(form.mode === 'svd' ? { new_rank: form.new_rank as number, device: form.device } : {}),
        ...(form.mode === 'checkpoint' ? { sd_model: form.sd_model.trim() } : {}),
        save_precision: form.save_precision,
        overwrite: form.overwrite,
      }
    : null
  return (
    <Stack>
      <SegmentedControl
        data={(['sum', 'concat', 'svd', 'checkpoint'] as const).map((m) => ({
          value: m,
          label: t(`form.modes.${m}`),
        }))}
        value={form.mode}
        onChange={(v) => set({ mode: v as MergeMode })}
        data-testid="lora-merge-mode"
      />
      {form.mode === 'checkpoint' ? (
        <TextInput
          label={t('form.sdModel')}
          value={form.sd_model}
          onChange={(e) => set({ sd_model: e.currentTarget.value })}
          error={form.sd_model.trim() ? null : t('fieldErrors.required')}
          data-testid="lora-merge-sd-model"
        />
      ) : null}
      <Text size="sm" fw={500}>
        {t('form.models')}
      </Text>
      {models.map((m, i) => (
        <Group key={i} align="flex-start" wrap="nowrap" data-testid={`lora-merge-row-${i}`}>
          <TextInput
            style={{ flex: 1 }}
            aria-label={t('labels.merge_input', { index: i + 1 })}
            placeholder={t('filePlaceholder')}
            value={m.file}
            onChange={(e) => setRow(i, { file: e.currentTarget.value })}
            data-testid={`lora-merge-file-${i}`}
          />
          <NumberInput
            w={110}
            aria-label={t('form.ratio')}
            value={m.ratio}
            decimalScale={3}
            step={0.1}
            onChange={(v) => setRow(i, { ratio: numberValue(v) })}
            error={ratioOk(m.ratio) ? null : t('fieldErrors.ratio')}
            data-testid={`lora-merge-ratio-${i}`}
          />
          <ActionIcon
            mt={6}
            variant="subtle"
            color="red"
            aria-label={t('form.remove')}
            disabled={models.length <= 1}
            onClick={() => set({ models: models.filter((_, j) => j !== i) })}
          >
            ×
          </ActionIcon>
        </Group>
      ))}
      <Group>
        <Button
          size="xs"
          variant="light"
          disabled={models.length >= 16}
          onClick={() => set({ models: [...models, { file: '', ratio: 1 }] })}
          data-testid="lora-merge-add"
        >
          {t('form.addModel')}
        </Button>
      </Group>
      <OutputField value={form.save_to} onChange={(v) => set({ save_to: v })} testId="lora-merge-output" />
      {form.mode === 'svd' ? (
        <RankField
          w={180}
          label={t('form.mergeRank')}
          value={form.new_rank}
          onChange={(v) => set({ new_rank: v })}
          testId="lora-merge-rank"
        />
      ) : null}
      <Common form={form} set={set} withDevice={form.mode === 'svd'} />
      <RunPanel tool="merge" input={input} fieldsOk={fieldsOk} onStarted={onStarted} />
    </Stack>
  )
}

function ExtractTab({ onStarted }: { onStarted: (job: LoraJob) => void }) {
  const { t } = useTranslation('lora')
  const [form, set] = usePersisted('extract', {
    model_org: '',
    model_tuned: '',
    save_to: '',
    dim: 32 as Num,
    conv_dim: '' as Num,
    clamp_quantile: 0.99 as Num,
    min_diff: 0.01 as Num,
    save_precision: 'fp16' as Precision,
    device: 'cpu' as Device,
    overwrite: false,
  })
  const suggested = besides(form.model_tuned, `-lora-r${isRank(form.dim) ? form.dim : ''}`)
  const saveTo = form.save_to.trim() || suggested
  const quantileOk =
    typeof form.clamp_quantile === 'number' && form.clamp_quantile > 0 && form.clamp_quantile <= 1
  const diffOk = typeof form.min_diff === 'number' && form.min_diff >= 0 && form.min_diff <= 1
  const fieldsOk =
    !!form.model_org.trim() &&
    !!form.model_tuned.trim() &&
    !!saveTo &&
    isRank(form.dim) &&
    (form.conv_dim === '' || isRank(form.conv_dim)) &&
    quantileOk &&
    diffOk
  const input: ToolInputRaw | null = fieldsOk
    ? {
        tool: 'extract',
        model_org: form.model_org.trim(),
        model_tuned: form.model_tuned.trim(),
        save_to: saveTo,
        dim: form.dim as number,
        ...(form.conv_dim !== '' ? { conv_dim: form.conv_dim } : {}),
        clamp_quantile: form.clamp_quantile as number,
        min_diff: form.min_diff as number,
        save_precision: form.save_precision,
        device: form.device,
        overwrite: form.overwrite,
      }
    : null
  return (
    <Stack>
      <TextInput
        label={t('form.modelOrg')}
        value={form.model_org}
        onChange={(e) => set({ model_org: e.currentTarget.value })}
        data-testid="lora-extract-org"
      />
      <TextInput
        label={t('form.modelTuned')}
        value={form.model_tuned}
        onChange={(e) => set({ model_tuned: e.currentTarget.value })}
        data-testid="lora-extract-tuned"
      />
      <OutputField
        value={form.save_to}
        suggested={suggested}
        onChange={(v) => set({ save_to: v })}
        testId="lora-extract-output"
      />
      <Group align="flex-start">
        <RankField
          w={120}
          label={t('form.dim')}
          value={form.dim}
          onChange={(v) => set({ dim: v })}
          testId="lora-extract-dim"
        />
        <RankField
          w={240}
          label={t('form.convDim')}
          value={form.conv_dim}
          onChange={(v) => set({ conv_dim: v })}
          optional
        />
        <NumberInput
          w={160}
          label={t('form.clampQuantile')}
          value={form.clamp_quantile}
          decimalScale={4}
          step={0.01}
          onChange={(v) => set({ clamp_quantile: numberValue(v) })}
          error={quantileOk ? null : t('fieldErrors.quantile')}
        />
        <NumberInput
          w={170}
          label={t('form.minDiff')}
          value={form.min_diff}
          decimalScale={4}
          step={0.01}
          onChange={(v) => set({ min_diff: numberValue(v) })}
          error={diffOk ? null : t('fieldErrors.share')}
        />
      </Group>
      <Common form={form} set={set} />
      <RunPanel tool="extract" input={input} fieldsOk={fieldsOk} onStarted={onStarted} />
    </Stack>
  )
}

// ——— Jobs ———

const jobColor: Record<LoraJob['state'], string> = {
  queued: 'gray',
  running: 'blue',
  finished: 'green',
  failed: 'red',
  stopped: 'yellow',
}

/** Console text as a terminal would leave it: colours stripped, each line's last redraw kept. */
function screenText(raw: string): string {
  return stripAnsi(raw)
    .split('\n')
    .map((line) => line.split('\r').filter(Boolean).pop() ?? '')
    .join('\n')
    .slice(-20_000)
}

function JobLog({ job, live }: { job: LoraJob; live: string | undefined }) {
  const saved = useApiCall('lora.log', { id: job.id })
  const text = screenText(`${saved.data?.text ?? ''}${live ?? ''}`)
  return (
    <ScrollArea.Autosize mah={220}>
      <Code block data-testid="lora-job-log" style={{ fontSize: 11 }}>
        {text || ' '}
      </Code>
    </ScrollArea.Autosize>
  )
}

function JobCard({
  job,
  open,
  onToggle,
  live,
}: {
  job: LoraJob
  open: boolean
  onToggle: () => void
  live: string | undefined
}) {
  const { t } = useTranslation('lora')
  const stop = useApiAction('lora.stop')
  const p = job.progress
  const percent = p?.total ? Math.min(100, (100 * p.step) / p.total) : job.state === 'finished' ? 100 : 0
  const r = job.result
  return (
    <Card withBorder p="sm" data-testid={`lora-job-${job.id}`}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
            <Badge variant="light">{t(`tabs.${job.tool}`)}</Badge>
            <Badge color={jobColor[job.state]} data-testid="lora-job-state">
              {t(`jobs.states.${job.state}`)}
            </Badge>
            <Text size="sm" truncate title={job.output}>
              {job.output}
            </Text>
          </Group>
          <Group gap="xs" wrap="nowrap">
            {job.state === 'running' || job.state === 'queued' ? (
              <Button
                size="compact-sm"
                color="red"
                loading={stop.pending}
                onClick={() => void stop.run({ id: job.id }).catch(() => undefined)}
                data-testid="lora-job-stop"
              >
                {t('jobs.stop')}
              </Button>
            ) : null}
            <Button size="compact-sm" variant="subtle" onClick={onToggle} data-testid="lora-job-log-toggle">
              {open ? t('jobs.hideLog') : t('jobs.showLog')}
            </Button>
          </Group>
        </Group>
        {job.state === 'running' || job.state === 'queued' ? (
          <Progress value={percent} animated={job.state === 'running'} data-testid="lora-job-progress" />
        ) : null}
        {job.state === 'failed' || job.state === 'stopped' ? (
          <Text size="sm" c={job.state === 'failed' ? 'red' : 'dimmed'}>
            {t(`jobs.reasons.${job.state}`)}
          </Text>
        ) : null}
        {r ? (
          <Text size="sm" data-testid="lora-job-result">
            {t('jobs.result', {
              network: t(`kinds.${r.network}`),
              rank: r.rank ?? '—',
              alpha: r.alpha ?? '—',
              modules: r.modules,
            })}
          </Text>
        ) : null}
        {open ? <JobLog job={job} live={live} /> : null}
      </Stack>
    </Card>
  )
}

function JobsPanel({ focus }: { focus: string | null }) {
  const { t } = useTranslation('lora')
  const list = useApiCall('lora.jobs', {})
  const [updates, setUpdates] = useState<Map<string, LoraJob>>(new Map())
  const [output, setOutput] = useState<Record<string, string>>({})
  const [openId, setOpenId] = useState<string | null>(focus)
  // A job just started here opens its log (state adjusted while rendering, not in an effect).
  const [seenFocus, setSeenFocus] = useState(focus)
  if (focus !== seenFocus) {
    setSeenFocus(focus)
    setOpenId(focus)
  }
  useSubscription(
    'lora.job',
    {},
    {
      keepLatest: false,
      onData: useCallback((u: { job: LoraJob; output: string }) => {
        setUpdates((m) => new Map(m).set(u.job.id, u.job))
        if (u.output)
          setOutput((o) => ({ ...o, [u.job.id]: `${o[u.job.id] ?? ''}${u.output}`.slice(-65_536) }))
      }, []),
    },
  )
  const jobs = useMemo(() => {
    const m = new Map((list.data ?? []).map((j) => [j.id, j]))
    for (const [id, j] of updates) m.set(id, j)
    return [...m.values()].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, 12)
  }, [list.data, updates])
  return (
    <Stack gap="xs" data-testid="lora-jobs">
      <Title order={4}>{t('jobs.title')}</Title>
      {jobs.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('jobs.empty')}
        </Text>
      ) : null}
      {jobs.map((j) => (
        <JobCard
          key={j.id}
          job={j}
          open={openId === j.id}
          live={output[j.id]}
          onToggle={() => setOpenId((o) => (o === j.id ? null : j.id))}
        />
      ))}
    </Stack>
  )
}

export default function LoraToolsPage() {
  const { t } = useTranslation('lora')
  const [tab, setTab] = usePersisted('page', { tab: 'inspect' as Tool })
  const [resizeModel, setResizeModel] = useState<string | null>(null)
  const [focus, setFocus] = useState<string | null>(null)
  const started = (job: LoraJob) => setFocus(job.id)
  const tools: Tool[] = ['inspect', 'resize', 'merge', 'extract']
  return (
    <Stack data-testid="lora-page">
      <Title order={2}>{t('title')}</Title>
      <Text size="sm" c="dimmed">
        {t('intro')}
      </Text>
      <Tabs
        value={tools.includes(tab.tab) ? tab.tab : 'inspect'}
        onChange={(v) => v && setTab({ tab: v as Tool })}
        keepMounted={false}
      >
        <Tabs.List>
          {tools.map((x) => (
            <Tabs.Tab key={x} value={x} data-testid={`lora-tab-${x}`}>
              {t(`tabs.${x}`)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="inspect" pt="md">
          <InspectTab
            onResize={(file) => {
              setResizeModel(file)
              setTab({ tab: 'resize' })
            }}
          />
        </Tabs.Panel>
        <Tabs.Panel value="resize" pt="md">
          <ResizeTab model={resizeModel} onStarted={started} />
        </Tabs.Panel>
        <Tabs.Panel value="merge" pt="md">
          <MergeTab onStarted={started} />
        </Tabs.Panel>
        <Tabs.Panel value="extract" pt="md">
          <ExtractTab onStarted={started} />
        </Tabs.Panel>
      </Tabs>
      {tab.tab !== 'inspect' ? <JobsPanel focus={focus} /> : null}
    </Stack>
  )
}
