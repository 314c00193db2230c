import '@mantine/core/styles.css'
import { MantineProvider } from '@mantine/core'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import type { Settings } from '../../core/api/domains/app'
import { getApiClient } from './api/client'
import { App } from './App'
import { applyLanguage } from './i18n'
import { defaultSettings, SettingsProvider, settingsColorSchemeManager } from './settings'

performance.mark('sdxl:boot')

/** Settings decide the first frame's language and theme; a dead backend must not block the UI. */
async function loadInitialSettings(): Promise<Settings> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('settings.get timed out')), 5000),
  )
  try {
    return await Promise.race([getApiClient().call('settings.get', {}), timeout])
  } catch {
    // The connection banner explains a lost backend; the defaults keep the shell usable.
    return defaultSettings
  }
}

async function boot(): Promise<void> {
  const root = document.getElementById('root')
  if (!root) throw new Error('index.html has no #root element')
  const settings = await loadInitialSettings()
  await applyLanguage(settings.language).catch(() => undefined)
  performance.mark('sdxl:settings')
  createRoot(root).render(
    <StrictMode>
      <MantineProvider defaultColorScheme={settings.theme} colorSchemeManager={settingsColorSchemeManager()}>
        <SettingsProvider initial={settings}>
          <App />
        </SettingsProvider>
      </MantineProvider>
    </StrictMode>,
  )
}

void boot()
