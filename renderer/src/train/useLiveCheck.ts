import { useEffect, useState } from 'react'
import type { RenderResult, ValidationResult } from '../../../core/api/domains/configs'
import type { TrainingConfig } from '../../../core/config/schema'
import { getApiClient, toApiError } from '../api/client'

export interface LiveCheck {
  validation?: ValidationResult
  /** The files and the command as Start would run them (or with placeholders when there is no environment). */
  render?: RenderResult & { environment: string | null }
  error?: string
}

const PLACEHOLDER_SD_SCRIPTS = '<<SET: sd-scripts folder>>'

/**
 * Checks the form as the user types (debounced; stale answers dropped): train.preview validates it
 * with file checks and renders it for the active environment; without an environment the files are
 * rendered with the sd-scripts folder left as a placeholder.
 */
export function useLiveCheck(config: TrainingConfig | null): LiveCheck {
  const [result, setResult] = useState<LiveCheck>({})
  const json = config ? JSON.stringify(config) : null
  useEffect(() => {
    if (json === null) return
    let live = true
    const timer = setTimeout(() => {
      const client = getApiClient()
      void (async () => {
        try {
          const config = JSON.parse(json) as TrainingConfig
          const out = config.saving.output_dir
          // Both at once: the placeholder rendering is the answer when there is no environment.
          const [preview, placeholder] = await Promise.all([
            client.call('train.preview', { config }),
            client.call('config.render', {
              config,
              filesDir: out
                ? `${out.replace(/[\\/]+$/, '')}/${config.saving.output_name}-files`
                : '<<SET: output folder>>',
              sdScriptsDir: PLACEHOLDER_SD_SCRIPTS,
            }),
          ])
          const render: LiveCheck['render'] =
            preview.files && preview.argv && preview.display && preview.script && preview.environment
              ? {
                  script: preview.script,
                  files: preview.files,
                  argv: preview.argv,
                  display: preview.display,
                  environment: preview.environment.sd_scripts_dir,
                }
              : { ...placeholder, environment: null }
          if (live) setResult({ validation: preview.validation, render })
        } catch (e) {
          if (live) setResult((old) => ({ ...old, error: toApiError(e).message }))
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
