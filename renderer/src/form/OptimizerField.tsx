import { Select, Stack, TextInput } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { builtinOptimizer, SD_SCRIPTS_OPTIMIZERS } from '../../../core/sdscripts/optimizers'
import { fieldTestId, type FieldDef } from './fields'
import { useForm } from './form-context'
import { fieldView } from './form-state'
import { HelpLabel } from './HelpLabel'

const CUSTOM = '__custom__'

/**
 * The optimizer: a choice of sd-scripts' own optimizers (so a typo cannot get in), with "custom class
 * path" last for torch.optim classes and packages such as bitsandbytes.optim.AdEMAMix8bit.
 */
export function OptimizerField({ field, path, error }: { field: FieldDef; path: string; error?: string }) {
  const { t } = useTranslation('train')
  const form = useForm()
  const current = form.state.config.optimizer.type
  const [pickedCustom, setPickedCustom] = useState(false)
  const custom = pickedCustom || path in form.state.texts || !builtinOptimizer(current)
  const view = fieldView(form.state, path, form.decimalComma)
  return (
    <Stack gap={6}>
      <Select
        label={<HelpLabel field={field} />}
        data={[
          ...SD_SCRIPTS_OPTIMIZERS.map((o) => ({ value: o, label: o })),
          { value: CUSTOM, label: t('optimizerCustom') },
        ]}
        value={custom ? CUSTOM : builtinOptimizer(current)}
        onChange={(v) => {
          if (!v) return
          if (v === CUSTOM) {
            setPickedCustom(true)
            if (builtinOptimizer(current)) form.type(path, '')
          } else {
            setPickedCustom(false)
            form.set(path, v)
          }
        }}
        allowDeselect={false}
        searchable
        maxDropdownHeight={320}
        comboboxProps={{ withinPortal: true }}
        error={custom ? undefined : error}
        data-testid={fieldTestId(path)}
      />
      {custom && (
        <TextInput
          aria-label={t('optimizerClassPath')}
          placeholder="bitsandbytes.optim.AdEMAMix8bit"
          description={t('optimizerClassHint')}
          value={view.text}
          onChange={(e) => form.type(path, e.currentTarget.value)}
          error={view.problem ? t('input.required') : error}
          styles={{ input: { fontFamily: 'monospace' } }}
          data-testid={`${fieldTestId(path)}.custom`}
        />
      )}
    </Stack>
  )
}
