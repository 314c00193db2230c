import { commandLine, quoteCmd, quotePosix, quotePowerShell, type ShellFlavor } from './quote'

/**
 * What a training run is, for a shell: the command (argument array), the folder it runs in, and the
 * environment variables it is given. `config export` writes this as command.txt and as a launcher
 * script (train.sh, train.ps1, train.cmd), exactly as `run start` spawns it, so a run can be repeated
 * by hand without the app.
 */
export interface LaunchSpec {
  argv: readonly string[]
  cwd: string
  env: Readonly<Record<string, string>>
  /** One line saying what this is (the environment, the script), written as a comment. */
  title: string
}

/** Variable names a shell can set as written (every name we set is one). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

function names(env: LaunchSpec['env']): string[] {
  const keys = Object.keys(env).sort()
  const bad = keys.find((k) => !NAME.test(k))
  if (bad) throw new Error(`Not a valid environment variable name: ${JSON.stringify(bad)}`)
  return keys
}

/** A comment line that cannot end the comment early (a line break in a title would). */
const comment = (prefix: string, text: string) => `${prefix} ${text.replace(/[\r\n]+/g, ' ')}`

/** One line for bash/sh: `cd <dir> && VAR=value … <command>`. */
export function posixLine(spec: LaunchSpec): string {
  const vars = names(spec.env).map((k) => `${k}=${quotePosix(spec.env[k]!)}`)
  return [`cd ${quotePosix(spec.cwd)} &&`, ...vars, commandLine(spec.argv, 'posix')].join(' ')
}

/** One line for PowerShell: `Set-Location …; $env:VAR = …; & <command>`. */
export function powershellLine(spec: LaunchSpec): string {
  const vars = names(spec.env).map((k) => `$env:${k} = ${quotePowerShell(spec.env[k]!)};`)
  return [
    `Set-Location -LiteralPath ${quotePowerShell(spec.cwd)};`,
    ...vars,
    commandLine(spec.argv, 'powershell'),
  ].join(' ')
}

/** `set "VAR=value"` for a .cmd file: the quotes keep & | < > literal, % is doubled. */
function cmdSet(name: string, value: string): string {
  if (/["\r\n]/.test(value))
    throw new Error(`${name} cannot be set in a cmd.exe file: its value has a quote or line break.`)
  return `set "${name}=${value.replace(/%/g, '%%')}"`
}

export function posixLauncher(spec: LaunchSpec): string {
  return [
    '#!/bin/sh',
    comment('#', spec.title),
    '# Written by SDXL Studio (config export): the same command, folder and variables as `run start`.',
    'set -e',
    `cd ${quotePosix(spec.cwd)}`,
    ...names(spec.env).map((k) => `export ${k}=${quotePosix(spec.env[k]!)}`),
    `exec ${commandLine(spec.argv, 'posix')}`,
    '',
  ].join('\n')
}

export function powershellLauncher(spec: LaunchSpec): string {
  return [
    comment('#', spec.title),
    '# Written by SDXL Studio (config export): the same command, folder and variables as `run start`.',
    "$ErrorActionPreference = 'Stop'",
    `Set-Location -LiteralPath ${quotePowerShell(spec.cwd)}`,
    ...names(spec.env).map((k) => `$env:${k} = ${quotePowerShell(spec.env[k]!)}`),
    commandLine(spec.argv, 'powershell'),
    'exit $LASTEXITCODE',
    '',
  ].join('\r\n')
}

export function cmdLauncher(spec: LaunchSpec): string {
  return [
    '@echo off',
    // Delayed expansion would read ! in paths as a variable; the command line below is escaped without it.
    'setlocal DisableDelayedExpansion',
    comment('rem', spec.title.replace(/[%^&|<>"]/g, ' ')),
    'rem Written by SDXL Studio (config export): the same command, folder and variables as `run start`.',
    `cd /d ${quoteCmd(spec.cwd)}`,
    ...names(spec.env).map((k) => cmdSet(k, spec.env[k]!)),
    spec.argv.map(quoteCmd).join(' '),
    'exit /b %ERRORLEVEL%',
    '',
  ].join('\r\n')
}

/** The launcher files for a platform: train.sh on Linux/macOS; train.ps1 and train.cmd on Windows. */
export function launchers(spec: LaunchSpec, flavor: ShellFlavor): Record<string, string> {
  if (flavor === 'posix') return { 'train.sh': posixLauncher(spec) }
  const out: Record<string, string> = { 'train.ps1': powershellLauncher(spec) }
  try {
    out['train.cmd'] = cmdLauncher(spec)
  } catch {
    // A value cmd.exe cannot hold (a line break): PowerShell's launcher still carries the run.
  }
  return out
}

/** command.txt: the run as one line to paste (bash on Linux/macOS; PowerShell on Windows). */
export function commandText(spec: LaunchSpec, flavor: ShellFlavor): string {
  if (flavor === 'posix') return `${posixLine(spec)}\n`
  return [comment('#', spec.title), '# PowerShell (cmd.exe: run train.cmd):', powershellLine(spec), ''].join(
    '\r\n',
  )
}
