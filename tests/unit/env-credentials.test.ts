import { describe, expect, it } from 'vitest'
import {
  keepMaskedPassword,
  MASK,
  netrcText,
  redactChoices,
  redactText,
  redactUrls,
  secretStrings,
  splitChoiceCredentials,
  splitCredentials,
  StreamRedactor,
} from '../../core/env/credentials'
import { NO_MIRRORS } from '../../core/env/plan'
import { mirrorUrlProblem } from '../../core/env/settings-check'

describe('credentials in mirror, proxy and source URLs', () => {
  it('splits user and password off a URL, decoded, keeping the rest as typed', () => {
    expect(splitCredentials('https://alice:p%40ss%20w0rd@mirror.example.com:8443/simple/')).toEqual({
      url: 'https://mirror.example.com:8443/simple/',
      credential: {
        origin: 'https://mirror.example.com:8443',
        hostname: 'mirror.example.com',
        username: 'alice',
        password: 'p@ss w0rd',
      },
    })
    expect(splitCredentials('https://ghp_TOKEN123@github.com/me/sd-scripts.git')).toMatchObject({
      url: 'https://github.com/me/sd-scripts.git',
      credential: { username: 'ghp_TOKEN123', password: '' },
    })
    expect(splitCredentials('https://pypi.org/simple')).toEqual({
      url: 'https://pypi.org/simple',
      credential: null,
    })
    expect(splitCredentials('not a url')).toEqual({ url: 'not a url', credential: null })
    expect(splitCredentials('/home/иван/sd-scripts')).toEqual({
      url: '/home/иван/sd-scripts',
      credential: null,
    })
  })

  it('redacts passwords (and bare tokens in http URLs) anywhere in a text', () => {
    const text =
      'Looking in indexes: https://alice:s3cret@mirror.example.com/simple\n' +
      'proxy http://bob:hunter2@10.0.0.1:3128 and git https://ghp_abc@github.com/x.git and ssh://git@github.com/x'
    expect(redactUrls(text)).toBe(
      'Looking in indexes: https://alice:****@mirror.example.com/simple\n' +
        'proxy http://bob:****@10.0.0.1:3128 and git https://****@github.com/x.git and ssh://git@github.com/x',
    )
    expect(redactText('password is s3cret, encoded p%40ss', ['s3cret', 'p%40ss'])).toBe(
      `password is ${MASK}, encoded ${MASK}`,
    )
  })

  it('secrets: passwords raw and percent-encoded, tokens given as user names, nothing trivially short', () => {
    const c = (username: string, password: string) => ({
      origin: 'https://h',
      hostname: 'h',
      username,
      password,
    })
    expect(secretStrings([c('alice', 'p@ss word')])).toEqual(['p%40ss%20word', 'p@ss word'])
    expect(secretStrings([c('ghp_token', '')])).toEqual(['ghp_token'])
    expect(secretStrings([c('a', 'xy')])).toEqual([])
  })

  it('a stream redactor catches a secret split across chunks, and passes other text through at once', () => {
    const r = new StreamRedactor(['hunter2'])
    let out = ''
    out += r.push('auth with hun')
    expect(out).toBe('auth with ') // "hun" may start the secret: held back
    out += r.push('ter2 done\n')
    out += r.push('next line, nothing held\n')
    expect(out).toBe(`auth with ${MASK} done\nnext line, nothing held\n`)
    // A URL cut inside its user info is held until it is complete.
    out = r.push('GET https://bob:pa') + r.push('ss@host/x\n') + r.flush()
    expect(out).toBe('GET https://bob:****@host/x\n')
    // Every split point of a line gives the same redacted line.
    const line = 'x https://u:topsecret@m/simple y hunter2 z\n'
    for (let i = 0; i <= line.length; i++) {
      const s = new StreamRedactor(['topsecret', 'hunter2'])
      const got = s.push(line.slice(0, i)) + s.push(line.slice(i)) + s.flush()
      expect(got).toBe(`x https://u:${MASK}@m/simple y ${MASK} z\n`)
    }
  })

  it('netrc: one machine per host, values with spaces quoted, empty ones written as ""', () => {
    expect(
      netrcText([
        { origin: 'https://m', hostname: 'm', username: 'alice', password: 's3cret' },
        { origin: 'http://m:8080', hostname: 'm', username: 'other', password: 'x' },
        { origin: 'https://g', hostname: 'g', username: 'ghp_t', password: '' },
        { origin: 'https://q', hostname: 'q', username: 'a b', password: 'say "hi"' },
      ]),
    ).toBe(
      'machine m login alice password s3cret\nmachine g login ghp_t password ""\nmachine q login "a b" password "say \\"hi\\""\n',
    )
    expect(netrcText([])).toBe('')
  })

  it('choices: plans get URLs without credentials; the commands get the credentials and the proxy', () => {
    const choices = {
      torch: 'auto' as const,
      installer: 'uv' as const,
      source: 'https://tok3n@git.example.com/sd-scripts.git',
      mirrors: {
        ...NO_MIRRORS,
        pypiIndex: 'https://alice:s3cret@pypi.example.com/simple',
        proxy: 'http://bob:hunter2@proxy:3128',
      },
    }
    const { clean, credentials, proxy } = splitChoiceCredentials(choices)
    expect(clean.source).toBe('https://git.example.com/sd-scripts.git')
    expect(clean.mirrors.pypiIndex).toBe('https://pypi.example.com/simple')
    expect(JSON.stringify(clean)).not.toMatch(/s3cret|hunter2|tok3n/)
    expect(credentials.map((c) => c.hostname)).toEqual(['git.example.com', 'pypi.example.com'])
    expect(proxy).toBe('http://bob:hunter2@proxy:3128')
    expect(JSON.stringify(redactChoices(choices))).not.toMatch(/s3cret|hunter2|tok3n/)
  })

  it('a masked value saved back keeps the stored password; an edited one is taken as typed', () => {
    const stored = 'https://alice:s3cret@pypi.example.com/simple'
    expect(keepMaskedPassword('https://alice:****@pypi.example.com/simple', stored)).toBe(stored)
    // The path changed: the password stays, the new path is taken.
    expect(keepMaskedPassword('https://alice:****@pypi.example.com/other', stored)).toBe(
      'https://alice:s3cret@pypi.example.com/other',
    )
    // Another host or user must never receive the stored password.
    expect(keepMaskedPassword('https://alice:****@evil.example.com/simple', stored)).toBe(
      'https://alice:****@evil.example.com/simple',
    )
    expect(keepMaskedPassword('https://mallory:****@pypi.example.com/simple', stored)).toBe(
      'https://mallory:****@pypi.example.com/simple',
    )
    expect(keepMaskedPassword('https://alice:newpass@pypi.example.com/simple', stored)).toBe(
      'https://alice:newpass@pypi.example.com/simple',
    )
    expect(keepMaskedPassword('https://alice:****@pypi.example.com/simple', null)).toBe(
      'https://alice:****@pypi.example.com/simple',
    )
    const token = 'https://ghp_abc@git.example.com/x.git'
    expect(keepMaskedPassword('https://****@git.example.com/x.git', token)).toBe(token)
  })

  it('settings errors never echo a password', () => {
    const problem = mirrorUrlProblem('pypiIndex', 'ftp://alice:s3cret@mirror/simple', 'linux')!
    expect(problem.message).toContain('ftp://alice:****@mirror/simple')
    // The parameters are what the UI shows in its language: no password there either.
    expect(JSON.stringify(problem)).not.toContain('s3cret')
    expect(mirrorUrlProblem('proxy', 'my proxy', 'linux')?.message).toMatch(
      /proxy is not a web address.*http:\/\/proxy\.example\.com:3128/,
    )
    expect(mirrorUrlProblem('pythonMirror', 'http://m/ x', 'linux')?.message).toMatch(
      /space or a control character/,
    )
  })
})
