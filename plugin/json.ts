/** Type guards for values that came from JSON or from a caller, so nothing needs a cast to read them. */

/** A plain object (not null, not an array). */
export function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The `code` of an error-like value (Node's and undici's errors carry one), else undefined. */
export function errorCode (error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined
  const code: unknown = Reflect.get(error, 'code')
  return typeof code === 'string' ? code : undefined
}

/** An error's message, or the value as text. */
export function errorMessage (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Whether `value` is one of `list` (a literal union's values). */
export function isOneOf<T extends string> (list: readonly T[], value: string): value is T {
  return list.some((item) => item === value)
}
