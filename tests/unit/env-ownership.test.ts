import { describe, expect, it } from 'vitest'
import {
  classifyFolder,
  installEntryNames,
  isTransientOfOurs,
  MANIFEST_FILE,
  splitEntries,
  type EnvManifest,
} from '../../core/env/ownership'

const manifest = (entries: string[]): EnvManifest => ({
  schema: 1,
  app: 'sdxl-studio',
  name: 'default',
  createdRoot: true,
  entries,
  createdAt: 1,
})

describe("environment folders: ours or the user's", () => {
  it('the names an install creates come from the layout', () => {
    expect(installEntryNames()).toEqual(
      expect.arrayContaining([
        'sd-scripts',
        'venv',
        'logs',
        'install-state.json',
        'hf_home',
        'tokenizers',
        'downloads',
        MANIFEST_FILE,
      ]),
    )
    expect(installEntryNames()).not.toContain('accelerate')
  })

  it('classifies: absent, a file, empty, ours (manifest or an older install record), foreign', () => {
    const base = {
      exists: true,
      isDirectory: true,
      entries: [] as string[],
      manifest: null,
      hasInstallRecord: false,
    }
    expect(classifyFolder({ ...base, exists: false })).toEqual({ kind: 'absent' })
    expect(classifyFolder({ ...base, isDirectory: false })).toEqual({ kind: 'not_a_folder' })
    expect(classifyFolder(base)).toEqual({ kind: 'empty' })
    expect(classifyFolder({ ...base, entries: ['.sdxl-studio-write-test-abc123'] })).toEqual({
      kind: 'empty',
    })
    const m = manifest([MANIFEST_FILE])
    expect(classifyFolder({ ...base, entries: [MANIFEST_FILE, 'x'], manifest: m })).toEqual({
      kind: 'ours',
      manifest: m,
    })
    expect(classifyFolder({ ...base, entries: ['install-state.json'], hasInstallRecord: true })).toEqual({
      kind: 'ours',
      manifest: null,
    })
    expect(classifyFolder({ ...base, entries: ['venv', 'sd-scripts', 'Мои фото'] })).toEqual({
      kind: 'foreign',
      entries: ['sd-scripts', 'venv', 'Мои фото'],
    })
  })

  it('our atomic-write leftovers are ours; look-alikes of other names are not', () => {
    expect(isTransientOfOurs('.install-state.json.1234.deadbeef.tmp')).toBe(true)
    expect(isTransientOfOurs(`.${MANIFEST_FILE}.99.0a1b2c3d.tmp`)).toBe(true)
    expect(isTransientOfOurs('.thesis.docx.1234.deadbeef.tmp')).toBe(false)
    expect(isTransientOfOurs('install-state.json.tmp')).toBe(false)
  })

  it('splits a folder into what the install created and the rest', () => {
    const m = manifest([MANIFEST_FILE, 'logs', 'sd-scripts', 'venv'])
    expect(splitEntries(['venv', 'logs', 'sd-scripts', MANIFEST_FILE, 'notes.txt', 'downloads'], m)).toEqual({
      ours: [MANIFEST_FILE, 'logs', 'sd-scripts', 'venv'],
      // "downloads" is a name installs use, but this install did not create it.
      foreign: ['downloads', 'notes.txt'],
    })
    // An older install (no manifest): the names an install creates count as ours.
    expect(splitEntries(['venv', 'install-state.json', 'my-lora.safetensors'], null)).toEqual({
      ours: ['install-state.json', 'venv'],
      foreign: ['my-lora.safetensors'],
    })
  })
})
