import { ApiError, type ErrorCode } from '../../../core/api/errors'
import { envText, type EnvCode, type EnvParams } from '../../../core/env/messages'

/**
 * A refusal of the environment domain: the English text (what the CLI prints), with its code and
 * parameters in the details beside `kind` and whatever else callers read, so the UI shows it in its
 * language.
 */
export function envError(
  status: ErrorCode,
  code: EnvCode,
  params: EnvParams = {},
  details: Record<string, unknown> = {},
): ApiError {
  return new ApiError(status, envText(code, params).message, { ...details, code, params })
}
