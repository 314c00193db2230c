import { describe, expect, it } from 'vitest'
import { plan, type PlanInput } from '../../core/env/plan'
import { sourceSyntaxProblem } from '../../core/env/settings-check'
import { isGitUrl, parseSource } from '../../core/env/source'

function planWith(source: string, gitAvailable = true) {
  const input: PlanInput = {
    version: 'v0.10.1',
    os: 'linux',
    pythonCandidates: [{ path: '/usr/bin/python3.11', version: '3.11.9' }],
    uvOnPath: '/usr/bin/uv',
    gitAvailable,
    gpu: null,
    resourcesDir: '/opt/app/resources',
    choices: { torch: 'cpu', envDir: '/home/u/envs/default', source },
  }
  return plan(input)
}

/** Sources that git would read as an option or as a command-running transport. */
const HOSTILE: Array<[string, string]> = [
  ['-ux@y:;touch /tmp/pwned;', 'leading_dash'],
  ['--upload-pack=touch /tmp/pwned', 'leading_dash'],
  ['-c', 'leading_dash'],
  ['--', 'leading_dash'],
  ['-1', 'leading_dash'],
  ['ext::sh -c touch% /tmp/pwned', 'scheme'],
  ['ext::sh', 'scheme'],
  ['fd::17', 'scheme'],
  ['https::github.com/kohya-ss/sd-scripts', 'scheme'],
  ['javascript://x/%0atouch', 'scheme'],
  ['ssh://-oProxyCommand=touch%20pwned/x', 'leading_dash'],
  ['ssh://-oProxyCommand=x@github.com/kohya-ss/sd-scripts', 'leading_dash'],
  ['  https://github.com/kohya-ss/sd-scripts.git', 'surrounding_space'],
  ['https://github.com/kohya-ss/sd-scripts.git ', 'surrounding_space'],
  ['https://github.com/x/y.git\n--upload-pack=touch /tmp/pwned', 'control_chars'],
  ['https://github.com/x/y.git\r', 'control_chars'],
  ['/srv/sd-scripts\u0000x', 'control_chars'],
  ['https://github.com/my repo.git', 'url_space'],
  ['ssh:///no-host', 'bad_url'],
  ['', 'empty'],
  ['   ', 'empty'],
]

describe('sd-scripts source: never an option, never a command', () => {
  for (const [source, problem] of HOSTILE) {
    it(`refuses ${JSON.stringify(source)} (${problem}), before any plan is made`, () => {
      const parsed = parseSource(source)
      expect(parsed).toMatchObject({ kind: 'invalid', problem })
      expect(isGitUrl(source)).toBe(false)
      for (const git of source === '' ? [] : [true, false]) {
        const r = planWith(source, git)
        expect(r.ok).toBe(false)
        if (!r.ok) {
          expect(r.error.kind).toBe('bad_source')
          expect(r.error.message).toMatch(/sd-scripts (source|URL)/)
        }
      }
      // The settings check says the same, for the Settings page (which trims what the user typed).
      if (problem !== 'surrounding_space' && !source.endsWith('\r'))
        expect(sourceSyntaxProblem(source)).not.toBeNull()
      else expect(sourceSyntaxProblem(source)).toBeNull()
    })
  }

  it('accepts the URL forms git uses for real repositories, and puts "--" before them', () => {
    for (const url of [
      'https://github.com/kohya-ss/sd-scripts.git',
      'http://10.0.0.5:3000/mirror/sd-scripts',
      'HTTPS://GitHub.com/kohya-ss/sd-scripts',
      'ssh://git@github.com/kohya-ss/sd-scripts.git',
      'ssh://git@git.example.com:2222/ai/sd-scripts.git',
      'git://git.example.com/sd-scripts.git',
      'file:///srv/git/sd-scripts.git',
      'git@github.com:kohya-ss/sd-scripts.git',
      'deploy_bot@git.example.com:~/sd-scripts.git',
      'https://гит.пример.рф/ai/sd-scripts.git',
      'https://user:token@git.example.com/ai/sd-scripts.git',
    ]) {
      expect(parseSource(url), url).toEqual({ kind: 'url', url })
      const r = planWith(url)
      if (!r.ok) throw new Error(r.error.message)
      const clone = r.plan.steps.find((s) => s.id === 'source')!.commands[1]!
      expect(clone.kind === 'run' && clone.argv.slice(-3)).toEqual([
        '--',
        url,
        '/home/u/envs/default/sd-scripts',
      ])
    }
  })

  it('scp-like sources: user@host:path only, with a path that cannot be an option', () => {
    expect(parseSource('git@github.com:-oProxyCommand=x')).toMatchObject({ kind: 'folder' })
    expect(parseSource('git@github.com://x')).toMatchObject({ kind: 'folder' })
    expect(parseSource('github.com:kohya-ss/sd-scripts.git')).toMatchObject({ kind: 'folder' })
    expect(parseSource('git@github.com:a;b')).toMatchObject({ kind: 'folder' })
    expect(parseSource('-git@github.com:kohya-ss/sd-scripts')).toMatchObject({
      kind: 'invalid',
      problem: 'leading_dash',
    })
  })

  it('anything else is a folder (the service checks that it exists): Windows, Cyrillic, numbers, long names', () => {
    for (const folder of [
      '/home/иван/sd-scripts',
      'C:\\Users\\Иван\\sd-scripts',
      'C:/AI/sd-scripts',
      '\\\\server\\share\\sd-scripts',
      './-weird',
      '0',
      '1.5',
      '1e-4',
      'x'.repeat(5000),
    ]) {
      expect(parseSource(folder), folder).toEqual({ kind: 'folder', path: folder })
    }
    // Without git a folder is copied; with git it is cloned, after "--".
    const copy = planWith('/home/иван/sd-scripts', false)
    if (!copy.ok) throw new Error(copy.error.message)
    expect(copy.plan.steps.find((s) => s.id === 'source')!.commands).toContainEqual({
      kind: 'copy-tree',
      from: '/home/иван/sd-scripts',
      to: '/home/u/envs/default/sd-scripts',
    })
  })

  it('messages quote the source, shortened when it is very long', () => {
    const long = `-${'a'.repeat(5000)}`
    const p = parseSource(long)
    expect(p.kind === 'invalid' && p.message.length).toBeLessThan(700)
  })
})
