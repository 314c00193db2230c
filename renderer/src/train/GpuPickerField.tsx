import type { ReactNode } from 'react'
import { launchForGpus, parseGpuIds } from '../../../core/gpu/selection'
import { useForm } from '../form/form-context'
import { GpuPicker } from './GpuPicker'

/**
 * The GPU picker as the Train form's launch.gpu_ids field: a pick sets the ids and one process per
 * GPU (launch.num_processes); typed ids do the same once they read as GPU ids, and stay as typed
 * (with the form's message) while they do not.
 */
export function GpuPickerField({
  path,
  text,
  label,
  error,
  testId,
}: {
  path: string
  text: string
  label: ReactNode
  error: string | undefined
  testId: string
}) {
  const form = useForm()
  return (
    <GpuPicker
      text={text}
      label={label}
      error={error}
      textTestId={testId}
      onPick={(ids) => form.change((c) => ({ ...c, launch: { ...c.launch, ...launchForGpus(ids) } }))}
      onType={(typed) => {
        form.type(path, typed)
        const parsed = parseGpuIds(typed)
        if (parsed.ok)
          form.change((c) => ({
            ...c,
            launch: { ...c.launch, num_processes: launchForGpus(parsed.ids).num_processes },
          }))
      }}
    />
  )
}
