import { z } from 'zod'
import { ApiError, ERROR_CODES, type ApiErrorShape as ApiErrorShapeType } from './api-error'

export { ApiError }

/**
 * Every failure that crosses the API boundary is one of these codes. Domain modules add their own
 * codes by using 'domain' with a `details.kind`, so the transport never needs to know about them.
 */
export const ErrorCode = z.enum(ERROR_CODES)
export type ErrorCode = z.infer<typeof ErrorCode>

export const ApiErrorShape: z.ZodType<ApiErrorShapeType> = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
})
export type ApiErrorShape = ApiErrorShapeType

/** Turns zod issues into one readable line per problem, with the path that failed. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ')
}
