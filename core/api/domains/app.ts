import { z } from 'zod'
import { request } from '../define'

export const Language = z.enum(['en', 'ru'])
export type Language = z.infer<typeof Language>

export const Settings = z.object({
  language: Language.default('en'),
  theme: z.enum(['light', 'dark', 'auto']).default('auto'),
})
export type Settings = z.infer<typeof Settings>

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  platform: z.string(),
  dataDir: z.string(),
  mode: z.enum(['electron', 'headless', 'cli', 'test']),
})
export type AppInfo = z.infer<typeof AppInfo>

export const requests = {
  'app.info': request(z.object({}).strict(), AppInfo, 'Version, platform, data folder and mode'),
  'settings.get': request(z.object({}).strict(), Settings, 'Read the app settings'),
  'settings.update': request(
    Settings.partial().strict(),
    Settings,
    'Change some settings; returns all of them',
  ),
}

export const events = {}
