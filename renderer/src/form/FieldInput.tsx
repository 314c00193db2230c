import { Group, SegmentedControl, Select, Stack, Switch, Text, Textarea, TextInput } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import { enumOptions, isOptional } from '../../../core/config/leaves'
import { TRAINING_TYPES } from '../../../core/config/schema'
import { useFormat } from '../i18n/format'
import { BrowseButton } from './BrowseButton'
import { fieldTestId, type FieldDef } from './fields'
import { useForm } from './form-context'
import { fieldView, getPath, splitLines, type FieldProblem } from './form-state'
import { HelpLabel } from './HelpLabel'
import { OptimizerField } from './OptimizerField'
import { GpuPickerField } from '../train/GpuPickerField'

export const TYPE_LABEL = {
  lora: 'LoRA',
  locon: 'LoCon',
  loha: 'LoHa',
  lokr: 'LoKr',
  dreambooth: 'Dreambooth',
} as const

/** The message under a field: what is wrong with the typed text, else the first blocking check. */
export function useFieldError(path: string, problem: FieldProblem | null): string | undefined {
  const { t } = useTranslation('train')
  const f = useFormat()
  const form = useForm()
  if (problem) {
    const params = 'params' in problem ? problem.params : undefined
    return t(`input.${problem.code}`, {
      ...(params && 'limit' in params ? { limit: f.number(params.limit) } : params),
    })
  }
  if (!form.showErrors) return undefined
  const issue = form.issuesAt(path).find((i) => i.severity === 'error')
  return issue ? f.message('train:issues', issue) : undefined
}

/** One scalar field of the registry at a concrete path (list items: "dataset.subsets.0.num_repeats"). */
export function FieldInput({
  field,
  path,
  onPick,
}: {
  field: FieldDef
  path: string
  /** Path widgets: what a picked path does (default: set this field). */
  onPick?: (path: string) => void
}) {
  const { t } = useTranslation('train')
  const form = useForm()
  const view = fieldView(form.state, path, form.decimalComma)
  const error = useFieldError(path, view.problem)
  const testId = fieldTestId(path)
  const label = <HelpLabel field={field} />
  const w = field.widget
  const value = getPath(form.state.config, path)

  switch (w.kind) {
    case 'number':
      return (
        <TextInput
          label={label}
          value={view.text}
          inputMode="decimal"
          autoComplete="off"
          onChange={(e) => form.type(path, e.currentTarget.value)}
          error={error}
          rightSection={
            w.unit ? (
              <Text size="xs" c="dimmed" pr={6}>
                {t(`units.${w.unit}`)}
              </Text>
            ) : undefined
          }
          rightSectionWidth={w.unit ? 'auto' : undefined}
          rightSectionPointerEvents="none"
          data-testid={testId}
        />
      )
    case 'text':
      return (
        <TextInput
          label={label}
          value={view.text}
          placeholder={w.placeholder}
          autoComplete="off"
          onChange={(e) => form.type(path, e.currentTarget.value)}
          error={error}
          data-testid={testId}
        />
      )
    case 'path':
      return (
        <TextInput
          label={label}
          value={view.text}
          autoComplete="off"
          onChange={(e) => form.type(path, e.currentTarget.value)}
          error={error}
          data-testid={testId}
          inputContainer={(children) => (
            <Group gap="xs" wrap="nowrap" align="flex-start">
              <div style={{ flex: 1, minWidth: 0 }}>{children}</div>
              <BrowseButton
                mode={w.browse}
                start={view.text}
                onPick={onPick ?? ((p) => form.set(path, p))}
                testId={`browse-${path}`}
              />
            </Group>
          )}
        />
      )
    case 'switch':
      return (
        <Stack gap={4} justify="center" style={{ minHeight: 36 }}>
          <Switch
            label={label}
            checked={value === true}
            onChange={(e) => form.set(path, e.currentTarget.checked)}
            error={error}
            data-testid={testId}
          />
        </Stack>
      )
    case 'select': {
      const options = enumOptions(path) ?? []
      const optional = isOptional(path)
      return (
        <Select
          label={label}
          data={options.map((o) => ({
            value: o,
            label: w.labelled ? t(`options.${field.id}.${o}`) : o,
          }))}
          value={typeof value === 'string' ? value : null}
          onChange={(v) => {
            if (v !== null || optional) form.set(path, v ?? undefined)
          }}
          clearable={optional}
          allowDeselect={optional}
          placeholder={optional ? t('notSet') : undefined}
          error={error}
          comboboxProps={{ withinPortal: true }}
          data-testid={testId}
        />
      )
    }
    case 'type':
      return (
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            {label}
          </Text>
          <SegmentedControl
            data-testid="train-type"
            value={form.state.config.type}
            onChange={(v) => form.set('type', v)}
            data={TRAINING_TYPES.map((type) => ({ value: type, label: TYPE_LABEL[type] }))}
            style={{ alignSelf: 'flex-start', maxWidth: '100%' }}
          />
        </Stack>
      )
    case 'lines':
      return (
        <Textarea
          label={label}
          autosize
          minRows={2}
          maxRows={8}
          value={view.text}
          placeholder="weight_decay=0.01"
          onChange={(e) => form.typeAs(path, e.currentTarget.value, splitLines(e.currentTarget.value))}
          error={
            error ??
            (splitLines(view.text).some((a) => a.split('=').length !== 2) ? t('input.key_value') : undefined)
          }
          styles={{ input: { fontFamily: 'monospace' } }}
          data-testid={testId}
        />
      )
    case 'optimizer':
      return <OptimizerField field={field} path={path} error={error} />
    case 'gpus':
      return <GpuPickerField path={path} text={view.text} label={label} error={error} testId={testId} />
    case 'subsets':
    case 'prompts':
    case 'extraArgs':
      // Lists have their own editors (SettingsSections renders them).
      return null
  }
}
