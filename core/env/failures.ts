import { envText, type EnvCode, type EnvMessage, type EnvParams, type EnvPartName } from './messages'
import type { StepId } from './plan'
import type { FailureKind } from './state'

/**
 * Reads the tail of a failed command's log and says what went wrong in words a user can act on.
 * Patterns cover pip, uv, git and Python's own errors. Order matters: a resolver that could not reach
 * the index also reports packages as missing, so network errors are recognised before bad packages.
 * Error codes (ENOTFOUND, EPERM, …) match as whole words only: the rules are case-insensitive, and
 * "ModuleNotFoundError" must not read as a DNS failure.
 */
const RULES: Array<{ kind: FailureKind; test: RegExp }> = [
  {
    kind: 'disk_full',
    test: /No space left on device|\bENOSPC\b|\[Errno 28\]|not enough space on the disk|There is not enough space/i,
  },
  {
    kind: 'read_only',
    test: /Read-only file system|\b(?:EROFS|EACCES|EPERM)\b|Permission denied|Operation not permitted|Access is denied/i,
  },
  {
    kind: 'tag_missing',
    test: /Remote branch \S+ not found|Could not find remote branch|did not match any file\(s\) known to git/i,
  },
  {
    kind: 'network',
    test: /Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Could not resolve host|getaddrinfo|Connection (?:refused|reset|timed out)|Read timed out|\b(?:ECONNRESET|ECONNREFUSED|ETIMEDOUT|ENOTFOUND)\b|Failed to fetch|error sending request|network is unreachable|SSL: CERTIFICATE_VERIFY_FAILED|unable to access/i,
  },
  {
    kind: 'bad_package',
    test: /No matching distribution found|Could not find a version that satisfies|not found in the package registry|No solution found when resolving|Because [^\n]* was not found|ResolutionImpossible|is not available in the package index|versions? of [^\n]* (?:is|are) not available/i,
  },
]

export interface Diagnosis {
  kind: FailureKind
  message: string
  /** The message's code and parameters (core/env/messages.ts: fail_*); `step` is the step's title. */
  code?: EnvCode
  params?: EnvParams
  /** Messages inside this one (Verify's problems), coded too. */
  parts?: Partial<Record<EnvPartName, EnvMessage[]>>
}

const CODES: Partial<Record<FailureKind, EnvCode>> = {
  disk_full: 'fail_disk_full',
  read_only: 'fail_read_only',
  tag_missing: 'fail_tag_missing',
  network: 'fail_network',
  bad_package: 'fail_bad_package',
}

/** Terminal colour codes and progress-bar carriage returns, removed before reading a log. */
function clean(log: string): string {
  // eslint-disable-next-line no-control-regex
  return log.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r(?!\n)/g, '\n')
}

/** Tools wrap long messages at the terminal width ("No\n space left"): read them as one line. */
function unwrap(text: string): string {
  return text.replace(/[ \t]*\r?\n[ \t]*/g, ' ')
}

/**
 * The lines a message spans: the matching line and the indented lines that continue it (uv writes one
 * sentence over several lines: "╰─▶ Because torch==… was not found … and you\n      require …, we can
 * conclude that your\n      requirements are unsatisfiable."), joined into one line, so it is never
 * cut mid-sentence.
 */
function paragraph(lines: string[], at: number): string {
  const parts = [lines[at]!.trim()]
  for (let i = at + 1; i < lines.length; i++) {
    const l = lines[i]!
    if (!/^\s/.test(l) || /^\s*(?:[×╰├│]|hint:|error:|ERROR:|warning:)/.test(l)) break
    parts.push(l.trim())
  }
  const text = parts.join(' ')
  return text.length > 900 ? `${text.slice(0, 900)}…` : text
}

/** The text that names the problem: the matching message, the matching wrapped sentence, or the last lines. */
function evidence(log: string, test: RegExp | null): string {
  const text = clean(log)
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
  if (test) {
    const at = lines.findLastIndex((l) => test.test(l))
    if (at >= 0) return paragraph(lines, at)
    const flat = unwrap(text)
    const m = test.exec(flat)
    if (m) return flat.slice(Math.max(0, m.index - 160), m.index + m[0].length + 40).trim()
  }
  return lines.slice(-5).join('\n')
}

/**
 * Advice for the step that failed, where the generic one would point at the wrong option or promise
 * what Resume cannot do: the torch step downloads from the torch index (not --index-url), and Resume
 * fetches the same sd-scripts source again, so a source that is wrong must be changed and installed anew.
 */
function stepAdvice(kind: FailureKind, step: StepId | undefined, found: string): EnvCode | null {
  if (step === 'torch' && kind === 'network') return 'fail_torch_network'
  if (step === 'torch' && kind === 'bad_package') return 'fail_torch_bad_package'
  if (step === 'source' && (kind === 'tag_missing' || kind === 'bad_package')) return 'fail_source'
  if (kind === 'bad_package' && BUILD_TOOL_MISSING.test(found)) return 'fail_build_tools_missing'
  return null
}

/**
 * The package the index lacks is one pip and uv build source packages with (sd-scripts' own `-e .`,
 * sdist-only packages): an index made by hand (a wheelhouse) often has every requirement but these.
 * uv: "Because setuptools was not found in the package registry"; pip: "… satisfies the requirement
 * setuptools>=40.8.0", "No matching distribution found for setuptools>=40.8.0".
 */
const BUILD_TOOL_MISSING = /(?:Because|the requirement|found for) (?:setuptools|wheel)(?![\w-])/i

export function diagnose(stepTitle: string, exitCode: number | null, log: string, step?: StepId): Diagnosis {
  const flat = unwrap(clean(log))
  for (const rule of RULES) {
    if (!rule.test.test(flat)) continue
    const found = evidence(log, rule.test)
    const code = stepAdvice(rule.kind, step, found) ?? CODES[rule.kind]
    if (code) return { kind: rule.kind, ...envText(code, { step: stepTitle, evidence: found }) }
  }
  const params = { step: stepTitle, evidence: evidence(log, null) }
  // A source that fails to fetch is not fixed by fetching it again.
  const source = step === 'source'
  return exitCode === null
    ? { kind: 'command', ...envText(source ? 'fail_source_stopped' : 'fail_command_stopped', params) }
    : {
        kind: 'command',
        ...envText(source ? 'fail_source_exit' : 'fail_command_exit', { ...params, exit: exitCode }),
      }
}

/** Node's own file errors (write-file, copy, download) classified the same way. */
export function diagnoseError(stepTitle: string, error: unknown, step?: StepId): Diagnosis {
  const e = error as { code?: string; message?: string }
  const text = `${e.code ?? ''} ${e.message ?? String(error)}`
  return diagnose(stepTitle, null, text, step)
}
