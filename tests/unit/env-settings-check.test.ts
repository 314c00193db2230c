import { describe, expect, it } from 'vitest'
import { mirrorUrlProblem, sourceFolderMessage, sourceIsFolder } from '../../core/env/settings-check'

describe('env settings checks', () => {
  it('accepts http and https mirrors, with or without surrounding spaces', () => {
    expect(mirrorUrlProblem('pypiIndex', 'https://mirror.example.com/simple')).toBeNull()
    expect(mirrorUrlProblem('torchIndex', ' http://10.0.0.5:8080/whl ')).toBeNull()
  })

  it('names the field and the value when a mirror is not a web address', () => {
    expect(mirrorUrlProblem('hfEndpoint', 'hf-mirror')).toMatchObject({
      code: 'mirror_not_url',
      params: { field: 'hfEndpoint', value: 'hf-mirror' },
      message: expect.stringMatching(/^The Hugging Face endpoint is not a web address: "hf-mirror"/),
    })
    expect(mirrorUrlProblem('pypiIndex', 'ftp://mirror.example.com/simple')).toMatchObject({
      code: 'mirror_scheme',
      params: { field: 'pypiIndex', scheme: 'ftp:' },
      message: expect.stringMatching(/PyPI index must start with http:\/\/ or https:\/\/, not "ftp:"/),
    })
  })

  it('quotes a very long value shortened, so the message under the field stays readable', () => {
    const p = mirrorUrlProblem('proxy', 'x'.repeat(10_000))!
    expect(p.params.value).toBe(`${'x'.repeat(200)}…`)
    expect(p.message.length).toBeLessThan(400)
  })

  it('treats git URLs as URLs and everything else as a folder to check on disk', () => {
    expect(sourceIsFolder('https://github.com/kohya-ss/sd-scripts.git')).toBe(false)
    expect(sourceIsFolder('git@github.com:kohya-ss/sd-scripts.git')).toBe(false)
    expect(sourceIsFolder('/home/me/sd-scripts')).toBe(true)
    expect(sourceIsFolder('D:\\sd-scripts')).toBe(true)
    expect(sourceFolderMessage('/x', 'missing').message).toContain(
      'neither a git URL nor an existing folder: "/x"',
    )
    expect(sourceFolderMessage('/x/a.txt', 'not-a-folder').message).toContain('is a file, not a folder')
  })
})

describe('mirror and proxy values a user may type', () => {
  it('hostile values are refused with the field named; real addresses (IDN too) pass', () => {
    for (const field of ['pypiIndex', 'pythonMirror', 'proxy'] as const) {
      for (const v of [
        '0',
        '-1',
        '1.5',
        '1e-4',
        'text',
        '',
        ' ',
        'зеркало',
        `https://m/${'\n'}x`,
        'file:///etc/passwd',
      ]) {
        expect(mirrorUrlProblem(field, v), `${field} ${JSON.stringify(v)}`).not.toBeNull()
      }
      expect(mirrorUrlProblem(field, 'https://зеркало.рф/simple')).toBeNull()
      expect(mirrorUrlProblem(field, `https://m.example/${'a'.repeat(5000)}`)).toBeNull()
    }
  })
})
