import { z } from 'zod'
import { request } from '../define'

export const Language = z.enum(['en', 'ru'])
export type Language = z.infer<typeof Language>

export const Theme = z.enum(['light', 'dark', 'auto'])
export type Theme = z.infer<typeof Theme>

export const Settings = z.object({
  language: Language.default('en'),
  theme: Theme.default('auto'),
  /** Shows tools for developers (the Runs page's "start from a description"). */
  developer: z.boolean().default(false),
})
export type Settings = z.infer<typeof Settings>

/**
 * A change to some settings. Not `Settings.partial()`: zod 4 still applies the defaults inside a
 * partial object, so `{ theme: 'dark' }` would come out as `{ language: 'en', theme: 'dark' }` and
 * reset the language.
 */
export const SettingsPatch = z
  .object({
    language: Language.optional(),
    theme: Theme.optional(),
    developer: z.boolean().optional(),
  })
  .strict()
export type SettingsPatch = z.infer<typeof SettingsPatch>

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
  'settings.update': request(SettingsPatch, Settings, 'Change some settings; returns all of them'),
}

export const events = {}
