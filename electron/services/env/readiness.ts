import { ApiError } from '../../../core/api/errors'
import type { EnvRecord } from '../../../core/env/registry'
import { readState } from './runner'

/**
 * What a problem of an existing install's last verify means for a run: these stop sd-scripts from
 * starting (no torch, no torchvision, the scripts do not import). Requirement pins that differ from
 * sd-scripts' (a kohya_ss install has its own) do not, so they do not block.
 */
const BLOCKING_EXTERNAL = new Set(['probe', 'source', 'library', 'torch', 'training_scripts'])

/** The first line of a step's failure message, ending in a full stop. */
function firstSentenceLine(message: string): string {
  const line = (message.split('\n')[0] ?? '').trim()
  return /[.!?]$/.test(line) ? line : `${line}.`
}

function notReady(rec: EnvRecord, message: string, action: 'resume' | 'repair' | 'verify' | 'wait') {
  return new ApiError('domain', message, { kind: 'environment_not_ready', environment: rec.name, action })
}

/**
 * Refuses an environment that is not installed and verified, naming it and what to do: a managed
 * install must have finished (its last step is verify), and no later verify may have failed; an
 * existing install must have passed its last verify (use-existing runs one) on what training needs.
 */
export async function checkReady(rec: EnvRecord): Promise<void> {
  const other = 'or activate another environment'
  const last = rec.lastVerify ?? null
  const problems = (last?.problems ?? []).map((p) => p.message).join(' ')
  if (rec.kind === 'managed') {
    const state = await readState(rec.envDir).catch(() => null)
    if (!state) {
      throw notReady(
        rec,
        `Environment "${rec.name}" has no install record in ${rec.envDir}: it is not installed. Open Environment and click Install, ${other}.`,
        'resume',
      )
    }
    if (state.status === 'running') {
      throw notReady(
        rec,
        `Environment "${rec.name}" is still being installed. Wait for the install to finish and verify, ${other}.`,
        'wait',
      )
    }
    if (state.status !== 'done') {
      const step = state.plan.steps.find((s) => s.id === state.lastError?.step)
      const where = step ? ` at step "${step.title}"` : ''
      const why = state.lastError ? `: ${firstSentenceLine(state.lastError.message)}` : ''
      throw notReady(
        rec,
        `Environment "${rec.name}" is not installed and verified: its install ${state.status === 'interrupted' ? 'was interrupted' : 'failed'}${where}${why || '.'} Open Environment and press Resume (after fixing the cause), ${other}.`,
        'resume',
      )
    }
    if (last && !last.ok && last.at >= state.updatedAt) {
      throw notReady(
        rec,
        `Environment "${rec.name}" does not verify: ${problems} Open Environment and press Repair, ${other}.`,
        'repair',
      )
    }
    return
  }
  if (!last) {
    throw notReady(
      rec,
      `Environment "${rec.name}" (an existing install) has not been verified. Open Environment and press Verify, ${other}.`,
      'verify',
    )
  }
  const blocking = last.problems.filter((p) => BLOCKING_EXTERNAL.has(p.check))
  if (blocking.length) {
    throw notReady(
      rec,
      `Environment "${rec.name}" (an existing install) cannot train: ${blocking.map((p) => p.message).join(' ')} Fix that install (its venv: ${rec.venvPython}), then press Verify on the Environment page, ${other}.`,
      'verify',
    )
  }
}

/** checkReady as a value: null when the environment can train, else the reason and what to do. */
export async function readiness(rec: EnvRecord): Promise<string | null> {
  try {
    await checkReady(rec)
    return null
  } catch (error) {
    if (error instanceof ApiError) return error.message
    throw error
  }
}
