import { useMantineColorScheme, type MantineColorSchemeManager } from '@mantine/core'
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react'
import type { Settings, SettingsPatch } from '../../core/api/domains/app'
import { getApiClient } from './api/client'
import i18next, { applyLanguage } from './i18n'

/** What the renderer uses when the backend could not tell it (e.g. it is unreachable at start). */
export const defaultSettings: Settings = { language: 'en', theme: 'auto', developer: false }

interface SettingsContextValue {
  settings: Settings
  /** Persists a change through settings.update, then applies it (language, theme). */
  update: (patch: SettingsPatch) => Promise<void>
}

const SettingsContext = createContext<SettingsContextValue | null>(null)

/**
 * The app's settings live in the backend (settings.json in the data folder), so Mantine must not keep
 * its own copy in localStorage: this manager only reports what the provider was started with.
 */
export function settingsColorSchemeManager(): MantineColorSchemeManager {
  return {
    get: (defaultValue) => defaultValue,
    set: () => undefined,
    subscribe: () => undefined,
    unsubscribe: () => undefined,
    clear: () => undefined,
  }
}

export function SettingsProvider({ initial, children }: { initial: Settings; children: ReactNode }) {
  const [settings, setSettings] = useState(initial)
  const { setColorScheme } = useMantineColorScheme()

  // One change at a time: applying a language may wait for its strings to load, and a quicker second
  // change must not finish first and then be overwritten by the first one's older answer.
  const queue = useRef<Promise<unknown>>(Promise.resolve())
  const update = useCallback(
    (patch: SettingsPatch) => {
      const run = async () => {
        const next = await getApiClient().call('settings.update', patch)
        if (next.language !== i18next.language) await applyLanguage(next.language)
        setColorScheme(next.theme)
        setSettings(next)
      }
      const result = queue.current.then(run, run)
      queue.current = result.catch(() => undefined)
      return result
    },
    [setColorScheme],
  )

  const value = useMemo(() => ({ settings, update }), [settings, update])
  return <SettingsContext.Provider value={value}>{children}</SettingsContext.Provider>
}

export function useSettings(): SettingsContextValue {
  const value = useContext(SettingsContext)
  if (!value) throw new Error('useSettings must be used inside <SettingsProvider>')
  return value
}
