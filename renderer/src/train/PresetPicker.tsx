import { Select } from '@mantine/core'
import { useMemo } from 'react'
import type { TFunction } from 'i18next'
import { useTranslation } from 'react-i18next'
import type { PresetSummary } from '../../../core/api/domains/configs'
import type { TrainingType } from '../../../core/config/schema'
import { useVramTotal } from '../components/vram-target'
import { useFormat } from '../i18n/format'
import { groupPresets } from './presets'

/** A preset's name in the UI language (built-in presets are translated; the user's are theirs). */
export function presetName(t: TFunction<'train'>, p: PresetSummary): string {
  return p.builtin ? t(`presets.${p.id}.name`, { defaultValue: p.name }) : `${p.name} (${t('userPreset')})`
}

/** A built-in preset's rationale in the UI language. */
export function presetRationale(t: TFunction<'train'>, p: PresetSummary): string {
  return p.builtin ? t(`presets.${p.id}.rationale`, { defaultValue: p.rationale }) : p.rationale
}

/** The preset picker: presets that fit the detected GPU first, under a heading that names it. */
export function PresetPicker({
  presets,
  type,
  value,
  onChange,
}: {
  presets: PresetSummary[]
  type: TrainingType
  value: string | null
  onChange: (id: string | null) => void
}) {
  const { t } = useTranslation('train')
  const f = useFormat()
  const { gpu } = useVramTotal()
  const gpuMib = gpu?.memory_total_mib ?? null
  const data = useMemo(() => {
    const g = groupPresets(presets, type, gpuMib)
    const item = (p: PresetSummary) => ({
      value: p.id,
      label: presetName(t, p),
    })
    const groups = [
      ...(g.fit.length
        ? [
            {
              group: t('presetsFit', {
                gpu: gpu?.name ?? 'GPU',
                gib: f.number(Math.round((gpuMib ?? 0) / 102.4) / 10),
              }),
              items: g.fit.map(item),
            },
          ]
        : []),
      ...(g.larger.length
        ? [{ group: gpuMib === null ? t('presetsAll') : t('presetsLarger'), items: g.larger.map(item) }]
        : []),
      ...(g.user.length ? [{ group: t('presetsUser'), items: g.user.map(item) }] : []),
    ]
    return groups
  }, [presets, type, gpuMib, gpu?.name, t, f])
  return (
    <Select
      data-testid="train-preset"
      label={t('preset')}
      placeholder={t('presetPlaceholder')}
      data={data}
      value={value}
      onChange={onChange}
      clearable
      maxDropdownHeight={360}
      comboboxProps={{ withinPortal: true }}
      style={{ maxWidth: 420 }}
    />
  )
}
