import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  cmdLauncher,
  commandText,
  launchers,
  posixLauncher,
  powershellLauncher,
  powershellLine,
  type LaunchSpec,
} from '../../core/sdscripts/launcher'
import { commandLine, quoteCmd, quotePowerShell } from '../../core/sdscripts/quote'

/*
 * The Windows shells cannot run here, so their rules are written down as small parsers (from their
 * documentation) and every quoted line must parse back to exactly the arguments it was made from.
 * POSIX lines run through a real bash in tests/integration/export-launch.test.ts.
 */

/** The arguments a user types or that paths hold, at their most hostile. */
const HOSTILE = [
  'plain',
  '',
  ' ',
  'two words',
  "it's",
  'say "hi"',
  '$(touch pwned)',
  '`touch pwned`',
  '$env:USERPROFILE',
  '${HOME}',
  '%PATH%',
  '%%',
  '100%',
  '!VAR!',
  'wow!',
  '^caret^',
  'a&b|c<d>e',
  '(paren)',
  'a,b',
  'semi;colon',
  'C:\\Users\\Кошка\\папка с пробелом\\',
  'C:\\path with\\trailing\\\\',
  'ends\\"quote',
  '‘smart’ ‚quotes‛',
  '--lr=1e-4',
  '-1.5',
  'tab\there',
  'emoji 🐈',
  '*?[x]',
  '#hash',
  '@splat',
  '=eq',
]

/** PowerShell: `& 'a' b 'c''d'`: single-quoted strings (a doubled quote is one quote) and bare words. */
function parsePowerShellCall(line: string): string[] {
  const isQuote = (c: string | undefined) => c !== undefined && "'\u2018\u2019\u201a\u201b".includes(c)
  expect(line.startsWith('& ')).toBe(true)
  const out: string[] = []
  let i = 2
  while (i < line.length) {
    if (line[i] === ' ') {
      i++
      continue
    }
    if (isQuote(line[i])) {
      let s = ''
      i++
      for (;;) {
        if (i >= line.length) throw new Error(`unterminated string in ${line}`)
        const c = line[i]!
        if (isQuote(c)) {
          if (isQuote(line[i + 1])) {
            s += c
            i += 2
            continue
          }
          i++
          break
        }
        s += c
        i++
      }
      out.push(s)
    } else {
      let s = ''
      while (i < line.length && line[i] !== ' ') {
        // A bare word may hold nothing PowerShell would expand or split.
        expect(line[i], `special ${line[i]} in a bare word of ${line}`).toMatch(/[A-Za-z0-9_\-+=.\\/:]/)
        s += line[i]
        i++
      }
      out.push(s)
    }
  }
  return out
}

/**
 * One line of a .cmd file as cmd.exe reads it: %% → % (a lone % would expand a variable), then
 * carets escape the next character outside quotes, and an unescaped & | < > would split the command.
 */
function cmdBatchLine(line: string): string {
  let expanded = ''
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '%') {
      if (line[i + 1] !== '%') throw new Error(`a lone % would expand a variable: ${line}`)
      expanded += '%'
      i++
    } else expanded += line[i]
  }
  let out = ''
  let quoted = false
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i]!
    if (c === '"') quoted = !quoted
    if (!quoted && c === '^') {
      out += expanded[i + 1] ?? ''
      i++
      continue
    }
    if (!quoted && '&|<>'.includes(c)) throw new Error(`unescaped ${c} splits the command: ${line}`)
    out += c
  }
  return out
}

/** How a Windows program (the C runtime, CommandLineToArgvW, Python) splits its command line. */
function parseWindowsArgs(line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++
    if (i >= line.length) break
    let arg = ''
    let quoted = false
    while (i < line.length) {
      const c = line[i]!
      if (!quoted && (c === ' ' || c === '\t')) break
      if (c === '\\') {
        let n = 0
        while (line[i] === '\\') {
          n++
          i++
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2))
          if (n % 2 === 1) {
            arg += '"'
            i++
          }
        } else arg += '\\'.repeat(n)
        continue
      }
      if (c === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"'
          i += 2
          continue
        }
        quoted = !quoted
        i++
        continue
      }
      arg += c
      i++
    }
    out.push(arg)
  }
  return out
}

describe('PowerShell quoting', () => {
  it('every hostile argument comes back exactly, and nothing expands', () => {
    const line = commandLine(['C:\\venv\\python.exe', ...HOSTILE], 'powershell')
    expect(parsePowerShellCall(line)).toEqual(['C:\\venv\\python.exe', ...HOSTILE])
    expect(quotePowerShell('$(calc)')).toBe("'$(calc)'")
    expect(quotePowerShell("O'Brien")).toBe("'O''Brien'")
    expect(quotePowerShell('a,b')).toBe("'a,b'")
    expect(quotePowerShell('C:\\sd\\x.py')).toBe('C:\\sd\\x.py')
  })

  it('any string round-trips (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 6 }), (args) => {
        expect(parsePowerShellCall(commandLine(args, 'powershell'))).toEqual(args)
      }),
      { numRuns: 500 },
    )
  })
})

describe('cmd.exe quoting (a line of train.cmd)', () => {
  it('every hostile argument reaches the program exactly', () => {
    const args = ['C:\\venv\\Scripts\\python.exe', ...HOSTILE.filter((a) => !a.includes('\t'))]
    const line = commandLine(args, 'cmd')
    expect(parseWindowsArgs(cmdBatchLine(line))).toEqual(args)
    expect(quoteCmd('%PATH%')).toBe('^"%%PATH%%^"')
    expect(quoteCmd('a&b')).toBe('^"a^&b^"')
  })

  it('any string without a line break round-trips (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary' }).filter((s) => !/[\r\n\t]/.test(s) && !s.includes('\0')),
          { minLength: 1, maxLength: 6 },
        ),
        (args) => {
          expect(parseWindowsArgs(cmdBatchLine(commandLine(args, 'cmd')))).toEqual(args)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('a line break cannot be written on a cmd line: refused, not mangled', () => {
    expect(() => quoteCmd('two\nlines')).toThrow(/line break/)
  })
})

describe('launchers and command.txt', () => {
  const spec: LaunchSpec = {
    argv: [
      'C:\\env\\venv\\Scripts\\python.exe',
      'C:\\env\\sd-scripts\\sdxl_train_network.py',
      '--config_file',
      "C:\\runs\\O'Brien 100%\\config.toml",
    ],
    cwd: 'C:\\env\\sd-scripts',
    env: { HF_HOME: 'C:\\env\\hf_home', HF_HUB_OFFLINE: '1', PYTHONUTF8: '1' },
    title: 'sdxl_train_network.py in "default"',
  }

  it('PowerShell: Set-Location, $env: variables, the call, its exit code', () => {
    const ps = powershellLauncher(spec)
    expect(ps).toContain('Set-Location -LiteralPath C:\\env\\sd-scripts\r\n')
    expect(ps).toContain('$env:HF_HOME = C:\\env\\hf_home\r\n')
    expect(ps).toContain('$env:HF_HUB_OFFLINE = 1\r\n')
    expect(ps).toContain("'C:\\runs\\O''Brien 100%\\config.toml'")
    expect(ps.trimEnd().endsWith('exit $LASTEXITCODE')).toBe(true)
    const call = ps.split('\r\n').find((l) => l.startsWith('& '))!
    expect(parsePowerShellCall(call)).toEqual(spec.argv)
    expect(powershellLine(spec)).toMatch(/^Set-Location -LiteralPath .*; \$env:HF_HOME = .*; & /)
  })

  it('cmd: delayed expansion off, set "VAR=value" with %% doubled, the escaped call', () => {
    const cmd = cmdLauncher({ ...spec, env: { ...spec.env, ODD: 'a%b&c' } })
    const lines = cmd.split('\r\n')
    expect(lines).toContain('setlocal DisableDelayedExpansion')
    expect(lines).toContain('set "ODD=a%%b&c"')
    const call = lines.find((l) => l.includes('python.exe'))!
    expect(parseWindowsArgs(cmdBatchLine(call))).toEqual(spec.argv)
    expect(lines.at(-2)).toBe('exit /b %ERRORLEVEL%')
  })

  it('a POSIX launcher: cd, exports, exec', () => {
    const sh = posixLauncher({ ...spec, argv: ['/v/bin/python', "/runs/it's/x.py"], cwd: '/sd scripts' })
    expect(sh.split('\n').slice(0, 1)).toEqual(['#!/bin/sh'])
    expect(sh).toContain("cd '/sd scripts'\n")
    expect(sh).toContain("export HF_HOME='C:\\env\\hf_home'\n")
    expect(sh).toContain(`exec /v/bin/python '/runs/it'\\''s/x.py'\n`)
  })

  it('which files each platform gets; command.txt is one line for bash, PowerShell on Windows', () => {
    expect(Object.keys(launchers(spec, 'posix'))).toEqual(['train.sh'])
    expect(Object.keys(launchers(spec, 'windows'))).toEqual(['train.ps1', 'train.cmd'])
    // A value cmd.exe cannot hold: no train.cmd, PowerShell still carries the run.
    expect(Object.keys(launchers({ ...spec, env: { X: 'a\nb' } }, 'windows'))).toEqual(['train.ps1'])
    expect(commandText(spec, 'posix').split('\n').filter(Boolean)).toHaveLength(1)
    expect(commandText(spec, 'windows')).toContain('# PowerShell (cmd.exe: run train.cmd):')
  })

  it('refuses a variable name a shell could not set', () => {
    expect(() => posixLauncher({ ...spec, env: { 'BAD NAME': '1' } })).toThrow(
      /not a valid environment variable/i,
    )
    expect(() => posixLauncher({ ...spec, env: { 'X;rm': '1' } })).toThrow()
  })
})
