import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { SettingsPatch } from '../../core/api/domains/app'
import { createServices } from '../../electron/services'

describe('settings.update', () => {
  it('parses a patch without filling in defaults for the fields it leaves out', () => {
    expect(SettingsPatch.parse({ theme: 'dark' })).toEqual({ theme: 'dark' })
    expect(SettingsPatch.parse({})).toEqual({})
    expect(() => SettingsPatch.parse({ colour: 'red' })).toThrow()
  })

  it('changes only the settings it is given, in memory and on disk', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sdxl-settings-'))
    const s = createServices({ dataDir, mode: 'test', env: { PATH: '' }, version: '0.0.0-test' })
    const call = (input: unknown) => s.router.callByName('settings.update', input, { transport: 'test' })
    try {
      const result = (language: string, theme: string, developer = false) => ({
        ok: true,
        result: { language, theme, developer },
      })
      expect(await call({ language: 'ru' })).toEqual(result('ru', 'auto'))
      expect(await call({ theme: 'dark' })).toEqual(result('ru', 'dark'))
      expect(await call({ developer: true })).toEqual(result('ru', 'dark', true))
      expect(await call({ language: 'en' })).toEqual(result('en', 'dark', true))
      expect(JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8'))).toEqual({
        language: 'en',
        theme: 'dark',
        developer: true,
      })
    } finally {
      await s.dispose()
    }
  })
})
