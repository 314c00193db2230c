/** zod's sources carry `@__PURE__` notes that Rollup cannot place; harmless, and noisy in every build. */
export function quietAnnotations(warning: { code?: string }, warn: (warning: never) => void): void {
  if (warning.code !== 'INVALID_ANNOTATION') warn(warning as never)
}
