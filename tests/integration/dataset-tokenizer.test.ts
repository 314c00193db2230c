// Caption token counts with CLIP's real vocabulary: the merges list built from the open-clip-torch
// wheel (as the environment tests do), against token ids transformers' CLIPTokenizer (with ftfy, as
// sd-scripts installs) produced for the same texts (tests/fixtures/dataset/clip-golden.json).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createClipTokenizer, estimateTokens } from '../../core/dataset/clip-tokenizer'
import { openClipWheelOrNull } from '../helpers/open-clip-wheel'
import { realPython, repoRoot, sharedCache } from './env-helpers'

const golden = JSON.parse(
  readFileSync(path.join(repoRoot, 'tests/fixtures/dataset/clip-golden.json'), 'utf8'),
) as {
  cases: Array<{ text: string; ids: number[] }>
}
const wheel = openClipWheelOrNull(realPython(), path.join(sharedCache, 'wheels'), {
  ...process.env,
  PIP_CACHE_DIR: path.join(sharedCache, 'pip'),
})
if (!wheel)
  console.warn(
    'SKIP CLIP tokenizer test: the open-clip-torch==3.3.0 wheel could not be downloaded from PyPI.',
  )
const work = mkdtempSync(path.join(os.tmpdir(), 'clip-tok-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe.skipIf(!wheel)('CLIP tokenizer', () => {
  const dir = path.join(work, 'openai_clip-vit-large-patch14')
  const load = () => {
    execFileSync(realPython(), [
      path.join(repoRoot, 'resources/env/make_tokenizers.py'),
      '--source',
      wheel!,
      '--out',
      work,
    ])
    return createClipTokenizer(
      readFileSync(path.join(dir, 'merges.txt'), 'utf8'),
      JSON.parse(readFileSync(path.join(dir, 'vocab.json'), 'utf8')) as Record<string, number>,
    )
  }

  it('gives the token ids transformers gives, for tags, sentences, Cyrillic, CJK, emoji, entities', () => {
    const tok = load()
    for (const c of golden.cases) {
      expect(tok.encode(c.text), c.text).toEqual(c.ids)
      expect(tok.count(c.text)).toBe(c.ids.length - 2)
    }
  })

  it('refuses a file that is not CLIP merges', () => {
    expect(() => createClipTokenizer('#version: 0.2\na b\n')).toThrow(/merges/)
  })

  it('estimates within a third of the real count without the vocabulary', () => {
    for (const c of golden.cases.filter((x) => x.ids.length > 12)) {
      const real = c.ids.length - 2
      expect(Math.abs(estimateTokens(c.text) - real) / real, c.text).toBeLessThan(0.34)
    }
  })
})
