import { z } from 'zod'

/**
 * Every failure that crosses the API boundary is one of these codes. Domain modules add their own
 * codes by using 'domain' with a `details.kind`, so the transport never needs to know about them.
 */
export const ErrorCode = z.enum([
  'unknown_method',
  'bad_request',
  'not_found',
  'conflict',
  'unavailable',
  'timeout',
  'unauthorized',
  'domain',
  'internal',
])
export type ErrorCode = z.infer<typeof ErrorCode>

export const ApiErrorShape = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
})
export type ApiErrorShape = z.infer<typeof ApiErrorShape>

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

/** Turns zod issues into one readable line per problem, with the path that failed. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ')
}
