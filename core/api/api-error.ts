/**
 * The ApiError class without zod, so the renderer's client bundle does not pull the schema library
 * in just to rethrow errors. core/api/errors.ts builds the zod schemas from the same code list.
 */
export const ERROR_CODES = [
  'unknown_method',
  'bad_request',
  'not_found',
  'conflict',
  'unavailable',
  'timeout',
  'unauthorized',
  'domain',
  'internal',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ApiErrorShape {
  code: ErrorCode
  message: string
  details?: unknown
}

/** Thrown by handlers and by clients; serialised as ApiErrorShape on the wire. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly details: unknown
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.details = details
  }
  toJSON(): ApiErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
  static from(shape: ApiErrorShape): ApiError {
    return new ApiError(shape.code, shape.message, shape.details)
  }
}
