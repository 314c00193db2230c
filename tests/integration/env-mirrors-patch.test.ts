import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MirrorsPatch } from '../../core/env/plan'
import { runCliCaptured } from '../helpers/cli'

/*
 * Changing one mirror leaves the others alone. Mirrors.partial() used to fill every field left out
 * with its default (null), so `env settings --index-url X` cleared the torch index, and a resume with
 * a new PyPI mirror planned torch from the default index instead of the user's.
 */
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'env-mirrors-patch-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describe('mirror changes are patches', () => {
  it('a field left out is left out (null is an explicit "back to the default")', () => {
    expect(MirrorsPatch.parse({ pypiIndex: 'https://m.example/simple' })).toEqual({
      pypiIndex: 'https://m.example/simple',
    })
    expect(MirrorsPatch.parse({ torchIndex: null })).toEqual({ torchIndex: null })
  })

  it('env settings --index-url keeps the torch index and the Hugging Face endpoint', async () => {
    const set = await runCliCaptured(
      [
        'env',
        'settings',
        '--torch-index-url',
        'https://pypi.example/simple',
        '--hf-endpoint',
        'https://hf.example',
      ],
      dataDir,
    )
    expect(set.code, set.stderr).toBe(0)
    const more = await runCliCaptured(
      ['env', 'settings', '--index-url', 'https://mirror.example/simple', '--json'],
      dataDir,
    )
    expect(more.code, more.stderr).toBe(0)
    expect(JSON.parse(more.stdout)).toMatchObject({
      mirrors: {
        pypiIndex: 'https://mirror.example/simple',
        torchIndex: 'https://pypi.example/simple',
        hfEndpoint: 'https://hf.example',
      },
    })
    const cleared = await runCliCaptured(['env', 'settings', '--torch-index-url', '', '--json'], dataDir)
    expect(JSON.parse(cleared.stdout)).toMatchObject({
      mirrors: {
        pypiIndex: 'https://mirror.example/simple',
        torchIndex: null,
        hfEndpoint: 'https://hf.example',
      },
    })
  })
})
