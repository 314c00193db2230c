import { describe, expect, it } from 'vitest'
import { openDialogOptions, pickResult } from '../../electron/main/pick-dialog'

describe('openDialogOptions', () => {
  it('folder mode opens directories and ignores filters', () => {
    expect(
      openDialogOptions({
        kind: 'folder',
        title: 'Choose a folder',
        defaultPath: '/data/img',
        filters: [{ name: 'x', extensions: ['png'] }],
      }),
    ).toEqual({
      properties: ['openDirectory', 'createDirectory'],
      title: 'Choose a folder',
      defaultPath: '/data/img',
    })
  })

  it('file mode offers the filters, then All files', () => {
    expect(
      openDialogOptions({ kind: 'file', filters: [{ name: 'Models', extensions: ['safetensors', 'ckpt'] }] }),
    ).toEqual({
      properties: ['openFile'],
      filters: [
        { name: 'Models', extensions: ['safetensors', 'ckpt'] },
        { name: 'All files', extensions: ['*'] },
      ],
    })
  })

  it('a blank default path is left out (the OS picks its own start)', () => {
    expect(openDialogOptions({ kind: 'file', defaultPath: '  ' })).toEqual({ properties: ['openFile'] })
  })
})

describe('pickResult', () => {
  it('gives the chosen path, or null when cancelled', () => {
    expect(pickResult({ canceled: false, filePaths: ['/m/a.safetensors'] })).toEqual({
      path: '/m/a.safetensors',
    })
    expect(pickResult({ canceled: true, filePaths: [] })).toEqual({ path: null })
    expect(pickResult({ canceled: false, filePaths: [] })).toEqual({ path: null })
  })
})
