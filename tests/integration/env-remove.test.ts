import { existsSync, mkdirSync, promises as fs, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MANIFEST_FILE } from '../../core/env/ownership'
import {
  claimFolder,
  FolderNotOursError,
  inspectFolder,
  recordCreated,
  removeOwned,
} from '../../electron/services/env/ownership'
import { tempDir } from './env-helpers'

let root: string
beforeAll(() => {
  root = tempDir('remove')
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

/** A folder claimed by an install that created sd-scripts, venv and logs, next to a user's folder. */
async function installed(name: string, opts: { preexisting?: boolean } = {}) {
  const dir = path.join(root, name, 'env')
  if (opts.preexisting) mkdirSync(dir, { recursive: true })
  await claimFolder(dir, name)
  for (const d of ['sd-scripts', 'venv', 'logs']) mkdirSync(path.join(dir, d))
  writeFileSync(path.join(dir, 'install-state.json'), '{}')
  await recordCreated(dir)
  return dir
}

describe('remove deletes only what the install created', () => {
  it('confirmations are exact top-level names: paths, dots and unknown names delete nothing', async () => {
    const dir = await installed('names')
    const outside = path.join(root, 'names', 'my-dataset')
    mkdirSync(outside)
    writeFileSync(path.join(outside, 'img.png'), 'png')
    writeFileSync(path.join(dir, 'Мой файл.txt'), 'mine')
    const hostile = [
      '../my-dataset',
      '..',
      '.',
      '/',
      `${dir}/Мой файл.txt`,
      'мой файл.txt',
      'x'.repeat(5000),
      '0',
      '-1',
    ]
    const refused = await removeOwned(dir, { confirmForeign: hostile, legacyCreatedRoot: false })
    expect(refused).toEqual({ ok: false, foreign: ['Мой файл.txt'], unconfirmed: ['Мой файл.txt'] })
    expect(readdirSync(dir).sort()).toEqual(
      [MANIFEST_FILE, 'install-state.json', 'logs', 'sd-scripts', 'venv', 'Мой файл.txt'].sort(),
    )
    const ok = await removeOwned(dir, {
      confirmForeign: [...hostile, 'Мой файл.txt'],
      legacyCreatedRoot: false,
    })
    expect(ok).toMatchObject({ ok: true, folderDeleted: true })
    expect(existsSync(dir)).toBe(false)
    expect(readdirSync(outside)).toEqual(['img.png'])
  })

  it('a link the user put in place of venv is removed as a link: what it points to survives', async () => {
    const dir = await installed('link')
    const usersVenv = path.join(root, 'link', 'users-venv')
    mkdirSync(path.join(usersVenv, 'bin'), { recursive: true })
    writeFileSync(path.join(usersVenv, 'bin', 'python'), '#!/bin/sh\n')
    await fs.rm(path.join(dir, 'venv'), { recursive: true })
    symlinkSync(usersVenv, path.join(dir, 'venv'))
    expect(await removeOwned(dir, { confirmForeign: [], legacyCreatedRoot: false })).toMatchObject({
      ok: true,
    })
    expect(readdirSync(path.join(usersVenv, 'bin'))).toEqual(['python'])
  })

  it('a folder the user made stays (empty); an older install without a manifest counts only install names', async () => {
    const dir = await installed('users-own', { preexisting: true })
    expect(await removeOwned(dir, { confirmForeign: [], legacyCreatedRoot: false })).toMatchObject({
      ok: true,
      folderDeleted: false,
    })
    expect(readdirSync(dir)).toEqual([])

    const legacy = path.join(root, 'legacy', 'env')
    mkdirSync(path.join(legacy, 'venv'), { recursive: true })
    writeFileSync(path.join(legacy, 'install-state.json'), '{}')
    writeFileSync(path.join(legacy, 'lora.safetensors'), 'w')
    expect(await inspectFolder(legacy)).toEqual({ kind: 'ours', manifest: null })
    expect(await removeOwned(legacy, { confirmForeign: [], legacyCreatedRoot: true })).toMatchObject({
      ok: false,
      unconfirmed: ['lora.safetensors'],
    })
  })

  it("claiming refuses a folder with the user's files and a path that is a file", async () => {
    const users = path.join(root, 'claim', 'photos')
    mkdirSync(users, { recursive: true })
    writeFileSync(path.join(users, 'a.jpg'), 'jpg')
    await expect(claimFolder(users, 'x')).rejects.toBeInstanceOf(FolderNotOursError)
    expect(readdirSync(users)).toEqual(['a.jpg'])
    const file = path.join(root, 'claim', 'file.txt')
    writeFileSync(file, 'x')
    await expect(claimFolder(file, 'x')).rejects.toThrow(/is a file, not a folder/)
  })
})
