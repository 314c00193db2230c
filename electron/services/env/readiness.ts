import { ApiError } from '../../../core/api/errors'
import { envText, envTextWithParts, type EnvMessage } from '../../../core/env/messages'
import type { EnvRecord, LastVerify } from '../../../core/env/registry'
import { readState } from './runner'

/**
 * What a problem of an existing install's last verify means for a run: these stop sd-scripts from
 * starting (no torch, no torchvision, the scripts do not import). Requirement pins that differ from
 * sd-scripts' (a kohya_ss install has its own) do not, so they do not block.
 */
const BLOCKING_EXTERNAL = new Set(['probe', 'source', 'library', 'torch', 'training_scripts'])

type Action = 'resume' | 'repair' | 'verify' | 'wait'

/** Why an environment cannot train, coded (core/env/messages.ts: ready_*), and what to do. */
export interface NotReady extends EnvMessage {
  action: Action
}

const problemsOf = (list: LastVerify['problems']): EnvMessage[] =>
  list.map(({ message, code, params }) => ({ message, code, params }))

/**
 * Why the environment is not installed and verified, naming it and what to do; null when it can
 * train. A managed install must have finished (its last step is verify), and no later verify may have
 * failed; an existing install must have passed its last verify (use-existing runs one) on what
 * training needs.
 */
export async function notReadyReason(rec: EnvRecord): Promise<NotReady | null> {
  const env = rec.name
  const last = rec.lastVerify ?? null
  if (rec.kind === 'managed') {
    const state = await readState(rec.envDir).catch(() => null)
    if (!state) return { ...envText('ready_not_installed', { env, dir: rec.envDir }), action: 'resume' }
    if (state.status === 'running') return { ...envText('ready_installing', { env }), action: 'wait' }
    if (state.status !== 'done') {
      const failure = state.lastError
      const interrupted = state.status === 'interrupted'
      if (!failure) {
        const code = interrupted ? 'ready_interrupted_unknown' : 'ready_failed_unknown'
        return { ...envText(code, { env }), action: 'resume' }
      }
      const title = state.plan.steps.find((s) => s.id === failure.step)?.title ?? failure.step
      const cause: EnvMessage = {
        message: failure.message,
        code: failure.code,
        params: failure.params,
        parts: failure.parts,
        step: failure.step,
      }
      // A failed verify: its problems say what to fix (the torch a user installs, a missing package).
      const problems = failure.parts?.problemLines
      if (problems && !interrupted) {
        return {
          ...envTextWithParts('ready_verify_failed', { env, step: title }, { problems }),
          step: failure.step,
          action: 'resume',
        }
      }
      const code = interrupted ? 'ready_interrupted' : 'ready_failed'
      return {
        ...envTextWithParts(code, { env, step: title }, { cause: [cause] }),
        step: failure.step,
        action: 'resume',
      }
    }
    if (last && !last.ok && last.at >= state.updatedAt) {
      return {
        ...envTextWithParts('ready_broken', { env }, { problems: problemsOf(last.problems) }),
        action: 'repair',
      }
    }
    return null
  }
  if (!last) return { ...envText('ready_external_unverified', { env }), action: 'verify' }
  const blocking = last.problems.filter((p) => BLOCKING_EXTERNAL.has(p.check))
  if (blocking.length) {
    return {
      ...envTextWithParts(
        'ready_external_broken',
        { env, python: rec.venvPython },
        { problems: problemsOf(blocking) },
      ),
      action: 'verify',
    }
  }
  return null
}

/** The reason as a message (the action is the caller's to act on). */
export function withoutAction(reason: NotReady): EnvMessage {
  const { action, ...message } = reason
  void action
  return message
}

/** Refuses an environment that is not installed and verified (the reason coded in details.reason). */
export async function checkReady(rec: EnvRecord): Promise<void> {
  const reason = await notReadyReason(rec)
  if (!reason) return
  throw new ApiError('domain', reason.message, {
    kind: 'environment_not_ready',
    environment: rec.name,
    action: reason.action,
    reason: withoutAction(reason),
  })
}

/** checkReady as a value: null when the environment can train, else the reason and what to do. */
export async function readiness(rec: EnvRecord): Promise<string | null> {
  return (await notReadyReason(rec))?.message ?? null
}
